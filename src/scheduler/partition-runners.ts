/**
 * @module scheduler/partition-runners
 * How a site agent runs a leased partition: as a local child process, or as a Slurm job (`nubes worker
 * --slurm`). Either way the partition's process gets the NUBES_* variables and reports its own progress;
 * the agent only learns when it ends (exit code, log tail) and can stop it.
 *
 * The Slurm runner submits one `sbatch --parsable` job per partition whose script exports the partition's
 * variables and runs its command, follows all of its jobs with one `squeue --json` per poll (parsed
 * strictly, executors/slurm), and stops them with `scancel`. Its folder must be one the compute nodes
 * share with the agent at the same path (the job's log is written there).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { Logger } from '../core/index.js';
import { toPlatformError } from '../core/index.js';
import { shellQuote } from '../executors/slurm/sbatch-script.js';
import { SlurmCli } from '../executors/slurm/slurm-cli.js';
import { isTerminal, parseSbatchReply, parseSqueueJson } from '../executors/slurm/slurm-replies.js';

/** How a partition ended. */
export interface PartitionExit {
  code: number | null;
  signal: string | null;
  /** The end of its output (stdout and stderr). */
  log: string;
}

export interface PartitionProcess {
  readonly exited: Promise<PartitionExit>;
  /** Asks it to stop (SIGTERM, or scancel). */
  stop(): void;
}

export interface PartitionRunner {
  /** Starts `argv` with `env` in `dir` (a fresh folder of its own); `name` labels it (`<job>-<index>`). */
  start(options: {
    argv: string[];
    env: Record<string, string>;
    dir: string;
    name: string;
  }): Promise<PartitionProcess>;
  close(): Promise<void>;
}

const LOG_TAIL_BYTES = 64 * 1024;

