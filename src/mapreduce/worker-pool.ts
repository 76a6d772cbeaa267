/**
 * @module mapreduce/worker-pool
 * A fixed set of worker threads running map and reduce tasks, one task per thread at a time. A task
 * can be cancelled (its thread is terminated and replaced: user code cannot be interrupted otherwise), and
 * a thread that dies (an uncaught error, `process.exit`, its heap limit) fails only its task.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { TaskMessage, TaskReply } from './task-messages.js';

const WORKER_URL = new URL('./js-worker.js', import.meta.url);

interface Pending {
  message: TaskMessage;
  transfer: ArrayBuffer[];
  resolve: (reply: TaskReply) => void;
  cancelled: boolean;
}

interface Slot {
  worker: Worker;
  task: Pending | null;
}

/** A running task: its reply, and a way to stop it. */
export interface PoolTask {
  result: Promise<TaskReply>;
  cancel(): void;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private closed = false;

  constructor(
    readonly size: number,
    private readonly resourceLimits: ResourceLimits = {},
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, {
      resourceLimits: this.resourceLimits,
      stdout: true,
      stderr: true,
    });
    // The user's stray output (outside console) is dropped rather than mixed into the server's.
    worker.stdout.resume();
    worker.stderr.resume();
    const slot: Slot = { worker, task: null };
    worker.on('message', (reply: TaskReply) => {
      const task = slot.task;
      if (task === null || reply.taskId !== task.message.taskId) return;
      slot.task = null;
      task.resolve(reply);
      this.next(slot);
    });
    const died = (reason: string) => {
      const task = slot.task;
      slot.task = null;
      const index = this.slots.indexOf(slot);
      if (index >= 0 && !this.closed) {
        const replacement = this.spawn();
        this.slots[index] = replacement;
        this.next(replacement);
      }
      if (task !== null) {
        task.resolve({
          type: 'failed',
          taskId: task.message.taskId,
          message: task.cancelled ? 'cancelled' : reason,
        });
      }
    };
    worker.on('error', (error) => died(`the worker thread failed: ${error.message}`));
    worker.on('exit', (code) => {
      if (slot.task !== null) died(`the worker thread exited with code ${code}`);
    });
    return slot;
  }

  private next(slot: Slot): void {
    if (slot.task !== null || this.closed) return;
    const task = this.queue.shift();
    if (task === undefined) return;
    slot.task = task;
    slot.worker.postMessage(task.message, task.transfer);
  }

  /** Queues a task; `transfer` lists buffers moved (not copied) to the thread. */
  run(message: TaskMessage, transfer: ArrayBuffer[] = []): PoolTask {
    let resolve!: (reply: TaskReply) => void;
    const result = new Promise<TaskReply>((done) => (resolve = done));
    const pending: Pending = { message, transfer, resolve, cancelled: false };
    this.queue.push(pending);
    const idle = this.slots.find((slot) => slot.task === null);
    if (idle) this.next(idle);
    return {
      result,
      cancel: () => {
        if (pending.cancelled) return;
        pending.cancelled = true;
        const queued = this.queue.indexOf(pending);
        if (queued >= 0) {
          this.queue.splice(queued, 1);
          resolve({ type: 'failed', taskId: message.taskId, message: 'cancelled' });
          return;
        }
        const slot = this.slots.find((candidate) => candidate.task === pending);
        if (slot) void slot.worker.terminate();
      },
    };
  }

  /** Threads busy or waiting for work. */
  get busy(): number {
    return this.slots.filter((slot) => slot.task !== null).length + this.queue.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0))
      pending.resolve({ type: 'failed', taskId: pending.message.taskId, message: 'cancelled' });
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }
}
