/**
 * @module executors/hybrid/hybrid-run
 * Runs one attempt of a job by its service's execution mode: on its own executor (no mode), on the
 * executor of the function or the batch role, or (`function-batch`) on the function executor first and,
 * when the job outgrows it, on the batch executor: at once when it asks for more memory or a GPU than the
 * function executor declares, or after it ran into the function executor's time limit. Every run is
 * reported (JobRun) so the job's history shows both.
 */
import type { ErrorData } from '../../core/index.js';
import type { JobRun } from '../../events/index.js';
import type { ExecutionMode, ServiceSpec } from '../../fdl/service-spec.js';
import type { Executor, InvocationResult } from '../executor.js';
import { functionTimeout, outgrows, type ExecutionRoles } from './execution-roles.js';

export interface HybridRunOptions {
  service: ServiceSpec;
  mode: ExecutionMode | null;
  roles: ExecutionRoles;
  executor(name: string): Executor;
  /** The attempt these runs belong to (1 = first). */
  attempt: number;
  signal: AbortSignal;
  /** Runs the job once on `executor` with `service` (its time limit possibly lowered); `step` counts from 0. */
  run(executor: Executor, service: ServiceSpec, step: number): Promise<InvocationResult>;
}

export interface HybridRunResult {
  result: InvocationResult;
  runs: JobRun[];
}

/** Runs the attempt; resolves with the last run's result and every run made (skipped ones included). */
export async function runByMode(options: HybridRunOptions): Promise<HybridRunResult> {
  const { service, mode, roles, attempt } = options;
  const runs: JobRun[] = [];
  const record = (executor: Executor, role: JobRun['role'], result: InvocationResult, note: string | null) =>
    runs.push({
      attempt,
      executor: executor.name,
      role,
      status: result.status,
      exitCode: result.exitCode,
      error: result.error,
      startedMs: result.startedMs,
      finishedMs: result.finishedMs,
      note,
    });

  if (mode === null || mode === 'batch') {
    const executor = options.executor(mode === null ? service.executor : roles.batch);
    const result = await options.run(executor, service, 0);
    record(executor, mode === null ? null : 'batch', result, null);
    return { result, runs };
  }

  const fn = options.executor(roles.function);
  const reasons = outgrows(service, fn.capabilities);
  if (reasons.length > 0) {
    const why = `the ${fn.name} executor cannot run it: ${reasons.join('; ')}`;
    if (mode === 'function') {
      const result = refused(why);
      record(fn, 'function', result, null);
      return { result, runs };
    }
    const now = Date.now();
    runs.push({
      attempt,
      executor: fn.name,
      role: 'function',
      status: 'skipped',
      exitCode: null,
      error: null,
      startedMs: now,
      finishedMs: now,
      note: `${why}; submitted to the batch executor (${roles.batch})`,
    });
    const batch = options.executor(roles.batch);
    const result = await options.run(batch, service, 1);
    record(batch, 'batch', result, null);
    return { result, runs };
  }

  const limit = functionTimeout(service, fn.capabilities);
  const first = await options.run(fn, { ...service, timeoutMs: limit.timeoutMs }, 0);
  const outgrown =
    mode === 'function-batch' &&
    limit.capped &&
    first.error?.code === 'JOB_TIMEOUT' &&
    !options.signal.aborted;
  if (!outgrown) {
    record(fn, 'function', first, null);
    return { result: first, runs };
  }
  record(
    fn,
    'function',
    first,
    `ran past the ${fn.name} executor's limit of ${limit.timeoutMs} ms; resubmitted to the batch executor (${roles.batch})`,
  );
  const batch = options.executor(roles.batch);
  const result = await options.run(batch, service, 1);
  record(batch, 'batch', result, null);
  return { result, runs };
}

function refused(message: string): InvocationResult {
  const now = Date.now();
  const error: ErrorData = { code: 'EXECUTOR_LIMITS_EXCEEDED', message, retryable: false };
  return {
    status: 'failed',
    exitCode: null,
    termSignal: null,
    error,
    outputs: [],
    outputFiles: [],
    outputDir: '',
    startedMs: now,
    finishedMs: now,
  };
}
