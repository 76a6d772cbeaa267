/**
 * @module cli/flag-parsers
 * Parsers for option values. They throw commander's InvalidArgumentError, so a bad value is reported
 * like any other usage error: one line naming the option, exit code 1.
 */
import { InvalidArgumentError } from 'commander';

/** A TCP port, 0 (any free port) to 65535. */
export function parsePort(value: string): number {
  const port = parseWhole(value);
  if (port === undefined || port > 65535)
    throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  return port;
}

/** A whole number of at least 1. */
export function parsePositiveInt(value: string): number {
  const number = parseWhole(value);
  if (number === undefined || number < 1)
    throw new InvalidArgumentError('expected a whole number of at least 1.');
  return number;
}

/** A duration in seconds (whole or decimal, more than 0), returned in milliseconds. */
export function parseSecondsAsMs(value: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(seconds > 0)) throw new InvalidArgumentError('expected a number of seconds greater than 0.');
  return Math.round(seconds * 1000);
}

const JOB_STATUSES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Cancelled', 'Suspended'];

/** A comma-separated list of job statuses (case-insensitive), normalised to OSCAR's spelling. */
export function parseJobStatuses(value: string): string[] {
  const statuses = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (statuses.length === 0)
    throw new InvalidArgumentError(`expected one or more of ${JOB_STATUSES.join(', ')}.`);
  return statuses.map((status) => {
    const known = JOB_STATUSES.find((candidate) => candidate.toLowerCase() === status.toLowerCase());
    if (known === undefined)
      throw new InvalidArgumentError(`unknown status "${status}"; expected ${JOB_STATUSES.join(', ')}.`);
    return known;
  });
}

/**
 * A Slurm time limit in one of the forms sbatch's `--time` takes: `minutes`, `minutes:seconds`,
 * `hours:minutes:seconds`, `days-hours`, `days-hours:minutes`, `days-hours:minutes:seconds`.
 */
export function parseSlurmTime(value: string): string {
  const time = value.trim();
  if (!/^(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2})$/.test(time))
    throw new InvalidArgumentError(
      'expected a Slurm time limit: minutes, minutes:seconds, hours:minutes:seconds or days-hours[:minutes[:seconds]].',
    );
  return time;
}

/** A Slurm memory size as sbatch's `--mem` takes it: a whole number with an optional K, M, G or T unit. */
export function parseSlurmMemory(value: string): string {
  const memory = value.trim().toUpperCase();
  if (!/^[1-9]\d*[KMGT]?$/.test(memory))
    throw new InvalidArgumentError(
      'expected a memory size such as 512M or 4G (units K, M, G, T; M when none).',
    );
  return memory;
}

/** A Slurm generic resource list as sbatch's `--gres` takes it, e.g. `gpu:1` or `gpu:a100:2,shard:1`. */
export function parseSlurmGres(value: string): string {
  const gres = value.trim();
  if (!/^[A-Za-z][\w.-]*(:[\w.-]+)*(,[A-Za-z][\w.-]*(:[\w.-]+)*)*$/.test(gres))
    throw new InvalidArgumentError(
      'expected generic resources such as gpu:1 or gpu:a100:2 (comma-separated).',
    );
  return gres;
}

function parseWhole(value: string): number | undefined {
  return /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}
