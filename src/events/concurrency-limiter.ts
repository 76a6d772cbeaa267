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

  /** Waits for a slot in FIFO order; rejects at once when the queue of waiters is full. */
  acquire(signal?: AbortSignal): Promise<void> {
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
      const waiter = { resolve, reject };
      this.waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) {
            this.waiters.splice(index, 1);
            reject(new PlatformError('JOB_CANCELLED', 'the request was aborted while waiting for a slot'));
          }
        },
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
