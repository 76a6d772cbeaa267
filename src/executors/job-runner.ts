/**
 * @module executors/job-runner
 * Runs a queued job or a sync call on its service's executor: prepares the work folder and the log file,
 * builds the Invocation, and cleans up afterwards. Logs stay in `<dataDir>/logs/<service>/<job>.log`.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, ExecutionRolesConfig, Logger } from '../core/index.js';
import { PlatformError, newJobId } from '../core/index.js';
import type { JobOutcome, JobRecord, ServiceRecord } from '../events/index.js';
import { specForInput } from '../fdl/index.js';
import type { ServiceSpec } from '../fdl/service-spec.js';
import type { Executor, Invocation, InvocationResult } from './executor.js';
import { rolesFor } from './hybrid/execution-roles.js';
import { runByMode } from './hybrid/hybrid-run.js';

export interface JobRunnerOptions {
  dataDir: string;
  executor: (name: string) => Executor;
  logger: Logger;
  clock: Clock;
  /** Executors of the function and batch roles (hybrid execution). @default local for both */
  executionRoles?: ExecutionRolesConfig;
}

const LOCAL_ROLES: ExecutionRolesConfig = { function: 'local', batch: 'local', rules: [] };

/** Largest log returned inline (sync answers, API reads); the file may hold more. */
const MAX_INLINE_LOG_BYTES = 10 * 1024 * 1024;

export class JobRunner {
  private readonly workRoot: string;
  private readonly logRoot: string;

  constructor(private readonly options: JobRunnerOptions) {
    this.workRoot = join(options.dataDir, 'work');
    this.logRoot = join(options.dataDir, 'logs');
  }

  logPath(service: string, jobId: string): string {
    return join(this.logRoot, service, `${jobId}.log`);
  }

