/**
 * @module executors/slurm/spool-io
 * The Slurm executor's reads and writes of its spool (task files, results, logs) on a worker thread
 * (./spool-worker.ts) that makes them as plain synchronous calls: a submission's hundreds of files are
 * written in one go instead of one thread-pool round trip at a time behind a busy event loop, and a slow
 * shared filesystem (the spool is usually on NFS) never blocks the server itself. Batches made in the same
 * tick travel in one message.
 */
import { Worker } from 'node:worker_threads';
import { PlatformError } from '../../core/index.js';
import type { SpoolBatch, SpoolOp, SpoolOutcome, SpoolReply } from './spool-worker.js';

export type { SpoolOp, SpoolOutcome };
export type SpoolFailure = Extract<SpoolOutcome, { message: string }>;

const WORKER_URL = new URL('./spool-worker.js', import.meta.url);

/** A failed operation's outcome as an error (its system code in `details.errno`). */
export function spoolError(outcome: SpoolFailure, what: string): PlatformError {
  return new PlatformError('INTERNAL', `${what}: ${outcome.message}`, { details: { errno: outcome.error } });
}

export class SpoolIo {
  private worker: Worker | null = null;
  private readonly waiting = new Map<
    number,
    { count: number; resolve: (outcomes: SpoolOutcome[]) => void }
  >();
  private outbox: SpoolBatch[] = [];
  private nextId = 1;

  /**
   * Runs `ops` in order; resolves with one outcome per operation (failures included: the caller decides
   * which matter). With `stopOnError`, the operations after a failure are not made.
   */
  run(ops: SpoolOp[], stopOnError = false): Promise<SpoolOutcome[]> {
    return this.enqueue(ops, stopOnError, false);
  }

  /**
   * Clean-up nothing waits on: made after every batch that is not, in order among themselves (the worker
   * writes a new submission's files first).
   */
  later(ops: SpoolOp[]): Promise<SpoolOutcome[]> {
    return this.enqueue(ops, false, true);
  }

  private enqueue(ops: SpoolOp[], stopOnError: boolean, background: boolean): Promise<SpoolOutcome[]> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, { count: ops.length, resolve });
      this.outbox.push({ id, ops, stopOnError, background });
      if (this.outbox.length === 1) setImmediate(() => this.send());
    });
  }

  /** The outcome of one operation. */
  async one(op: SpoolOp): Promise<SpoolOutcome> {
    const [outcome] = await this.run([op]);
    return outcome ?? { error: 'EIO', message: 'no answer from the spool worker' };
  }

  /** Stops the worker once the operations asked for so far are done, clean-up included. */
  async close(): Promise<void> {
    if (this.worker !== null || this.outbox.length > 0) await this.later([]);
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
  }

  private send(): void {
    const batches = this.outbox;
    this.outbox = [];
    if (batches.length > 0) this.ensureWorker().postMessage(batches);
  }

  private ensureWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const worker = new Worker(WORKER_URL);
    // An idle worker must not keep the process alive.
    worker.unref();
    worker.on('message', (replies: SpoolReply[]) => {
      for (const reply of replies) {
        this.waiting.get(reply.id)?.resolve(reply.outcomes);
        this.waiting.delete(reply.id);
      }
    });
    const lost = (reason: string) => {
      if (this.worker === worker) this.worker = null;
      const waiting = [...this.waiting.values()];
      this.waiting.clear();
      // A batch it never answered may have been done in part: all of its operations are reported failed.
      const outcome: SpoolOutcome = { error: 'EIO', message: `the spool worker thread stopped (${reason})` };
      for (const { count, resolve } of waiting) resolve(new Array<SpoolOutcome>(count).fill(outcome));
    };
    worker.on('error', (error) => lost(error.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }
}
