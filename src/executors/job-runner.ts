/**
 * @module executors/job-runner
 * Runs a queued job or a sync call on its service's executor: prepares the work folder and the log file,
 * builds the Invocation, and cleans up afterwards. Logs stay in `<dataDir>/logs/<service>/<job>.log`.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, Logger } from '../core/index.js';
import { PlatformError, newJobId } from '../core/index.js';
import type { JobOutcome, JobRecord, ServiceRecord } from '../events/index.js';
import { specForInput } from '../fdl/index.js';
import type { Executor, Invocation, InvocationResult } from './executor.js';

export interface JobRunnerOptions {
  dataDir: string;
  executor: (name: string) => Executor;
  logger: Logger;
  clock: Clock;
}

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

  /** Runs one attempt of a queued job. */
  async runQueued(job: JobRecord, service: ServiceRecord, signal: AbortSignal): Promise<JobOutcome> {
    const executor = this.options.executor(service.spec.executor);
    const workDir = join(this.workRoot, `${job.id}.${job.attempts}`);
    const logPath = this.logPath(service.name, job.id);
    await mkdir(workDir, { recursive: true, mode: 0o700 });
    await mkdir(join(this.logRoot, service.name), { recursive: true });
    try {
      let bodyPath: string | null = null;
      if (job.kind === 'http') {
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
        // A job on a user's private copy of an input writes into that user's copies (isolation_level USER).
        service: specForInput(service, job.inputBucket),
        kind: job.kind,
        event: job.event,
        input,
        bodyPath,
        workDir,
        logPath,
        signal,
      };
      const result = await executor.run(invocation);
      return {
        status: result.status,
        exitCode: result.exitCode,
        error: result.error,
        startedMs: result.startedMs,
        finishedMs: result.finishedMs,
      };
    } finally {
      await rm(workDir, { recursive: true, force: true });
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
    const executor = this.options.executor(service.spec.executor);
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
