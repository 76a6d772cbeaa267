/**
 * @module core/shutdown-gate
 * The front door of a server that is shutting down. Once `close()` is called, new requests are refused
 * with UNAVAILABLE (503, `Retry-After`) while those already admitted finish; `idle()` resolves when the last
 * of them has. Shared by the REST API and the S3 endpoint, so that both stop taking work at the same moment.
 */
import { PlatformError } from './errors.js';

/** Seconds a refused client is told to wait: about what a restart takes. */
const RETRY_AFTER_SECONDS = 5;

export class ShutdownGate {
  private closed = false;
  private inFlight = 0;
  private waiters: (() => void)[] = [];

  /** Whether new requests are refused. */
  get closing(): boolean {
    return this.closed;
  }

  /** Requests admitted and not yet answered. */
  get pending(): number {
    return this.inFlight;
  }

  /** The error a request arriving during shutdown gets. */
  refusal(): PlatformError {
    return new PlatformError('UNAVAILABLE', 'the server is shutting down; retry after it restarts', {
      details: { retryAfterSeconds: RETRY_AFTER_SECONDS },
    });
  }

  /**
   * Admits one request: throws the refusal once closing, else returns the function that marks it answered
   * (safe to call more than once).
   */
  admit(): () => void {
    if (this.closed) throw this.refusal();
    this.inFlight += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.inFlight -= 1;
      if (this.inFlight === 0 && this.closed) this.release();
    };
  }

  /** Refuses every request from now on. */
  close(): void {
    this.closed = true;
    if (this.inFlight === 0) this.release();
  }

  /** Resolves once closed and every admitted request has been answered. */
  idle(): Promise<void> {
    if (this.closed && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