  async readLog(service: string, jobId: string): Promise<string | null> {
    try {
      const data = await readFile(this.logPath(service, jobId));
      return data.subarray(0, MAX_INLINE_LOG_BYTES).toString('utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async deleteLog(service: string, jobId: string): Promise<void> {
    await rm(this.logPath(service, jobId), { force: true });
  }

  async deleteServiceLogs(service: string): Promise<void> {
    await rm(join(this.logRoot, service), { recursive: true, force: true });
  }

  /** Removes work folders left by a crash (start-up only). */
  async cleanWorkRoot(): Promise<void> {
    await rm(this.workRoot, { recursive: true, force: true });
    await mkdir(this.workRoot, { recursive: true, mode: 0o700 });
  }

  /**
   * Runs one attempt of a queued job: on its service's executor, or by its execution mode (hybrid/), in
   * which case the log keeps every run under a header of its own.
   */
  async runQueued(job: JobRecord, service: ServiceRecord, signal: AbortSignal): Promise<JobOutcome> {
    const logPath = this.logPath(service.name, job.id);
    await mkdir(join(this.logRoot, service.name), { recursive: true });
    // A job on a user's private copy of an input writes into that user's copies (isolation_level USER).
    const spec = specForInput(service, job.inputBucket);
    const roles = rolesFor(spec, this.options.executionRoles ?? LOCAL_ROLES);
    const earlierLogs: string[] = [];
    const { result, runs } = await runByMode({
      service: spec,
      mode: spec.executionMode,
      roles,
      executor: this.options.executor,
      attempt: job.attempts,
      signal,
      run: async (executor, runSpec, step) => {
        if (step > 0) {
          // The job moves on: what it printed so far stays, above the next run's log.
          const before = await readFile(logPath, 'utf8').catch(() => '');
          earlierLogs.push(before);
        }
        return this.runOnce(job, executor, runSpec, step, logPath, signal);
      },
    });
    if (runs.length > 1) {
      const parts = runs.map((run, index) => {
        const header = `=== run ${index + 1}: ${run.role ?? 'executor'} on ${run.executor}: ${run.status}${run.note === null ? '' : ` (${run.note})`} ===\n`;
        const text = index < runs.length - 1 ? (earlierLogs[index] ?? '') : null;
        return { header, text };
      });
      const last = await readFile(logPath, 'utf8').catch(() => '');
      const composed = parts
        .map((part, index) => part.header + (index === parts.length - 1 ? last : (part.text ?? '')))
        .map((text) => (text.endsWith('\n') ? text : `${text}\n`))
        .join('');
      await writeFile(logPath, composed);
    }
    return {
      status: result.status,
      exitCode: result.exitCode,
      error: result.error,
      startedMs: runs[0]?.startedMs ?? result.startedMs,
      finishedMs: result.finishedMs,
      runs,
    };
  }

  /** One run of a job on one executor, in a work folder of its own. */
  private async runOnce(
    job: JobRecord,
    executor: Executor,
    spec: ServiceSpec,
    step: number,
    logPath: string,
    signal: AbortSignal,
  ): Promise<InvocationResult> {
    const workDir = join(this.workRoot, `${job.id}.${job.attempts}${step > 0 ? `.${step}` : ''}`);
    const localFiles = executor.capabilities.localFiles !== false;
    if (localFiles) await mkdir(workDir, { recursive: true, mode: 0o700 });
    try {
      let bodyPath: string | null = null;
      if (job.kind === 'http' && localFiles) {
        bodyPath = join(workDir, 'body');
        await writeFile(bodyPath, job.event);
      }
      const input =
        job.kind === 'storage' && job.inputBucket !== null && job.inputKey !== null
          ? {
              ...(job.inputProvider === null ? {} : { provider: job.inputProvider }),
              bucket: job.inputBucket,
              key: job.inputKey,
              eventTimeIso: eventTime(job.event, job.createdMs),
            }
          : null;
      const invocation: Invocation = {
        jobId: job.id,
        service: spec,
        kind: job.kind,
        event: job.event,
        input,
        bodyPath,
        workDir,
        logPath,
        signal,
      };
      if (step > 0) await writeFile(logPath, '');
      return await executor.run(invocation);
    } finally {
      if (localFiles) await rm(workDir, { recursive: true, force: true });
    }
  }

  /**
   * Runs a sync call with `body` as its input; `respond` turns the result into the answer while the output
   * files still exist.
   */
  async runSync<T>(
    service: ServiceRecord,
    body: Buffer,
    signal: AbortSignal,
    respond: (result: InvocationResult, log: string) => Promise<T>,
  ): Promise<T> {
    const spec = service.spec;
    const roles = rolesFor(spec, this.options.executionRoles ?? LOCAL_ROLES);
    // A synchronous call cannot wait for a batch queue: hybrid services answer from their function executor.
    const name =
      spec.executionMode === null
        ? spec.executor
        : spec.executionMode === 'batch'
          ? roles.batch
          : roles.function;
    const executor = this.options.executor(name);
    if (!executor.capabilities.sync) {
      throw new PlatformError('BAD_REQUEST', `the ${executor.name} executor cannot answer synchronous calls`);
    }
    const jobId = newJobId(service.name);
    const workDir = join(this.workRoot, jobId);
    await mkdir(workDir, { recursive: true, mode: 0o700 });
    try {
      const bodyPath = join(workDir, 'body');
      await writeFile(bodyPath, body);
      const logPath = join(workDir, 'sync.log');
      const text = body.toString('utf8');
      const result = await executor.run({
        jobId,
        service: service.spec,
        kind: 'http',
        sync: true,
        event: text.length <= 64 * 1024 ? text : '',
        input: null,
        bodyPath,
        workDir,
        logPath,
        signal,
      });
      const log = await readFile(logPath, 'utf8').catch(() => '');
      return await respond(result, log);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }
}

function eventTime(event: string, fallbackMs: number): string {
  try {
    const parsed = JSON.parse(event) as { Records?: { eventTime?: unknown }[] };
    const time = parsed.Records?.[0]?.eventTime;
    if (typeof time === 'string') return time;
  } catch {
    // not JSON: use the job's creation time
  }
  return new Date(fallbackMs).toISOString();
}
