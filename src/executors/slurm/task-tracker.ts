/**
 * @module executors/slurm/task-tracker
 * Follows submitted tasks to their end. A watch on each submission's folder sees a task's result file the
 * moment it is written (or renamed into place), so most jobs end without waiting for a poll; an event that
 * arrives while the task's file is being read is not dropped: the file is read again once that read ends.
 * It also sees a running task's log grow, copied to the job's log at most once per poll interval. squeue,
 * read every `pollIntervalMs` while tasks are out (one call for the tasks of our submissions, in a compact
 * format), finds tasks that ended without a result (Slurm's time limit, a lost node, scancel from
 * outside). Result files are read, and running tasks' logs copied, by the poll only for tasks that are no
 * longer running or whose folder's watch has shown nothing (a network filesystem, where the watch sees
 * nothing: there a task is found by the first poll after its batch script ended). A task that leaves squeue
 * without a result is looked up in accounting (sacct) before it is declared lost.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../../core/index.js';
import { toPlatformError } from '../../core/index.js';
import { RESULT_LINE_PREFIX, splitResultLine } from '../../supervisor/result-line.js';
import type { InvocationResult } from '../executor.js';
import { taskFiles } from './sbatch-script.js';
import type { SlurmCli } from './slurm-cli.js';
import {
  isTerminal,
  parseSacct,
  parseSqueueJson,
  parseSqueueTasks,
  squeueTaskArgs,
  type SlurmTaskState,
} from './slurm-replies.js';
import type { SpoolIo, SpoolOp, SpoolOutcome } from './spool-io.js';
import type { Submission, SlurmTask } from './submissions.js';
import { fromRemoteResult, fromSlurmEnding, type SlurmEnding } from './task-result.js';

export interface TaskTrackerOptions {
  cli: SlurmCli;
  spool: SpoolIo;
  pollIntervalMs: number;
  accounting: 'sacct' | 'jobcomp' | 'none';
  logger: Logger;
  finish(task: SlurmTask, result: InvocationResult): void;
}

/** squeue passes that may miss a task before accounting is asked (it may be between states). */
const MISSES_BEFORE_ACCOUNTING = 3;
/** Longest poll interval, in base intervals, while the watches end every task. */
const MAX_POLL_BACKOFF = 8;

export class TaskTracker {
  private readonly tasks = new Map<string, SlurmTask>();
  private readonly watchers = new Map<Submission, FSWatcher>();
  private readonly misses = new Map<SlurmTask, number>();
  private readonly logSizes = new Map<SlurmTask, number>();
  private readonly collecting = new Set<SlurmTask>();
  /** Tasks whose result file changed while it was being read: read again when that read ends. */
  private readonly changed = new Set<SlurmTask>();
  /** Submissions whose folder's watch has shown a change (their tasks' files are seen as they come). */
  private readonly seeing = new WeakSet<Submission>();
  /** Tasks whose log was moved to the invocation's log (nothing left to delete). */
  private readonly logsMoved = new WeakSet<SlurmTask>();
  /** Tasks whose log changed, copied to the invocation's log at most once per poll interval. */
  private readonly logTimers = new Map<SlurmTask, NodeJS.Timeout>();
  /** The poll's current interval: doubles while the watches end every task, back to the base when not. */
  private intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private closed = false;

  constructor(private readonly options: TaskTrackerOptions) {
    this.intervalMs = options.pollIntervalMs;
  }

  track(submission: Submission): void {
    for (const task of submission.tasks)
      if (task.slurmId !== null && !task.done) this.tasks.set(task.slurmId, task);
    if (!this.watchers.has(submission)) this.watch(submission);
    this.schedule();
  }

  /** Follows a task an earlier process submitted (orphans.ts); one that already ended ends now. */
  adopt(task: SlurmTask): void {
    if (task.submission === null) return;
    this.track(task.submission);
    void this.collectReported(task);
  }

