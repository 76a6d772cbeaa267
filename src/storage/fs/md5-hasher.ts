/**
 * @module storage/fs/md5-hasher
 * MD5 of upload bodies on a worker thread (./md5-worker.ts), so that a PUT's hashing overlaps with reading
 * the socket and writing the disk instead of taking turns with them on the main thread. Each batch is
 * copied once into a buffer of its own and transferred (not cloned again); the caller bounds what it has
 * sent and not yet seen acknowledged, so a slow hash holds back the upload rather than filling memory.
 */
import { Worker } from 'node:worker_threads';
import { PlatformError } from '../../core/index.js';
import type { Md5Reply, Md5Request } from './md5-worker.js';

// Batches are copied into buffers of this size, reused (a larger batch gets a buffer of its own).
const BUFFER_BYTES = 2 * 1024 * 1024;
// Buffers kept for reuse; with each upload holding a few in flight, this bounds the memory of hashing.
const SPARE_BUFFERS = 8;

interface Session {
  acks: (() => void)[];
  digest: ((hex: string) => void) | null;
  fail: (error: Error) => void;
}

/** One hash under way. */
export interface Md5Session {
  /** Sends `chunks` (copied now: the caller may reuse them); resolves once the worker has hashed them. */
  update(chunks: readonly Buffer[], bytes: number): Promise<void>;
  /** The hex digest of everything sent. */
  digest(): Promise<string>;
  /** Forgets the hash (an upload that failed). */
  abort(): void;
}

/** A worker thread computing MD5s for any number of concurrent uploads; started on first use. */
export class Md5Hasher {
  private worker: Worker | null = null;
  private readonly sessions = new Map<number, Session>();
  private readonly spare: ArrayBuffer[] = [];
  private nextId = 1;

  private takeBuffer(bytes: number): ArrayBuffer {
    if (bytes > BUFFER_BYTES) return new ArrayBuffer(bytes);
    return this.spare.pop() ?? new ArrayBuffer(BUFFER_BYTES);
  }

  start(): Md5Session {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    let failure: Error | null = null;
    const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
    let digestWaiter: { resolve: (hex: string) => void; reject: (error: Error) => void } | null = null;
    this.sessions.set(id, {
      acks: [],
      digest: null,
      fail: (error) => {
        failure = error;
        for (const waiter of pending.splice(0)) waiter.reject(error);
        digestWaiter?.reject(error);
        this.sessions.delete(id);
      },
    });
    const session = this.sessions.get(id) as Session;
    const post = (message: Md5Request, transfer: ArrayBuffer[] = []) => worker.postMessage(message, transfer);
    return {
      update: (chunks, bytes) => {
        if (failure !== null) return Promise.reject(failure);
        // One copy into a buffer that owns its memory (socket chunks may be views of a larger one), moved
        // to the worker without a second copy.
        const copy = new Uint8Array(this.takeBuffer(bytes));
        let offset = 0;
        for (const chunk of chunks) {
          copy.set(chunk, offset);
          offset += chunk.length;
        }
        return new Promise<void>((resolve, reject) => {
          pending.push({ resolve, reject });
          session.acks.push(() => pending.shift()?.resolve());
          post({ op: 'update', id, bytes: copy.buffer, length: bytes }, [copy.buffer]);
        });
      },
      digest: () => {
        if (failure !== null) return Promise.reject(failure);
        return new Promise<string>((resolve, reject) => {
          digestWaiter = { resolve, reject };
          session.digest = (hex) => {
            this.sessions.delete(id);
            resolve(hex);
          };
          post({ op: 'digest', id });
        });
      },
      abort: () => {
        if (!this.sessions.delete(id)) return;
        post({ op: 'abort', id });
      },
    };
  }

  private ensureWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const worker = new Worker(new URL('./md5-worker.js', import.meta.url));
    // An idle hasher must not keep the process alive.
    worker.unref();
    worker.on('message', (reply: Md5Reply) => {
      if (reply.op === 'ack' && reply.bytes.byteLength === BUFFER_BYTES && this.spare.length < SPARE_BUFFERS)
        this.spare.push(reply.bytes);
      const session = this.sessions.get(reply.id);
      if (session === undefined) return;
      if (reply.op === 'ack') session.acks.shift()?.();
      else session.digest?.(reply.hex);
    });
    const lost = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      const failure = new PlatformError('INTERNAL', `the MD5 worker thread stopped: ${error.message}`);
      for (const session of [...this.sessions.values()]) session.fail(failure);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`exit code ${code}`)));
    this.worker = worker;
    return worker;
  }

  /** Stops the worker thread (uploads still hashing fail). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
  }
}
