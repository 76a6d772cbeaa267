/**
 * @module executors/slurm/submissions
 * Gathers invocations into sbatch submissions: those with equal sbatch options go as one job array (up to
 * `maxArraySize` tasks); a lone invocation goes as a plain job. A group goes `arrayWindowMs` after its
 * first task, unless an sbatch of its shape is under way: then it keeps gathering until that returns (or
 * until it has waited `maxArrayWaitMs`). So the first jobs of a burst reach Slurm at once, while the rest
 * of the burst gathers into a few arrays, each as large as what came while the one before was written and
 * submitted (one sbatch and one job record for slurmctld per array), and a steady stream still goes out in
 * time. Each task finds its files by its index; they are written (by the spool's worker thread) as the
 * task joins, so an array goes as soon as its time comes. A task cancelled before its array went is left
 * out of it.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../../core/index.js';
import { PlatformError, toPlatformError } from '../../core/index.js';
import { formatInvocationFile } from '../../supervisor/invocation-file.js';
import type { Invocation, InvocationResult } from '../executor.js';
import type { SlurmExecutorConfig } from './config-schema.js';
import { arraySpec, batchScript, slurmJobName, submissionArgs, taskFiles } from './sbatch-script.js';
import type { SlurmCli } from './slurm-cli.js';
import { SUBMISSION_RECORD, type SubmissionRecord } from './orphans.js';
import { parseSbatchReply } from './slurm-replies.js';
import type { ShellTask } from './shell-task.js';
import { spoolError, type SpoolFailure, type SpoolIo, type SpoolOp, type SpoolOutcome } from './spool-io.js';

/** One invocation on its way through Slurm. */
export interface SlurmTask {
  invocation: Invocation;
  /** Slurm's job name for the service (`nubes-<service>`). */
  service: string;
  /** The invocation file's environment for the supervisor. */
  env: Record<string, string>;
  /** Its S3 key's id (revoked when it ends); null when it has none. */
  keyId: string | null;
  /** Submitted by an earlier server process and followed here from its files (orphans.ts). */
  adopted: boolean;
  /**
   * Adopted from an earlier process and run on the shell path: its result is in its task file, or in a
   * result file of its own when that process was of a version that wrote one.
   */
  adoptedShell: boolean;
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

/** A task for `invocation`, not yet planned nor submitted (its `settle` set by the caller). */
export function newTask(invocation: Invocation): SlurmTask {
  return {
    invocation,
    service: slurmJobName(invocation.service.name),
    env: {},
    keyId: null,
    adopted: false,
    adoptedShell: false,
    shell: null,
    submission: null,
    index: 0,
    slurmId: null,
    queuedMs: Date.now(),
    done: false,
    settle: () => undefined,
  };
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
  /** Its folder, named when the group opens: each task's files are written as it joins. */
  dir: string;
  /** Every task that joined, by index (its array task id); a withdrawn one is done and left out. */
  tasks: SlurmTask[];
  /** The writes of its folder and files, in order. */
  writes: Promise<SpoolOutcome[]>[];
  /** Scripts already written to its folder (`script-<hash>.sh`). */
  scripts: Set<string>;
  timer: NodeJS.Timeout | null;
  /** When its first task came: it goes `arrayWindowMs` after, or `maxArrayWaitMs` after at the latest. */
  firstMs: number;
  /** Its window closed while an sbatch of its shape was under way: it goes when that returns. */
  deferred: boolean;
}

export interface SubmissionsOptions {
  cli: SlurmCli;
  spool: SpoolIo;
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

  /**
   * Queues a task and writes its files at once (while the array gathers, not all at its end); it is
   * submitted when its group's window closes or the group is full.
   */
  add(task: SlurmTask, sbatchOptions: string[]): void {
    const key = sbatchOptions.join('\0');
    const group = this.groups.get(key) ?? this.open(key, sbatchOptions, task);
    task.index = group.tasks.length;
    group.tasks.push(task);
    const ops = taskFileOps(group.dir, task.index, task);
    const script = task.shell?.script;
    if (script !== undefined && !group.scripts.has(script.name)) {
      group.scripts.add(script.name);
      ops.push({ op: 'write', path: join(group.dir, script.name), data: script.content, mode: 0o700 });
    }
    group.writes.push(this.options.spool.run(ops, true));
    if (group.tasks.length >= this.options.config.maxArraySize) {
      this.flush(key, group);
    } else if (group.timer === null && !group.deferred) {
      this.arm(key, group, this.options.config.arrayWindowMs, false);
    }
  }

  /** A new group: its folder and batch script are written right away. */
  private open(key: string, options: string[], first: SlurmTask): Group {
    const { config, spool, spoolDir } = this.options;
    const dir = join(spoolDir, `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`);
    const script = batchScript({
      dir,
      node: config.supervisor.node,
      supervisor: config.supervisor.path,
      service: first.invocation.service.name,
    });
    const now = Date.now();
    const group: Group = {
      options,
      dir,
      tasks: [],
      writes: [
        spool.run(
          [
            { op: 'mkdir', path: dir, mode: 0o700 },
            { op: 'write', path: join(dir, 'job.sh'), data: script, mode: 0o700 },
          ],
          true,
        ),
      ],
      scripts: new Set(),
      timer: null,
      firstMs: now,
      deferred: false,
    };
    this.groups.set(key, group);
    return group;
  }

