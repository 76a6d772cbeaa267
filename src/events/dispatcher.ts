/**
 * @module events/dispatcher
 * Leases queued jobs up to the global and per-service limits and hands them to a runner; renews the
 * leases of running jobs; records outcomes (with retries); puts back jobs a previous process left running.
 */
import type { Clock, Logger } from '../core/index.js';
import { PlatformError, toPlatformError } from '../core/index.js';
import type { ConcurrencyLimiter } from './concurrency-limiter.js';
import type { JobOutcome, JobQueue, JobRecord } from './job-queue.js';
import type { ServiceRecord, ServiceRegistry } from './service-registry.js';

export type JobRunner = (job: JobRecord, service: ServiceRecord, signal: AbortSignal) => Promise<JobOutcome>;

export interface DispatcherOptions {
  queue: JobQueue;
  registry: ServiceRegistry;
  limiter: ConcurrencyLimiter;
  runJob: JobRunner;
  logger: Logger;
  clock: Clock;
  /** @default 30000 */
  leaseMs?: number;
  /** Poll at least this often even without a wake-up (jobs retried later, leases of other processes). @default 1000 */
  idlePollMs?: number;
}

interface RunningJob {
  service: string;
  controller: AbortController;
  done: Promise<void>;
}

export class Dispatcher {
  private readonly running = new Map<string, RunningJob>();
  private readonly runningPerService = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private scheduled = false;
  private closing = false;
  private readonly leaseMs: number;
  private readonly idlePollMs: number;

  constructor(private readonly options: DispatcherOptions) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.idlePollMs = options.idlePollMs ?? 1000;
  }

  /** Recovers jobs a previous process left running, then starts dispatching. */
  start(): void {
    const recovered = this.options.queue.recoverLeases({ all: true });
    if (recovered > 0)
      this.options.logger.info({ recovered }, 'requeued jobs interrupted by the last shutdown');
    this.renewTimer = setInterval(() => this.renew(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
    this.wake();
  }

  /** Asks for a dispatch pass as soon as the current synchronous work is done (e.g. after a commit). */
  wake(): void {
    if (this.scheduled || this.closing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pass();
    });
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Cancels a job: aborts it if it runs here, and marks it cancelled. */
  cancel(jobId: string): boolean {
    const changed = this.options.queue.cancel(jobId);
    this.running.get(jobId)?.controller.abort(new PlatformError('JOB_CANCELLED', 'cancelled by a user'));
    return changed;
  }

  /**
   * Stops leasing, lets running jobs finish for up to `graceMs`, then aborts the rest; an aborted job goes
   * back to the queue (its attempt does not count against it) so that the next start runs it.
   */
  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    const all = Promise.all([...this.running.values()].map((job) => job.done));
    let graceTimer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => {
        graceTimer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(graceTimer);
    if (timedOut) {
      for (const job of this.running.values()) {
        job.controller.abort(new PlatformError('UNAVAILABLE', 'the server is shutting down'));
      }
      await all;
    }
  }

  private renew(): void {
    try {
      this.options.queue.renewLeases([...this.running.keys()], this.leaseMs);
      if (this.options.queue.recoverLeases() > 0) this.wake();
    } catch (error) {
      this.options.logger.error({ err: error }, 'could not renew job leases');
    }
  }

  private pass(): void {
    if (this.closing) return;
    const { queue, registry, limiter, logger } = this.options;
    try {
      // Take the slots first: sync calls waiting on the limiter keep their place in line.
      let slots = 0;
      while (slots < 256 && limiter.tryAcquire()) slots += 1;
      const jobs =
        slots === 0
          ? []
          : queue.lease(slots, this.leaseMs, (service) => {
              const record = registry.find(service);
              const limit = record?.spec.maxConcurrency ?? 0;
              const running = this.runningPerService.get(service) ?? 0;
              if (limit > 0 && running >= limit) return false;
              // Count the lease now so that one pass cannot exceed the service's limit.
              this.runningPerService.set(service, running + 1);
              return true;
            });
      for (let unused = jobs.length; unused < slots; unused++) limiter.release();
      for (const job of jobs) this.launch(job);
    } catch (error) {
      logger.error({ err: error }, 'dispatch pass failed');
    }
    this.scheduleNext();
  }

  private scheduleNext(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.closing) return;
    let delay = this.idlePollMs;
    try {
      const next = this.options.queue.nextRunAfter();
      if (next !== null) delay = Math.min(delay, Math.max(0, next - this.options.clock.now()));
    } catch {
      // keep the idle delay; the next pass logs the error
    }
    this.timer = setTimeout(() => this.pass(), delay);
    this.timer.unref();
  }

  private launch(job: JobRecord): void {
    const { queue, registry, limiter, logger, runJob, clock } = this.options;
    const controller = new AbortController();
    const done = (async () => {
      const record = registry.find(job.service);
      const startedMs = clock.now();
      let outcome: JobOutcome;
      try {
        if (!record) throw new PlatformError('SERVICE_NOT_FOUND', `service "${job.service}" was deleted`);
        outcome = await runJob(job, record, controller.signal);
      } catch (error) {
        const failure = toPlatformError(error);
        outcome = {
          status: 'failed',
          exitCode: null,
          error: failure.toData(),
          startedMs,
          finishedMs: clock.now(),
        };
      }
      try {
        if (controller.signal.aborted && this.closing) {
          // Interrupted by shutdown: the next process runs it again without charging an attempt.
          queue.requeue(job.id);
        } else {
          const retry = record?.spec.retry ?? { initialBackoffMs: 1000, maxBackoffMs: 60_000 };
          await queue.completeCommitted(job.id, outcome, retry);
        }
      } catch (error) {
        logger.error({ err: error, job: job.id }, 'could not record a job outcome');
      }
    })().finally(() => {
      this.running.delete(job.id);
      this.runningPerService.set(job.service, (this.runningPerService.get(job.service) ?? 1) - 1);
      limiter.release();
      this.wake();
    });
    this.running.set(job.id, { service: job.service, controller, done });
  }
}
