/**
 * @module mapreduce/task-scheduler
 * Runs a phase's tasks on a fixed number of slots: failed attempts are retried up to the task's limit;
 * once every task has started, a running task much slower than the median of finished ones gets a
 * speculative second attempt, and whichever attempt finishes first wins (the other is cancelled). The
 * first task that runs out of attempts stops the phase.
 */
import type { AttemptRecord, TaskRecord } from './job-model.js';

export interface SchedulerOptions<T> {
  tasks: TaskRecord[];
  slots: number;
  maxAttempts: number;
  speculative: boolean;
  /** Runs one attempt; rejects (or resolves with an error) when it fails. */
  run: (task: TaskRecord, attempt: AttemptRecord, signal: AbortSignal) => Promise<T>;
  /** Called once per task with the winning attempt's result. */
  onSuccess: (task: TaskRecord, result: T) => Promise<void> | void;
  signal: AbortSignal;
  /** A task is a straggler after this many times the median duration. @default 3 */
  slowFactor?: number;
  /** …and never before this long. @default 1000 */
  minStragglerMs?: number;
}

/** Why a phase stopped: the task that ran out of attempts. */
export class TaskFailedError extends Error {
  constructor(
    readonly task: TaskRecord,
    readonly attempt: AttemptRecord,
  ) {
    super(
      `task ${task.id} failed after ${task.attempts.length} attempt(s): ${attempt.error ?? 'unknown error'}`,
    );
  }
}

interface Running {
  task: TaskRecord;
  attempt: AttemptRecord;
  controller: AbortController;
}

export async function runTasks<T>(options: SchedulerOptions<T>): Promise<void> {
  const { tasks, maxAttempts } = options;
  const slowFactor = options.slowFactor ?? 3;
  const minStragglerMs = options.minStragglerMs ?? 1000;
  const pending = tasks.filter((task) => task.state !== 'succeeded');
  const running = new Set<Running>();
  const durations: number[] = [];
  let remaining = pending.length;
  let failure: TaskFailedError | null = null;
  if (remaining === 0) return;

  return new Promise<void>((resolve, reject) => {
    let ticker: NodeJS.Timeout | null = null;
    const finish = (error: Error | null) => {
      if (ticker !== null) clearInterval(ticker);
      ticker = null;
      options.signal.removeEventListener('abort', onAbort);
      for (const entry of running) entry.controller.abort();
      if (error) reject(error);
      else resolve();
    };
    const onAbort = () => finish(new Error('cancelled'));
    options.signal.addEventListener('abort', onAbort, { once: true });

    const start = (task: TaskRecord, speculative: boolean) => {
      const attempt: AttemptRecord = {
        attempt: task.attempts.length + 1,
        state: 'running',
        speculative,
        startedMs: Date.now(),
        finishedMs: null,
        error: null,
      };
      task.attempts.push(attempt);
      task.state = 'running';
      const entry: Running = { task, attempt, controller: new AbortController() };
      running.add(entry);
      options
        .run(task, attempt, entry.controller.signal)
        .then(
          async (result) => {
            running.delete(entry);
            attempt.finishedMs = Date.now();
            if (task.state === 'succeeded' || failure !== null || options.signal.aborted) {
              attempt.state = 'cancelled';
              return;
            }
            attempt.state = 'succeeded';
            task.state = 'succeeded';
            task.winner = attempt.attempt;
            durations.push(attempt.finishedMs - attempt.startedMs);
            // The first result wins: stop the others.
            for (const other of running) {
              if (other.task === task) {
                other.attempt.state = 'cancelled';
                other.controller.abort();
              }
            }
            await options.onSuccess(task, result);
            remaining--;
            if (remaining === 0) finish(null);
          },
          (error: unknown) => {
            running.delete(entry);
            attempt.finishedMs = Date.now();
            if (attempt.state === 'cancelled' || task.state === 'succeeded') {
              attempt.state = 'cancelled';
              return;
            }
            attempt.state = 'failed';
            attempt.error = error instanceof Error ? error.message : String(error);
            const others = [...running].some((other) => other.task === task);
            if (!others) {
              if (task.attempts.length < maxAttempts) task.state = 'pending';
              else {
                task.state = 'failed';
                failure = new TaskFailedError(task, attempt);
              }
            }
          },
        )
        .catch((error: unknown) => {
          failure ??= new TaskFailedError(task, { ...attempt, error: String(error) });
        })
        .finally(() => {
          if (failure !== null) finish(failure);
          else fill();
        });
    };

    const fill = () => {
      if (options.signal.aborted || failure !== null || remaining === 0) return;
      while (running.size < options.slots) {
        const next = pending.find((task) => task.state === 'pending');
        if (next === undefined) break;
        start(next, false);
      }
      if (!options.speculative || running.size >= options.slots || durations.length === 0) return;
      if (pending.some((task) => task.state === 'pending')) return;
      const sorted = [...durations].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
      const threshold = Math.max(minStragglerMs, slowFactor * median);
      const now = Date.now();
      for (const entry of [...running]) {
        if (running.size >= options.slots) break;
        const copies = [...running].filter((other) => other.task === entry.task).length;
        if (copies > 1 || entry.task.attempts.length >= maxAttempts + 1) continue;
        if (now - entry.attempt.startedMs > threshold) start(entry.task, true);
      }
    };

    ticker = setInterval(fill, 200);
    fill();
  });
}