/** Runs partitions as child processes of the agent, with the agent's environment. */
export function localPartitionRunner(baseEnv: NodeJS.ProcessEnv): PartitionRunner {
  return {
    start({ argv, env, dir }) {
      const [program, ...args] = argv;
      const child = spawn(program ?? 'false', args, {
        cwd: dir,
        env: { ...baseEnv, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      const append = (chunk: Buffer) => {
        log = (log + chunk.toString('utf8')).slice(-LOG_TAIL_BYTES);
      };
      child.stdout.on('data', append);
      child.stderr.on('data', append);
      const exited = new Promise<PartitionExit>((resolve) => {
        child.on('error', (error) => append(Buffer.from(`\n${error.message}\n`)));
        child.on('close', (code, signal) => resolve({ code, signal, log }));
      });
      return Promise.resolve({ exited, stop: () => child.kill('SIGTERM') });
    },
    close: () => Promise.resolve(),
  };
}

export interface SlurmPartitionOptions {
  partition?: string;
  account?: string;
  qos?: string;
  /** sbatch `--time`, in one of Slurm's forms (`30`, `2:00:00`, `1-12`). */
  time?: string;
  cpusPerTask?: number;
  /** sbatch `--mem` (`512M`, `4G`). */
  memory?: string;
  /** sbatch `--gres` (`gpu:1`). */
  gres?: string;
  /** slurm.conf for the commands (SLURM_CONF). */
  slurmConf?: string;
  /** How often squeue is read. @default 1000 */
  pollMs?: number;
  /** The agent's environment: sbatch passes it to the jobs (Slurm's default `--export=ALL`). */
  baseEnv: NodeJS.ProcessEnv;
  logger?: Pick<Logger, 'warn'>;
}

interface SlurmPartition {
  id: string;
  dir: string;
  misses: number;
  resolve(exit: PartitionExit): void;
}

/** sbatch attempts when the controller cannot be reached. */
const SBATCH_ATTEMPTS = 3;

/** squeue passes a job may be missing from before it is taken as ended (it may be between states). */
const MISSES_BEFORE_GONE = 3;

/** Submits each partition as a Slurm job. */
export function slurmPartitionRunner(options: SlurmPartitionOptions): PartitionRunner {
  // The jobs get the agent's environment, as a user's sbatch would give them the user's.
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.baseEnv)) if (value !== undefined) env[name] = value;
  if (options.slurmConf !== undefined) env.SLURM_CONF = options.slurmConf;
  const cli = new SlurmCli({ binDir: undefined, slurmConf: options.slurmConf, env });
  const jobs = new Map<string, SlurmPartition>();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const finish = async (job: SlurmPartition, code: number | null, signal: string | null) => {
    jobs.delete(job.id);
    const log = await readFile(join(job.dir, 'partition.log'), 'utf8').catch(() => '');
    job.resolve({ code, signal, log: log.slice(-LOG_TAIL_BYTES) });
  };

  const poll = async () => {
    timer = null;
    if (jobs.size === 0 || closed) return;
    try {
      const statuses = new Map(
        parseSqueueJson(await cli.expect('squeue', ['--json'])).map((status) => [status.id, status]),
      );
      for (const job of [...jobs.values()]) {
        const status = statuses.get(job.id);
        if (status === undefined) {
          if (++job.misses >= MISSES_BEFORE_GONE) await finish(job, null, 'gone from squeue');
        } else if (isTerminal(status.state)) {
          const signal =
            status.signal === null
              ? status.state === 'COMPLETED' || status.state === 'FAILED'
                ? null
                : status.state
              : `signal ${status.signal}`;
          await finish(job, status.exitCode, signal);
        }
      }
    } catch (error) {
      options.logger?.warn({ error: toPlatformError(error).toData() }, 'cannot read the state of Slurm jobs');
    }
    schedule();
  };
  const schedule = () => {
    if (timer === null && jobs.size > 0 && !closed)
      timer = setTimeout(() => void poll(), options.pollMs ?? 1000);
  };

  /** sbatch, tried again when slurmctld could not be reached (a busy controller answers late). */
  const submit = async (args: string[]): Promise<string> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await cli.expect('sbatch', args);
      } catch (error) {
        if (attempt >= SBATCH_ATTEMPTS || !toPlatformError(error).retryable) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  };

  return {
    async start({ argv, env: partitionEnv, dir, name }) {
      const exports = Object.entries(partitionEnv).map(
        ([key, value]) => `export ${key}=${shellQuote(value)}`,
      );
      const script = [
        '#!/bin/sh',
        `cd ${shellQuote(dir)}`,
        ...exports,
        `exec ${argv.map(shellQuote).join(' ')}`,
        '',
      ];
      await writeFile(join(dir, 'partition.sh'), script.join('\n'), { mode: 0o700 });
      const args = partitionSbatchArgs(options, { dir, name });
      const id = String(parseSbatchReply(await submit(args)));
      const exited = new Promise<PartitionExit>((resolve) => {
        jobs.set(id, { id, dir, misses: 0, resolve });
      });
      schedule();
      return {
        exited,
        stop: () => {
          void cli.expect('scancel', [id]).catch((error: unknown) => {
            options.logger?.warn({ error: toPlatformError(error).toData(), id }, 'scancel failed');
          });
        },
      };
    },
    async close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      const ids = [...jobs.keys()];
      if (ids.length > 0) await cli.expect('scancel', ids).catch(() => undefined);
      await Promise.all([...jobs.values()].map((job) => finish(job, null, 'the agent stopped')));
    },
  };
}

/** The sbatch arguments of a partition's job: its name, folder and log, and the site's resource options. */
export function partitionSbatchArgs(
  options: Pick<
    SlurmPartitionOptions,
    'partition' | 'account' | 'qos' | 'time' | 'cpusPerTask' | 'memory' | 'gres'
  >,
  job: { dir: string; name: string },
): string[] {
  const optional = (flag: string, value: string | number | undefined) =>
    value === undefined ? [] : [`--${flag}=${value}`];
  return [
    '--parsable',
    `--job-name=nubes-partition-${job.name}`.slice(0, 120),
    '--nodes=1',
    '--ntasks=1',
    '--no-requeue',
    `--chdir=${job.dir}`,
    `--output=${join(job.dir, 'partition.log')}`,
    ...optional('partition', options.partition),
    ...optional('account', options.account),
    ...optional('qos', options.qos),
    ...optional('time', options.time),
    ...optional('cpus-per-task', options.cpusPerTask),
    ...optional('mem', options.memory),
    ...optional('gres', options.gres),
    join(job.dir, 'partition.sh'),
  ];
}
