/**
 * @module events/concurrency-limiter
 * A counting semaphore with a bounded FIFO of waiters, shared by the dispatcher (async jobs) and the
 * /run handler (sync calls) so that together they never exceed the machine's job limit.
 */
import { PlatformError } from '../core/index.js';

export class ConcurrencyLimiter {
  private inUse = 0;
  private readonly waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(
    readonly capacity: number,
    /** Waiters allowed in the FIFO before `acquire` answers TOO_MANY_REQUESTS. */
    private readonly maxWaiters: number,
  ) {}

  get available(): number {
    return Math.max(0, this.capacity - this.inUse - this.waiters.length);
  }

  get running(): number {
    return this.inUse;
  }

  tryAcquire(): boolean {
    if (this.inUse < this.capacity && this.waiters.length === 0) {
      this.inUse += 1;
      return true;
    }
    return false;
  }

  /**
   * Waits for a slot in FIFO order; rejects at once when the queue of waiters is full, and with
   * TOO_MANY_REQUESTS (Retry-After) once `maxWaitMs` passed without a slot, so that an overloaded server turns
   * callers away instead of holding them for minutes.
   */
  acquire(signal?: AbortSignal, maxWaitMs?: number): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    if (this.waiters.length >= this.maxWaiters) {
      return Promise.reject(
        new PlatformError(
          'TOO_MANY_REQUESTS',
          'every job slot is busy and the waiting line is full; retry later',
          {
            details: { retryAfterSeconds: 1 },
          },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const leave = (error: PlatformError): void => {
        const index = this.waiters.indexOf(waiter);
        if (index < 0) return;
        this.waiters.splice(index, 1);
        clearTimeout(timer);
        reject(error);
      };
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject,
      };
      this.waiters.push(waiter);
      if (maxWaitMs !== undefined) {
        timer = setTimeout(
          () =>
            leave(
              new PlatformError(
                'TOO_MANY_REQUESTS',
                `no job slot became free within ${Math.round(maxWaitMs / 1000)} s; retry later`,
                { details: { retryAfterSeconds: 1 } },
              ),
            ),
          maxWaitMs,
        );
      }
      signal?.addEventListener(
        'abort',
        () => leave(new PlatformError('JOB_CANCELLED', 'the request was aborted while waiting for a slot')),
        { once: true },
      );
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next.resolve();
    else this.inUse = Math.max(0, this.inUse - 1);
  }
}
