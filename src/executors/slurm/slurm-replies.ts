/**
 * @module executors/slurm/slurm-replies
 * Strict parsers of what Slurm's commands print: `sbatch --parsable`, `squeue --json` (OpenAPI v0.0.38 as
 * Slurm 22.05 prints it, and the list-valued `job_state` and object-valued `exit_code` of later versions),
 * the compact squeue of given jobs that the executor polls (`squeueTaskArgs`), and
 * `sacct --parsable2 --noheader`. Anything else fails with SLURM_REPLY_INVALID quoting what was seen,
 * rather than being guessed at.
 */
import { z } from 'zod';
import { PlatformError } from '../../core/index.js';

/** Job states Slurm documents (squeue(1) "JOB STATE CODES"). */
export const SLURM_JOB_STATES = [
  'BOOT_FAIL',
  'CANCELLED',
  'COMPLETED',
  'COMPLETING',
  'CONFIGURING',
  'DEADLINE',
  'FAILED',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'PENDING',
  'PREEMPTED',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'RESIZING',
  'RESV_DEL_HOLD',
  'REVOKED',
  'RUNNING',
  'SIGNALING',
  'SPECIAL_EXIT',
  'STAGE_OUT',
  'STOPPED',
  'SUSPENDED',
  'TIMEOUT',
] as const;

export type SlurmJobState = (typeof SLURM_JOB_STATES)[number];

/** States after which a job runs no more. */
const TERMINAL_STATES: ReadonlySet<SlurmJobState> = new Set([
  'BOOT_FAIL',
  'CANCELLED',
  'COMPLETED',
  'DEADLINE',
  'FAILED',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'PREEMPTED',
  'REVOKED',
  'SPECIAL_EXIT',
  'TIMEOUT',
]);

export function isTerminal(state: SlurmJobState): boolean {
  return TERMINAL_STATES.has(state);
}

/** One line of squeue, resolved: `id` is `123` for a plain job, `123_4` for an array task. */
export interface SlurmJobStatus {
  id: string;
  /** The job id Slurm gave at submission (the array's for array tasks). */
  submittedId: number;
  /** The array task, or null for a plain job and for a pending array's not-yet-split record. */
  arrayTaskId: number | null;
  /** For a pending array's record: the tasks it still holds (`0-99`, `3,5-9`); null otherwise. */
  pendingTasks: string | null;
  name: string;
  state: SlurmJobState;
  /** The batch script's exit code, or null while running or when a signal ended it. */
  exitCode: number | null;
  /** The signal that ended the batch script, or null. */
  signal: number | null;
  reason: string;
}

/** The job id `sbatch --parsable` prints (`123`, or `123;cluster` on a federation). */
export function parseSbatchReply(stdout: string): number {
  const match = /^(\d+)(;[A-Za-z0-9_.-]+)?\n?$/.exec(stdout);
  if (match === null) throw invalidReply('sbatch --parsable', stdout);
  return Number(match[1]);
}

const stateSchema = z.enum(SLURM_JOB_STATES);

const jobStateSchema = z.union([
  stateSchema,
  // Later versions: a list whose first entry is the base state, followed by flags.
  z
    .array(z.string())
    .min(1)
    .transform((states, ctx) => {
      const base = stateSchema.safeParse(states[0]);
      if (base.success) return base.data;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `unknown job state ${String(states[0])}` });
      return z.NEVER;
    }),
]);

/** 22.05: the wait(2) status as a number; later: `{ status, return_code, signal: { id } }`. */
const exitCodeSchema = z.union([
  z
    .number()
    .int()
    .min(0)
    .transform((status) => waitStatus(status)),
  z
    .object({
      status: z.union([z.string(), z.array(z.string())]).optional(),
      return_code: z.union([z.number().int(), z.object({ number: z.number().int() }).passthrough()]),
      signal: z
        .object({ id: z.union([z.number().int(), z.object({ number: z.number().int() }).passthrough()]) })
        .passthrough()
        .optional(),
    })
    .passthrough()
    .transform((value) => {
      const code = typeof value.return_code === 'number' ? value.return_code : value.return_code.number;
      const rawSignal = value.signal?.id;
      const signal =
        rawSignal === undefined ? 0 : typeof rawSignal === 'number' ? rawSignal : rawSignal.number;
      return signal > 0 ? { exitCode: null, signal } : { exitCode: code, signal: null };
    }),
]);

const nullableInt = z.union([
  z.number().int().min(0),
  z.null(),
  // Later versions wrap numbers: `{ set, infinite, number }`.
  z
    .object({ set: z.boolean(), number: z.number().int() })
    .passthrough()
    .transform((value) => (value.set ? value.number : null)),
]);

const squeueJobSchema = z
  .object({
    job_id: z.number().int().positive(),
    array_job_id: nullableInt,
    array_task_id: nullableInt,
    array_task_string: z.string().optional(),
    name: z.string(),
    job_state: jobStateSchema,
    state_reason: z.string(),
    exit_code: exitCodeSchema,
  })
  // squeue prints some hundred fields; only these are read, and they are checked.
  .passthrough();

const squeueSchema = z
  .object({
    jobs: z.array(squeueJobSchema),
    errors: z.array(z.unknown()),
  })
  .passthrough();