  /**
   * The group's timer: it goes `arrayWindowMs` after its first task (flush defers it while an sbatch of its
   * shape is under way), or, deferred, `maxArrayWaitMs` after its first task whatever is under way.
   */
  private arm(key: string, group: Group, afterFirstMs: number, force: boolean): void {
    group.timer = setTimeout(
      () => {
        group.timer = null;
        this.flush(key, group, force);
      },
      Math.max(0, group.firstMs + afterFirstMs - Date.now()),
    );
  }

  /**
   * Takes a task out of its group before submission (the caller ends it: it is then left out of the
   * array); false when it was already submitted (or submitting).
   */
  withdraw(task: SlurmTask): boolean {
    for (const group of this.groups.values()) if (group.tasks[task.index] === task) return true;
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
    const { maxArraySize, maxArrayWaitMs } = this.options.config;
    if (!now && (this.busy.get(key) ?? 0) > 0 && group.tasks.length < maxArraySize) {
      group.deferred = true;
      this.arm(key, group, maxArrayWaitMs, true);
      return;
    }
    this.groups.delete(key);
    const submitting = this.submit(group);
    const live = group.tasks.filter((task) => !task.done);
    for (const task of live)
      this.inFlight.set(
        task,
        submitting.then(() => task.slurmId),
      );
    this.busy.set(key, (this.busy.get(key) ?? 0) + 1);
    const flush = submitting.finally(() => {
      for (const task of live) this.inFlight.delete(task);
      this.flushes.delete(flush);
      const left = (this.busy.get(key) ?? 1) - 1;
      if (left > 0) this.busy.set(key, left);
      else this.busy.delete(key);
      const next = this.groups.get(key);
      if (next?.deferred === true) this.flush(key, next);
    });
    this.flushes.add(flush);
  }

  private async submit(group: Group): Promise<void> {
    const { cli, spool } = this.options;
    const { dir, tasks } = group;
    const startedMs = Date.now();
    try {
      const failed = (await Promise.all(group.writes))
        .flat()
        .find((outcome): outcome is SpoolFailure => outcome.error !== null);
      if (failed !== undefined) throw spoolError(failed, "cannot write the submission's files");
      // Tasks withdrawn while it gathered (cancelled) are left out of the array.
      const live = tasks.filter((task) => !task.done);
      if (live.length === 0) {
        await spool.run([{ op: 'rmtree', path: dir }]);
        return;
      }
      const writtenMs = Date.now();
      const array = tasks.length > 1 ? arraySpec(live.map((task) => task.index)) : null;
      const reply = await cli.expect('sbatch', submissionArgs(group.options, dir, array, true));
      const jobId = parseSbatchReply(reply);
      const submission: Submission = { dir, jobId, tasks, open: live.length };
      for (const task of live) {
        task.submission = submission;
        task.slurmId = array === null ? String(jobId) : `${jobId}_${task.index}`;
      }
      // What a later process needs to follow these tasks if this one stops before they end (orphans.ts).
      const record: SubmissionRecord = {
        slurmJobId: jobId,
        array: array !== null,
        tasks: live.map((task) => ({
          index: task.index,
          jobId: task.invocation.jobId,
          shell: task.shell !== null,
          keyId: task.keyId,
        })),
      };
      void spool.run([
        { op: 'write', path: join(dir, SUBMISSION_RECORD), data: JSON.stringify(record), mode: 0o600 },
      ]);
      this.sizes.push(live.length);
      this.options.logger.debug(
        { jobId, tasks: live.length, filesMs: writtenMs - startedMs, sbatchMs: Date.now() - writtenMs },
        'sbatch submission',
      );
      this.options.submitted(submission);
    } catch (thrown) {
      const error = toPlatformError(thrown);
      this.options.logger.warn({ error: error.toData(), tasks: tasks.length }, 'sbatch submission failed');
      await spool.run([{ op: 'rmtree', path: dir }]);
      for (const task of tasks) if (!task.done) this.options.rejected(task, error);
    }
  }
}

/**
 * The files of task `index`: its shell file (and its folder in the spool with the body staged, or the body
 * beside it), or its invocation file for the Node supervisor.
 */
function taskFileOps(dir: string, index: number, task: SlurmTask): SpoolOp[] {
  const files = taskFiles(dir, index);
  const shell = task.shell;
  if (shell === null) {
    const data = formatInvocationFile({ env: task.env, event: task.invocation.event });
    return [{ op: 'write', path: files.invocation, data, mode: 0o600 }];
  }
  const ops: SpoolOp[] = [];
  if (shell.inSpool) {
    ops.push(
      { op: 'mkdir', path: files.work, mode: 0o700 },
      { op: 'mkdir', path: `${files.work}/input`, mode: 0o700 },
      { op: 'mkdir', path: `${files.work}/output`, mode: 0o700 },
    );
    if (shell.body !== null) {
      const path = `${files.work}/input/${shell.inputName}`;
      ops.push({ op: 'write', path, data: shell.body, mode: 0o600 });
    }
  } else if (shell.body !== null) {
    ops.push({ op: 'write', path: files.body, data: shell.body, mode: 0o600 });
  }
  ops.push({ op: 'write', path: files.shell, data: shell.file, mode: 0o600 });
  return ops;
}
