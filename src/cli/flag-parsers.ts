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

function parseWhole(value: string): number | undefined {
  return /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}