  private watch(submission: Submission): void {
    try {
      const watcher = watch(submission.dir, (event, filename) => {
        this.seeing.add(submission);
        const match = /^(\d+)\.(result|log|sh)$/.exec(String(filename ?? ''));
        const task = match === null ? undefined : submission.tasks[Number(match[1])];
        if (task === undefined || task.done) return;
        const kind = match?.[2];
        if (kind === 'log') {
          if (event === 'change') this.logChanged(task);
          return;
        }
        // The Node supervisor renames its complete result into place ('rename'). The shell path writes it
        // over the task's file ('change'), and a line written in several parts is read again at its next
        // write (an event during a read marks the task, and the read is repeated when it ends).
        const reported = isShell(task)
          ? (kind === 'sh' && event === 'change') || (kind === 'result' && task.adoptedShell)
          : kind === 'result';
        if (reported) void this.collectReported(task);
      });
      watcher.on('error', () => {
        watcher.close();
        this.watchers.delete(submission);
      });
      this.watchers.set(submission, watcher);
    } catch (error) {
      // No watch (a filesystem without inotify): the poll finds the result files instead.
      this.options.logger.debug({ err: error }, 'cannot watch a Slurm submission folder');
    }
  }

  /** Forgets a finished task; removes its submission's folder once all of its tasks are done. */
  untrack(task: SlurmTask): void {
    this.forget(task);
    const submission = task.submission;
    if (submission === null) return;
    // The task's own files go now, by name (a recursive removal would look at each first); the folder,
    // with what the tasks share, once none is left (the spool's worker keeps the order).
    const ops = task.adopted ? anyTaskFiles(submission, task.index) : this.taskFileRemoval(task, submission);
    this.release(submission, ops);
  }

  /** Stops following a task, its files left in place (for a later process to adopt: orphans.ts). */
  forget(task: SlurmTask): void {
    if (task.slurmId !== null) this.tasks.delete(task.slurmId);
    this.misses.delete(task);
    this.logSizes.delete(task);
    this.changed.delete(task);
    const logTimer = this.logTimers.get(task);
    if (logTimer !== undefined) clearTimeout(logTimer);
    this.logTimers.delete(task);
    // Quiet again: the next job is polled at the base interval.
    if (this.tasks.size === 0) this.intervalMs = this.options.pollIntervalMs;
  }

  /** Counts a task of `submission` out, with the removal of its files; the folder goes after the last. */
  release(submission: Submission, ops: SpoolOp[]): void {
    submission.open -= 1;
    if (submission.open === 0) {
      this.watchers.get(submission)?.close();
      this.watchers.delete(submission);
      ops.push({ op: 'rmtree', path: submission.dir });
    }
    void this.options.spool.later(ops);
  }

  private taskFileRemoval(task: SlurmTask, submission: Submission): SpoolOp[] {
    const files = taskFiles(submission.dir, task.index);
    const shell = task.shell;
    const names =
      shell === null
        ? [files.invocation, files.stdout, files.result]
        : [files.shell, ...(shell.body === null || shell.inSpool ? [] : [files.body])];
    if (!this.logsMoved.delete(task)) names.push(files.log);
    const ops: SpoolOp[] = names.map((path) => ({ op: 'unlink', path }));
    // The job's folder as the server made it (the script may have left more: then it is read and removed).
    if (shell?.inSpool === true) {
      const input = shell.inputName === '' ? [] : [`input/${shell.inputName}`];
      ops.push({ op: 'rmtree', path: files.work, expect: [...input, 'input/', 'output/'] });
    }
    return ops;
  }

  /**
   * Copies the task's log (which holds Slurm's own messages about it too) to the invocation's log; with
   * `move`, for a task whose processes have ended, moves it instead when both are on one filesystem (no new
   * file to create and fill, none to delete with the submission's folder).
   */
  async collectLog(task: SlurmTask, move = false): Promise<void> {
    const submission = task.submission;
    if (submission === null) return;
    const from = taskFiles(submission.dir, task.index).log;
    const to = task.invocation.logPath;
    const outcome = await this.options.spool.one({ op: move ? 'move' : 'copy', from, to });
    if (move && outcome.error === null) this.logsMoved.add(task);
  }

