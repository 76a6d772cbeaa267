/**
 * @module executors/slurm/submissions
 * Gathers invocations into sbatch submissions: those with equal sbatch options that arrive within the
 * array window go as one job array (up to `maxArraySize` tasks), each task finding its invocation file by
 * its index; a lone invocation goes as a plain job. While an sbatch of one shape is under way, the next
 * group of that shape keeps gathering until it returns: under a steady stream of jobs the arrays grow with
 * sbatch's own latency (a few large submissions instead of many small ones, each costing slurmctld and a
 * process), while a job arriving on a quiet executor still goes after the window alone. Writes the submission's folder (script, invocation
 * files) and runs `sbatch --parsable`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/index.js';
import { PlatformError, toPlatformError } from '../../core/index.js';
import type { ScopedKey } from '../../storage/scoped-access.js';
import { formatInvocationFile } from '../../supervisor/invocation-file.js';
import type { Invocation, InvocationResult } from '../executor.js';
import type { SlurmExecutorConfig } from './config-schema.js';
import { batchScript, submissionArgs, taskFiles } from './sbatch-script.js';
import type { SlurmCli } from './slurm-cli.js';
import { parseSbatchReply } from './slurm-replies.js';
import type { ShellTask } from './shell-task.js';

/** One invocation on its way through Slurm. */
export interface SlurmTask {
  invocation: Invocation;
  /** Slurm's job name for the service (`nubes-<service>`). */
  service: string;
  /** The invocation file's environment for the supervisor. */
  env: Record<string, string>;
  key: ScopedKey | null;
  /** The task's shell path (shell-task.ts); null when it runs the Node supervisor. */
  shell: ShellTask | null;
  submission: Submission | null;
  /** Its index in the submission (its array task id). */
  index: number;
  /** `123` (plain job) or `123_4` (array task) once submitted. */
  slurmId: string | null;
  queuedMs: number;
  done: boolean;
  settle(result: InvocationResult): void;
}

/** One sbatch submission: a plain job (one task) or a job array. */
export interface Submission {
  dir: string;
  jobId: number;
  tasks: SlurmTask[];
  /** Tasks not yet finished; the folder goes when none is left. */
  open: number;
}

interface Group {
  options: string[];
  tasks: SlurmTask[];
  timer: NodeJS.Timeout | null;
  /** Its window closed while an sbatch of its shape was under way: it goes when that returns. */
  deferred: boolean;
}

export interface SubmissionsOptions {
  cli: SlurmCli;
  spoolDir: string;
  config: SlurmExecutorConfig;
  logger: Logger;
  submitted(submission: Submission): void;
  rejected(task: SlurmTask, error: PlatformError): void;
}

export class Submissions {
  /** Tasks per submission, in submission order. */
  readonly sizes: number[] = [];
  private readonly groups = new Map<string, Group>();
  private readonly inFlight = new Map<SlurmTask, Promise<string | null>>();
  private readonly flushes = new Set<Promise<void>>();
  /** sbatch calls under way, by shape (option key). */
  private readonly busy = new Map<string, number>();

  constructor(private readonly options: SubmissionsOptions) {}

