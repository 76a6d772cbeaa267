/**
 * @module executors/running-jobs
 * The runs an executor has under way. Each run gets a signal that aborts on its own cancel or on the
 * executor's close(); close() aborts them all and waits until every one has settled, so an executor that
 * says it is closed leaves nothing running.
 */
import { PlatformError } from '../core/index.js';

export class RunningJobs {
  private readonly closing = new AbortController();
  private readonly running = new Set<Promise<unknown>>();

  /** @param executorName names the executor in the error a run gets after close(). */
  constructor(private readonly executorName: string) {}

  /** Aborted once close() has been called. */
  get closeSignal(): AbortSignal {
    return this.closing.signal;
  }

  /**
   * Runs `start` with a signal that aborts when `signal` does or when the executor closes, and keeps it
   * until it settles. Refused with EXECUTOR_UNAVAILABLE once the executor is closed.
   */
  async track<T>(signal: AbortSignal, start: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.closing.signal.aborted) {
      throw new PlatformError('EXECUTOR_UNAVAILABLE', `the ${this.executorName} executor is closed`);
    }
    const run = start(AbortSignal.any([signal, this.closing.signal]));
    this.running.add(run);
    try {
      return await run;
    } finally {
      this.running.delete(run);
    }
  }

  /** Aborts every run and waits until all have settled (whatever their outcome). */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.running]);
  }
}