  /** Waits until none of `ids` is pending, running or completing in Slurm (or `timeoutMs` passes). */
  async waitUntilGone(ids: Set<string>, timeoutMs: number): Promise<void> {
    if (ids.size === 0) return;
    const submitted = new Set([...ids].map((id) => Number(id.split('_')[0])));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const statuses = parseSqueueJson(await this.options.cli.expect('squeue', ['--json']));
        const active = statuses.some(
          (status) =>
            !isTerminal(status.state) &&
            (ids.has(status.id) || (status.pendingTasks !== null && submitted.has(status.submittedId))),
        );
        if (!active) return;
      } catch (error) {
        this.options.logger.warn(
          { error: toPlatformError(error).toData() },
          'cannot read the state of Slurm jobs',
        );
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    for (const timer of this.logTimers.values()) clearTimeout(timer);
    this.logTimers.clear();
  }

  private schedule(): void {
    if (this.timer !== null || this.closed || this.tasks.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll().finally(() => this.schedule());
    }, this.intervalMs);
  }

  /** A running task's log grew: copy it once the poll interval has passed (later growth joins that copy). */
  private logChanged(task: SlurmTask): void {
    if (this.logTimers.has(task)) return;
    const timer = setTimeout(() => {
      this.logTimers.delete(task);
      if (!task.done) void this.followLog(task);
    }, this.options.pollIntervalMs);
    this.logTimers.set(task, timer);
  }

  private async poll(): Promise<void> {
    if (this.polling || this.tasks.size === 0) return;
    this.polling = true;
    try {
      const submitted = new Set<number>();
      for (const task of this.tasks.values())
        if (task.submission !== null) submitted.add(task.submission.jobId);
      const reply = await this.options.cli.run('squeue', squeueTaskArgs([...submitted]));
      const byId = new Map(parseSqueueTasks(reply).map((status) => [status.id, status]));
      const ended = await Promise.all([...this.tasks.values()].map((task) => this.check(task, byId)));
      // While the watches end every task, squeue is only the backstop for tasks that end without a result
      // (Slurm's time limit, a lost node): it is read less and less often, up to MAX_POLL_BACKOFF times the
      // base interval. A task that only the poll could end (or that squeue lost) brings the base back.
      const quiet = !ended.includes(true) && this.misses.size === 0;
      this.intervalMs = quiet
        ? Math.min(this.intervalMs * 2, this.options.pollIntervalMs * MAX_POLL_BACKOFF)
        : this.options.pollIntervalMs;
    } catch (error) {
      this.options.logger.warn(
        { error: toPlatformError(error).toData() },
        'cannot read the state of Slurm jobs',
      );
    } finally {
      this.polling = false;
    }
  }

  /** Follows one task through a poll; resolves with whether the poll ended it (its watch did not). */
  private async check(task: SlurmTask, byId: Map<string, SlurmTaskState>): Promise<boolean> {
    const submission = task.submission;
    if (submission === null || task.slurmId === null || task.done) return false;
    // A watch that has shown nothing yet (a network filesystem shows nothing at all) is not relied on.
    const watched = this.seeing.has(submission) && this.watchers.has(submission);
    const status = byId.get(task.slurmId);
    if (status !== undefined) {
      this.misses.delete(task);
      if (isTerminal(status.state)) return this.collect(task, status);
      if (status.state === 'PENDING') return false;
      // Still running: its result, when written, is seen by the watch, and so are its log's changes.
      if (status.state !== 'COMPLETING' && watched) return false;
      if (await this.collect(task, null, true)) return true;
      if (status.state === 'RUNNING') await this.followLog(task);
      return false;
    }
    if (await this.collect(task, null, true)) return true;
    const misses = (this.misses.get(task) ?? 0) + 1;
    this.misses.set(task, misses);
    if (misses < MISSES_BEFORE_ACCOUNTING) return false;
    return this.collect(task, await this.fromAccounting(task));
  }

  /** Ends the task if its result file is complete; an event during the read makes it read again after. */
  private async collectReported(task: SlurmTask): Promise<void> {
    if (this.collecting.has(task)) {
      this.changed.add(task);
      return;
    }
    await this.collect(task, null, true);
  }

  /**
   * Ends a task from its result file, or from Slurm's ending when it left none; with `onlyReported`, only
   * from a complete result. Resolves with whether the task is done.
   */
  private async collect(task: SlurmTask, ending: SlurmEnding | null, onlyReported = false): Promise<boolean> {
    const submission = task.submission;
    if (task.done || submission === null || this.collecting.has(task)) return task.done;
    this.collecting.add(task);
    try {
      const file = await this.readResult(task, submission);
      const reported = file.error === null ? splitResultLine(file.text ?? '').result : null;
      if (reported === null && onlyReported) return false;
      if (reported !== null && reported.startedMs === 0 && reported.finishedMs === 0) {
        // The shell path has no clock: it ended when it wrote its result, and ran for as long as it says
        // (where the node has no /proc/uptime, it is dated from its submission).
        reported.finishedMs = Math.floor((file.error === null ? file.mtimeMs : undefined) ?? Date.now());
        const duration = reported.durationMs;
        reported.startedMs = duration == null ? task.queuedMs : reported.finishedMs - duration;
      }
      await this.collectLog(task, true);
      if (task.done) return true;
      const invocation = task.invocation;
      const result =
        reported !== null
          ? fromRemoteResult(reported, invocation.workDir)
          : fromSlurmEnding(ending, {
              startedMs: task.queuedMs,
              finishedMs: Date.now(),
              outputDir: invocation.workDir,
              timeoutMs: invocation.service.timeoutMs,
              memoryBytes: invocation.service.memoryBytes,
            });
      this.options.finish(task, result);
      return true;
    } finally {
      this.collecting.delete(task);
      if (this.changed.delete(task) && !task.done) void this.collectReported(task);
    }
  }

  /**
   * The task's result file: the Node supervisor's `i.result`; on the shell path its task file, holding the
   * result once it begins with the result line (until then, the task's shell assignments: a line in them,
   * from an http body say, is not taken for one). A task adopted from an earlier process of a version that
   * wrote `i.result` on the shell path too is found there.
   */
  private async readResult(task: SlurmTask, submission: Submission): Promise<SpoolOutcome> {
    const files = taskFiles(submission.dir, task.index);
    if (!isShell(task)) return this.options.spool.one({ op: 'read', path: files.result });
    const file = await this.options.spool.one({ op: 'read', path: files.shell });
    if (file.error === null && (file.text ?? '').startsWith(RESULT_LINE_PREFIX)) return file;
    if (task.adoptedShell) {
      const older = await this.options.spool.one({ op: 'read', path: files.result });
      if (older.error === null) return older;
    }
    return { error: 'ENOENT', message: 'no result yet' };
  }

  private async followLog(task: SlurmTask): Promise<void> {
    const submission = task.submission;
    if (submission === null || task.done) return;
    const path = taskFiles(submission.dir, task.index).log;
    const info = await this.options.spool.one({ op: 'stat', path });
    const size = info.error === null ? (info.size ?? 0) : 0;
    if (size === (this.logSizes.get(task) ?? 0)) return;
    this.logSizes.set(task, size);
    await this.options.spool.one({ op: 'copy', from: path, to: task.invocation.logPath });
  }

  private async fromAccounting(task: SlurmTask): Promise<SlurmEnding | null> {
    const { accounting, cli } = this.options;
    if (accounting === 'none' || task.submission === null) return null;
    const args = ['--parsable2', '--noheader', '--allocations', '--format=JobID,State,ExitCode'];
    if (accounting === 'jobcomp') args.unshift('--completion');
    args.push(`--jobs=${task.submission.jobId}`);
    try {
      const records = parseSacct(await cli.expect('sacct', args));
      return records.find((record) => record.id === task.slurmId) ?? null;
    } catch (error) {
      this.options.logger.warn(
        { error: toPlatformError(error).toData() },
        'sacct could not tell how a job ended',
      );
      return null;
    }
  }
}

/** Whether the task runs on the shell path (its result written over its task file). */
function isShell(task: SlurmTask): boolean {
  return task.shell !== null || task.adoptedShell;
}

/**
 * The removal of whatever files task `index` may have (an adopted task's path and folder are not known in
 * detail; a missing file is no error here).
 */
export function anyTaskFiles(submission: Submission, index: number): SpoolOp[] {
  const files = taskFiles(submission.dir, index);
  const names = [files.invocation, files.shell, files.body, files.log, files.stdout, files.result];
  return [...names.map((path): SpoolOp => ({ op: 'unlink', path })), { op: 'rmtree', path: files.work }];
}