  /** Queues a task; it is submitted when its group's window closes or the group is full. */
  add(task: SlurmTask, sbatchOptions: string[]): void {
    const key = sbatchOptions.join('\0');
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { options: sbatchOptions, tasks: [], timer: null, deferred: false };
      this.groups.set(key, group);
    }
    group.tasks.push(task);
    if (group.tasks.length >= this.options.config.maxArraySize) {
      this.flush(key, group);
    } else if (group.timer === null && !group.deferred) {
      const pending = group;
      group.timer = setTimeout(() => this.flush(key, pending), this.options.config.arrayWindowMs);
    }
  }

  /** Takes a task out of its group before submission; false when it was already submitted (or submitting). */
  withdraw(task: SlurmTask): boolean {
    for (const [key, group] of this.groups) {
      const at = group.tasks.indexOf(task);
      if (at < 0) continue;
      group.tasks.splice(at, 1);
      if (group.tasks.length === 0) {
        if (group.timer !== null) clearTimeout(group.timer);
        this.groups.delete(key);
      }
      return true;
    }
    return false;
  }

  /** The Slurm id of a task being submitted, once sbatch answered (null if the submission failed). */
  whenSubmitted(task: SlurmTask): Promise<string | null> {
    return this.inFlight.get(task) ?? Promise.resolve(task.slurmId);
  }

  /** Submits what is gathered and waits for every submission under way. */
  async close(): Promise<void> {
    for (const [key, group] of [...this.groups]) this.flush(key, group, true);
    while (this.flushes.size > 0) await Promise.allSettled([...this.flushes]);
  }

  private flush(key: string, group: Group, now = false): void {
    if (this.groups.get(key) !== group) return;
    if (group.timer !== null) clearTimeout(group.timer);
    group.timer = null;
    if (!now && (this.busy.get(key) ?? 0) > 0 && group.tasks.length < this.options.config.maxArraySize) {
      group.deferred = true;
      return;
    }
    this.groups.delete(key);
    const tasks = group.tasks.filter((task) => !task.done);
    if (tasks.length === 0) return;
    const submitting = this.submit(tasks, group.options);
    for (const task of tasks) {
      this.inFlight.set(
        task,
        submitting.then(() => task.slurmId),
      );
    }
    this.busy.set(key, (this.busy.get(key) ?? 0) + 1);
    const flush = submitting.finally(() => {
      for (const task of tasks) this.inFlight.delete(task);
      this.flushes.delete(flush);
      const left = (this.busy.get(key) ?? 1) - 1;
      if (left > 0) this.busy.set(key, left);
      else this.busy.delete(key);
      const next = this.groups.get(key);
      if (next?.deferred === true) this.flush(key, next);
    });
    this.flushes.add(flush);
  }

  private async submit(tasks: SlurmTask[], sbatchOptions: string[]): Promise<void> {
    const { cli, config, spoolDir } = this.options;
    const dir = join(spoolDir, `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(dir, { mode: 0o700 });
      const script = batchScript({
        dir,
        node: config.supervisor.node,
        supervisor: config.supervisor.path,
        service: tasks[0]?.invocation.service.name ?? '',
      });
      await writeFile(join(dir, 'job.sh'), script, { mode: 0o700 });
      // One file after the other: files created at once in one folder make the filesystem's threads spin
      // on the folder's lock (a fifth of the server's CPU in a burst), and the array cannot go before the
      // last one is written anyway.
      for (const [index, task] of tasks.entries()) await writeTaskFiles(dir, index, task);
      const scripts = new Map(
        tasks
          .flatMap((task) => (task.shell === null ? [] : [task.shell.script]))
          .map((s) => [s.name, s.content]),
      );
      await Promise.all(
        [...scripts].map(([name, content]) => writeFile(join(dir, name), content, { mode: 0o700 })),
      );
      const reply = await cli.expect('sbatch', submissionArgs(sbatchOptions, dir, tasks.length, true));
      const jobId = parseSbatchReply(reply);
      const submission: Submission = { dir, jobId, tasks, open: tasks.length };
      tasks.forEach((task, index) => {
        task.submission = submission;
        task.index = index;
        task.slurmId = tasks.length > 1 ? `${jobId}_${index}` : String(jobId);
      });
      this.sizes.push(tasks.length);
      this.options.logger.debug({ jobId, tasks: tasks.length }, 'sbatch submission');
      this.options.submitted(submission);
    } catch (thrown) {
      const error = toPlatformError(thrown);
      this.options.logger.warn({ error: error.toData(), tasks: tasks.length }, 'sbatch submission failed');
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      for (const task of tasks) this.options.rejected(task, error);
    }
  }
}

/** The files of task `index`: its shell file (and body), or its invocation file for the Node supervisor. */
async function writeTaskFiles(dir: string, index: number, task: SlurmTask): Promise<void> {
  const shell = task.shell;
  if (shell === null) {
    await writeFile(
      taskFiles(dir, index).invocation,
      formatInvocationFile({ env: task.env, event: task.invocation.event }),
      { mode: 0o600 },
    );
    return;
  }
  const files = taskFiles(dir, index);
  if (shell.body !== null) await writeFile(files.body, shell.body, { mode: 0o600 });
  await writeFile(files.shell, shell.file, { mode: 0o600 });
}