/** Parses `squeue --json`; a reply with errors or of an unknown shape is SLURM_REPLY_INVALID. */
export function parseSqueueJson(stdout: string): SlurmJobStatus[] {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw invalidReply('squeue --json', stdout);
  }
  const parsed = squeueSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new PlatformError(
      'SLURM_REPLY_INVALID',
      `squeue --json answered an unknown shape: ${issues.join('; ')}`,
      {
        details: { issues },
      },
    );
  }
  if (parsed.data.errors.length > 0) {
    throw new PlatformError(
      'SLURM_REPLY_INVALID',
      `squeue --json reported errors: ${JSON.stringify(parsed.data.errors)}`,
    );
  }
  return parsed.data.jobs.map((job) => {
    const arrayJobId = job.array_job_id ?? 0;
    const isArray = arrayJobId > 0;
    const taskId = isArray ? job.array_task_id : null;
    const pendingTasks = isArray && taskId === null ? (job.array_task_string ?? '') || null : null;
    const submittedId = isArray ? arrayJobId : job.job_id;
    return {
      id: taskId === null ? String(submittedId) : `${submittedId}_${taskId}`,
      submittedId,
      arrayTaskId: taskId,
      pendingTasks,
      name: job.name,
      state: job.job_state,
      exitCode: job.exit_code.exitCode,
      signal: job.exit_code.signal,
      reason: job.state_reason,
    };
  });
}

/**
 * squeue's arguments for the states of the tasks of `jobIds` (submitted ids), one task a line, whatever
 * their state (finished ones stay listed for MinJobAge): `123_4|RUNNING|0|`. Fields sized 0 are printed
 * whole (a sized field is cut), each ended by its `|`. Far cheaper than `--json` for the poll, which runs
 * every second while jobs are out: squeue prints three short fields instead of a hundred, for our jobs only.
 */
export function squeueTaskArgs(jobIds: readonly number[]): string[] {
  return [
    '--noheader',
    '--array',
    '--states=all',
    `--jobs=${jobIds.join(',')}`,
    '--Format=JobArrayID:0|,State:0|,exit_code:0|',
  ];
}

/** One task's line of `squeueTaskArgs`. */
export interface SlurmTaskState {
  /** `123` for a plain job, `123_4` for an array task. */
  id: string;
  state: SlurmJobState;
  /** The batch script's exit code, or null while running or when a signal ended it. */
  exitCode: number | null;
  signal: number | null;
}

/**
 * Parses the reply of `squeue squeueTaskArgs(…)` given its exit code and stderr: every line must be
 * `<id>|<STATE>|<exit>|`, the exit a wait(2) status (22.05) or `code:signal`; anything else is
 * SLURM_REPLY_INVALID quoting the line. A lone id Slurm no longer knows is an empty list, as squeue
 * answers for several.
 */
export function parseSqueueTasks(reply: {
  exitCode: number;
  stdout: string;
  stderr: string;
}): SlurmTaskState[] {
  if (reply.exitCode !== 0) {
    if (/Invalid job id specified/.test(reply.stderr) && reply.stdout.trim() === '') return [];
    throw new PlatformError(
      'SLURM_REJECTED',
      `squeue failed: ${reply.stderr.trim() || `exit code ${reply.exitCode}`}`,
      { retryable: true, details: { command: 'squeue', exitCode: reply.exitCode } },
    );
  }
  const tasks: SlurmTaskState[] = [];
  for (const line of reply.stdout.split('\n')) {
    if (line === '') continue;
    const match = /^(\d+(?:_\d+)?)\|([A-Z_]+)\|(?:(\d+)|(\d+):(\d+))\|$/.exec(line);
    const state = stateSchema.safeParse(match?.[2]);
    if (match === null || !state.success) throw invalidReply('squeue', line);
    const { exitCode, signal } =
      match[3] !== undefined
        ? waitStatus(Number(match[3]))
        : Number(match[5]) > 0
          ? { exitCode: null, signal: Number(match[5]) }
          : { exitCode: Number(match[4]), signal: null };
    tasks.push({ id: match[1] ?? '', state: state.data, exitCode, signal });
  }
  return tasks;
}

/** One line of `sacct -X -P -n -o JobID,State,ExitCode`. */
export interface SacctRecord {
  id: string;
  state: SlurmJobState;
  exitCode: number | null;
  signal: number | null;
}

/** Parses `sacct --parsable2 --noheader --allocations --format=JobID,State,ExitCode`. */
export function parseSacct(stdout: string): SacctRecord[] {
  const records: SacctRecord[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const match = /^(\d+(?:_\d+)?)\|([A-Z_]+)(?: by \d+)?\|(\d+):(\d+)$/.exec(line);
    const state = stateSchema.safeParse(match?.[2]);
    if (match === null || !state.success) throw invalidReply('sacct', line);
    const signal = Number(match[4]);
    records.push({
      id: match[1] ?? '',
      state: state.data,
      exitCode: signal > 0 ? null : Number(match[3]),
      signal: signal > 0 ? signal : null,
    });
  }
  return records;
}

/** Whether array task `taskId` is in a squeue task expression such as `0-99`, `3,5-9` or `0-99%10`. */
export function taskStringIncludes(expression: string, taskId: number): boolean {
  const withoutLimit = expression.split('%')[0] ?? '';
  return withoutLimit.split(',').some((part) => {
    const range = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part);
    if (range === null) return false;
    const start = Number(range[1]);
    const end = range[2] === undefined ? start : Number(range[2]);
    const step = range[3] === undefined ? 1 : Number(range[3]);
    return taskId >= start && taskId <= end && (taskId - start) % step === 0;
  });
}

function waitStatus(status: number): { exitCode: number | null; signal: number | null } {
  const signal = status & 0x7f;
  if (signal !== 0) return { exitCode: null, signal };
  return { exitCode: (status >> 8) & 0xff, signal: null };
}

function invalidReply(command: string, output: string): PlatformError {
  const shown = output.length > 200 ? `${output.slice(0, 200)}…` : output;
  return new PlatformError(
    'SLURM_REPLY_INVALID',
    `${command} answered something unexpected: ${JSON.stringify(shown)}`,
  );
}
