/**
 * @module executors/slurm/task-tracker
 * Follows submitted tasks to their end. A watch on each submission's folder sees a task's result file the
 * moment the supervisor renames it into place, so most jobs end without waiting for a poll. squeue, read
 * every `pollIntervalMs` while tasks are out (one call for all of them), finds tasks that ended without a
 * result (Slurm's time limit, a lost node, scancel from outside), copies the live log of running ones,
 * and on a network filesystem, where the watch sees nothing, finds the result files too. A task that
 * leaves squeue without a result is looked up in accounting (sacct) before it is declared lost.
 */
import { watch, type FSWatcher } from 'node:fs';
import { appendFile, copyFile, readFile, rm, stat } from 'node:fs/promises';
import type { Logger } from '../../core/index.js';
import { toPlatformError } from '../../core/index.js';
import { splitResultLine } from '../../supervisor/result-line.js';
import type { InvocationResult } from '../executor.js';
import { taskFiles } from './sbatch-script.js';
import type { SlurmCli } from './slurm-cli.js';
import {
  isTerminal,
  parseSacct,
  parseSqueueJson,
  taskStringIncludes,
  type SlurmJobStatus,
} from './slurm-replies.js';
import type { Submission, SlurmTask } from './submissions.js';
import { fromRemoteResult, fromSlurmEnding, type SlurmEnding } from './task-result.js';

export interface TaskTrackerOptions {
  cli: SlurmCli;
  pollIntervalMs: number;
  accounting: 'sacct' | 'jobcomp' | 'none';
  logger: Logger;
  finish(task: SlurmTask, result: InvocationResult): void;
}

/** squeue passes that may miss a task before accounting is asked (it may be between states). */
const MISSES_BEFORE_ACCOUNTING = 3;

export class TaskTracker {
  private readonly tasks = new Map<string, SlurmTask>();
  private readonly watchers = new Map<Submission, FSWatcher>();
  private readonly misses = new Map<SlurmTask, number>();
  private readonly logSizes = new Map<SlurmTask, number>();
  private readonly collecting = new Set<SlurmTask>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private closed = false;

  constructor(private readonly options: TaskTrackerOptions) {}

  track(submission: Submission): void {
    for (const task of submission.tasks)
      if (task.slurmId !== null && !task.done) this.tasks.set(task.slurmId, task);
    try {
      const watcher = watch(submission.dir, (_event, filename) => {
        const match = /^(\d+)\.result$/.exec(String(filename ?? ''));
        const task = match === null ? undefined : submission.tasks[Number(match[1])];
        // The shell path writes its result in place: a half-written line is read again at its next write.
        if (task !== undefined) void this.collect(task, null, true);
      });
      watcher.on('error', () => watcher.close());
      this.watchers.set(submission, watcher);
    } catch (error) {
      // No watch (a filesystem without inotify): the poll finds the result files instead.
      this.options.logger.debug({ err: error }, 'cannot watch a Slurm submission folder');
    }
    this.schedule();
  }

  /** Forgets a finished task; removes its submission's folder once all of its tasks are done. */
  untrack(task: SlurmTask): void {
    if (task.slurmId !== null) this.tasks.delete(task.slurmId);
    this.misses.delete(task);
    this.logSizes.delete(task);
    const submission = task.submission;
    if (submission === null) return;
    submission.open -= 1;
    if (submission.open > 0) return;
    this.watchers.get(submission)?.close();
    this.watchers.delete(submission);
    void rm(submission.dir, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Copies the task's log (and Slurm's own messages about it) to the invocation's log. */
  async collectLog(task: SlurmTask): Promise<void> {
    const submission = task.submission;
    if (submission === null) return;
    const files = taskFiles(submission.dir, task.index);
    await copyFile(files.log, task.invocation.logPath).catch(() => undefined);
    const slurmMessages = await readFile(`${submission.dir}/${task.index}.slurm`, 'utf8').catch(() => '');
    if (slurmMessages.trim() !== '') await appendFile(task.invocation.logPath, slurmMessages);
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
  }

  private schedule(): void {
    if (this.timer !== null || this.closed || this.tasks.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll().finally(() => this.schedule());
    }, this.options.pollIntervalMs);
  }

  private async poll(): Promise<void> {
    if (this.polling || this.tasks.size === 0) return;
    this.polling = true;
    try {
      const statuses = parseSqueueJson(await this.options.cli.expect('squeue', ['--json']));
      const byId = new Map<string, SlurmJobStatus>();
      const pendingArrays: SlurmJobStatus[] = [];
      for (const status of statuses) {
        if (status.pendingTasks !== null) pendingArrays.push(status);
        else byId.set(status.id, status);
      }
      await Promise.all([...this.tasks.values()].map((task) => this.check(task, byId, pendingArrays)));
    } catch (error) {
      this.options.logger.warn(
        { error: toPlatformError(error).toData() },
        'cannot read the state of Slurm jobs',
      );
    } finally {
      this.polling = false;
    }
  }

  private async check(
    task: SlurmTask,
    byId: Map<string, SlurmJobStatus>,
    pendingArrays: SlurmJobStatus[],
  ): Promise<void> {
    const submission = task.submission;
    if (submission === null || task.slurmId === null || task.done) return;
    if (await this.collect(task, null, true)) return;
    let status = byId.get(task.slurmId);
    if (status === undefined && submission.tasks.length > 1) {
      status = pendingArrays.find(
        (array) =>
          array.submittedId === submission.jobId && taskStringIncludes(array.pendingTasks ?? '', task.index),
      );
    }
    if (status !== undefined) {
      this.misses.delete(task);
      if (isTerminal(status.state)) {
        await this.collect(task, status);
        return;
      }
      if (status.state === 'RUNNING') await this.followLog(task);
      return;
    }
    const misses = (this.misses.get(task) ?? 0) + 1;
    this.misses.set(task, misses);
    if (misses < MISSES_BEFORE_ACCOUNTING) return;
    await this.collect(task, await this.fromAccounting(task));
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
      const files = taskFiles(submission.dir, task.index);
      const text = await readFile(files.result, 'utf8').catch(() => null);
      const reported = text === null ? null : splitResultLine(text).result;
      if (reported === null && onlyReported) return false;
      if (reported !== null && reported.startedMs === 0 && reported.finishedMs === 0) {
        // The shell path has no clock: its start and end are the times of its first and last files.
        const [started, finished] = await Promise.all([fileTimeMs(files.started), fileTimeMs(files.result)]);
        reported.startedMs = started ?? task.queuedMs;
        reported.finishedMs = finished ?? Date.now();
      }
      await this.collectLog(task);
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
    }
  }

  private async followLog(task: SlurmTask): Promise<void> {
    const submission = task.submission;
    if (submission === null) return;
    const path = taskFiles(submission.dir, task.index).log;
    const size = await stat(path).then(
      (info) => info.size,
      () => 0,
    );
    if (size === (this.logSizes.get(task) ?? 0)) return;
    this.logSizes.set(task, size);
    await copyFile(path, task.invocation.logPath).catch(() => undefined);
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

async function fileTimeMs(path: string): Promise<number | null> {
  return stat(path).then(
    (info) => Math.floor(info.mtimeMs),
    () => null,
  );
}
