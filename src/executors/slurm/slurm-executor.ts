/**
 * @module executors/slurm/slurm-executor
 * Runs each invocation as a Slurm job that stages the input in and the outputs out through the platform's
 * S3 endpoint with a key scoped to that job (revoked when the job ends) and writes its result to a file in
 * the job's folder. Jobs whose storage is the platform's own do this in the batch script itself (POSIX sh
 * and curl: shell-task.ts, shell-supervisor.ts); others start the standalone Node supervisor.
 *
 * - Submission: invocations of the same shape (equal sbatch options) go as one job array, gathered for
 *   `arrayWindowMs` after the first, or while an sbatch of that shape is under way (submissions.ts); a lone
 *   one goes as a plain job. Spool files are read and written by a worker thread (spool-io.ts).
 * - Completion: the result file, seen by a watch on the submission's folder as soon as it is renamed into
 *   place; squeue (read every `pollIntervalMs` while jobs are out) covers what leaves no result (Slurm's
 *   time limit, a lost node, a cancel outside Nubes) and feeds the live log of running jobs.
 * - Cancel (the invocation's signal, undeploy, close): scancel of the task; with `onStop: keep`, a stop of
 *   the server leaves submitted tasks running instead, their files and keys in place.
 * - Restart: a job that a killed (or, with `onStop: keep`, stopped) process left in Slurm is followed to its
 *   end when the queue runs it again (orphans.ts), not submitted a second time.
 */
import { constants as fsConstants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ErrorData, Logger } from '../../core/index.js';
import { PlatformError, toPlatformError } from '../../core/index.js';
import type { ServiceSpec } from '../../fdl/service-spec.js';
import type { ScopedKey } from '../../storage/scoped-access.js';
import type {
  DeployResult,
  Executor,
  ExecutorCapabilities,
  Invocation,
  InvocationResult,
} from '../executor.js';
import type { StorageAccess } from '../registry.js';
import type { SlurmExecutorConfig } from './config-schema.js';
import { serviceOptions, slurmJobName } from './sbatch-script.js';
import { SlurmCli } from './slurm-cli.js';
import { SpoolIo } from './spool-io.js';
import { newTask, Submissions, type SlurmTask } from './submissions.js';
import { PASSED_NODE_VARIABLES } from './shell-supervisor.js';
import { planShellTask, type ShellTask, type ShellTaskContext } from './shell-task.js';
import { anyTaskFiles, TaskTracker } from './task-tracker.js';
import { Orphans, type Orphan } from './orphans.js';
import { fromSlurmEnding } from './task-result.js';

export interface SlurmExecutorOptions {
  config: SlurmExecutorConfig;
  dataDir: string;
  logger: Logger;
  storage: StorageAccess | null;
}

export interface SlurmExecutor extends Executor {
  /** Submissions made so far and how many tasks each held (for tests and the benchmark). */
  readonly submissionSizes: readonly number[];
  /** Jobs run so far by the batch script itself and by the Node supervisor (for tests and the benchmark). */
  readonly jobPaths: Readonly<{ shell: number; supervisor: number }>;
}

/** Longest close() waits for cancelled jobs to leave Slurm (KillWait is 30 s by default). */
const CLOSE_WAIT_MS = 45_000;

/** Checks that Slurm's commands answer, then creates the executor (EXECUTOR_UNAVAILABLE if not). */
export async function createSlurmExecutor(options: SlurmExecutorOptions): Promise<SlurmExecutor> {
  const cli = new SlurmCli({ binDir: options.config.binDir, slurmConf: options.config.slurmConf });
  const probe = await cli.run('squeue', ['--version']).catch((error: unknown) => ({
    exitCode: -1,
    stdout: '',
    stderr: (error as Error).message,
  }));
  if (probe.exitCode !== 0) {
    throw new PlatformError(
      'EXECUTOR_UNAVAILABLE',
      `Slurm's commands do not run here: ${probe.stderr.trim() || `squeue exited ${probe.exitCode}`}`,
    );
  }
  const spoolDir = options.config.spoolDir ?? join(options.dataDir, 'slurm');
  await mkdir(spoolDir, { recursive: true, mode: 0o700 });
  const orphans = await Orphans.scan(spoolDir, options.logger);
  const { sandbox, landlockPath } = options.config;
  if (sandbox === 'auto' || sandbox === 'landlock') {
    // The nodes run the helper from the same path; one not built here (no C compiler) is likely missing there.
    const missing = await access(landlockPath, fsConstants.X_OK).then(
      () => false,
      () => true,
    );
    if (missing)
      options.logger.warn(
        { landlockPath },
        sandbox === 'auto'
          ? 'the Landlock helper is not built (npm run build needs a C compiler): jobs run in bubblewrap'
          : 'the Landlock helper is not built (npm run build needs a C compiler): jobs will fail with SANDBOX_UNAVAILABLE',
      );
  }
  return new SlurmExecutorImpl(options, cli, spoolDir, orphans);
}

class SlurmExecutorImpl implements SlurmExecutor {
  readonly name = 'slurm';
  readonly capabilities: ExecutorCapabilities;
  private readonly closing = new AbortController();
  private readonly tasks = new Set<SlurmTask>();
  private readonly submissions: Submissions;
  private readonly tracker: TaskTracker;
  private readonly spool = new SpoolIo();
  private abandonTimer: NodeJS.Timeout | null = null;
  private readonly sandbox: ShellTaskContext['sandbox'];
  readonly jobPaths = { shell: 0, supervisor: 0 };

  constructor(
    private readonly options: SlurmExecutorOptions,
    private readonly cli: SlurmCli,
    spoolDir: string,
    private readonly orphans: Orphans,
  ) {
    const { config } = options;
    this.capabilities = {
      sync: false,
      gpu: config.limits.gpu,
      containers: false,
      maxConcurrency: config.maxConcurrentJobs,
      limits: { timeoutMs: config.limits.timeoutMs, memoryBytes: config.limits.memoryBytes },
      // Jobs stage on their nodes, from the event itself and the platform's S3 endpoint.
      localFiles: false,
    };
    this.sandbox =
      config.sandbox === 'none'
        ? null
        : {
            landlockPath: config.sandbox === 'bwrap' ? null : config.landlockPath,
            bwrapPath: config.sandbox === 'landlock' ? null : config.bwrapPath,
            required: config.sandbox !== 'auto',
            hiddenDirs: [
              ...new Set([spoolDir, options.dataDir, ...config.hiddenPaths].map((dir) => resolve(dir))),
            ],
          };
    this.tracker = new TaskTracker({
      cli,
      spool: this.spool,
      pollIntervalMs: config.pollIntervalMs,
      accounting: config.accounting,
      logger: options.logger,
      finish: (task, result) => this.finish(task, result),
    });
    this.submissions = new Submissions({
      cli,
      spool: this.spool,
      spoolDir,
      config,
      logger: options.logger,
      submitted: (submission) => this.tracker.track(submission),
      rejected: (task, error) => this.finish(task, failedResult(task, error.toData())),
    });
    if (orphans.size > 0) {
      this.abandonTimer = setTimeout(() => void this.abandonOrphans(), config.adoptWithinMs);
      this.abandonTimer.unref();
    }
  }

  get submissionSizes(): readonly number[] {
    return this.submissions.sizes;
  }

  deploy(service: ServiceSpec): Promise<DeployResult> {
    const warnings: string[] = [];
    if (service.image !== '') {
      warnings.push(
        `the slurm executor runs the script on the compute node itself; image "${service.image}" is not run`,
      );
    }
    const usesStore = [...service.input, ...service.output].some((io) => io.provider === 'minio.default');
    if (usesStore && this.options.storage === null) {
      warnings.push(
        'the slurm executor has no S3 endpoint to give its jobs: they cannot stage files in or out',
      );
    }
    // Options are checked here so that a typo fails the deploy, not every job.
    serviceOptions(service, this.options.config);
    return Promise.resolve({ warnings });
  }

  async undeploy(serviceName: string): Promise<void> {
    const name = slurmJobName(serviceName);
    const ours = [...this.tasks].filter((task) => task.service === name);
    await Promise.all(ours.map((task) => this.cancel(task, 'the service was removed')));
  }

  async run(invocation: Invocation): Promise<InvocationResult> {
    if (this.closing.signal.aborted) {
      throw new PlatformError('EXECUTOR_UNAVAILABLE', 'the slurm executor is closed');
    }
    const options = serviceOptions(invocation.service, this.options.config);
    const task = newTask(invocation);
    const result = new Promise<InvocationResult>((resolve) => {
      task.settle = resolve;
    });
    this.tasks.add(task);
    const onAbort = () =>
      void (this.keepsOnStop(invocation.signal.reason)
        ? this.leave(task)
        : this.cancel(task, 'the job was cancelled'));
    invocation.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const orphan = this.orphans.take(invocation.jobId);
      if (orphan !== null) {
        this.adopt(task, orphan);
        if (invocation.signal.aborted) onAbort();
      } else if (invocation.signal.aborted) {
        onAbort();
      } else {
        const key = this.issueKey(invocation);
        task.keyId = key?.accessKeyId ?? null;
        task.shell = this.shellTask(invocation, key);
        this.jobPaths[task.shell === null ? 'supervisor' : 'shell'] += 1;
        // Only the Node supervisor reads an invocation file's environment.
        if (task.shell === null) task.env = this.jobEnvironment(invocation, key);
        this.submissions.add(task, options);
      }
      return await result;
    } finally {
      invocation.signal.removeEventListener('abort', onAbort);
      this.tasks.delete(task);
    }
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    if (this.abandonTimer !== null) clearTimeout(this.abandonTimer);
    const open = [...this.tasks];
    const keep = this.options.config.onStop === 'keep';
    await Promise.all(
      open.map((task) => (keep ? this.leave(task) : this.cancel(task, 'the executor was closed'))),
    );
    await this.submissions.close();
    // scancel returns at once; the jobs' processes are killed a moment later (COMPLETING). Nothing of
    // ours may run after close, so wait for Slurm to be done with them.
    const cancelled = keep ? [] : open;
    const ids = new Set(cancelled.map((task) => task.slurmId).filter((id): id is string => id !== null));
    await this.tracker.waitUntilGone(ids, CLOSE_WAIT_MS);
    this.tracker.close();
    await this.spool.close();
  }

  /** Cancels a task wherever it is: still gathering (never submitted), or in Slurm (scancel). */
  private async cancel(task: SlurmTask, why: string): Promise<void> {
    if (task.done) return;
    if (this.submissions.withdraw(task)) {
      this.finish(task, failedResult(task, { code: 'JOB_CANCELLED', message: why, retryable: false }));
      return;
    }
    // Submitting right now: cancel as soon as Slurm has named it.
    const slurmId = task.slurmId ?? (await this.submissions.whenSubmitted(task));
    if (slurmId !== null && !task.done) {
      await this.cli.expect('scancel', [slurmId]).catch((error: unknown) => {
        this.options.logger.warn({ error: toPlatformError(error).toData(), slurmId }, 'scancel failed');
      });
    }
    if (!task.done) {
      await this.tracker.collectLog(task);
      this.finish(task, failedResult(task, { code: 'JOB_CANCELLED', message: why, retryable: false }));
    }
  }

  /** Whether a stop with this reason leaves the job running in Slurm (`onStop: keep`, the server stopping). */
  private keepsOnStop(reason: unknown): boolean {
    return (
      this.options.config.onStop === 'keep' &&
      reason instanceof PlatformError &&
      reason.code === 'UNAVAILABLE'
    );
  }

  /**
   * Leaves a submitted task running in Slurm for the next start to adopt (orphans.ts): its files and key
   * stay, and the platform's job goes back to the queue. One not yet submitted is cancelled.
   */
  private async leave(task: SlurmTask): Promise<void> {
    if (task.done) return;
    const slurmId = this.submissions.withdraw(task)
      ? null
      : (task.slurmId ?? (await this.submissions.whenSubmitted(task)));
    if (task.done) return;
    if (slurmId === null) {
      this.finish(
        task,
        failedResult(task, { code: 'JOB_CANCELLED', message: 'the server stopped', retryable: true }),
      );
      return;
    }
    await this.tracker.collectLog(task);
    if (task.done) return;
    task.done = true;
    this.tracker.forget(task);
    this.options.logger.info(
      { slurmId },
      'the server stops: a job is left running in Slurm for its next start',
    );
    task.settle(
      failedResult(task, {
        code: 'UNAVAILABLE',
        message: `the server stopped; Slurm job ${slurmId} runs on, for the next start to follow`,
        retryable: true,
      }),
    );
  }

  private finish(task: SlurmTask, result: InvocationResult): void {
    if (task.done) return;
    task.done = true;
    if (task.keyId !== null) this.options.storage?.keys.revoke(task.keyId);
    this.tracker.untrack(task);
    task.settle(result);
  }

  /** Follows the task an earlier process submitted for this job instead of submitting it again. */
  private adopt(task: SlurmTask, orphan: Orphan): void {
    this.options.logger.info(
      { jobId: orphan.jobId, slurmId: orphan.slurmId },
      'a job submitted by an earlier process is followed to its end',
    );
    task.adopted = true;
    task.adoptedShell = orphan.shell;
    task.submission = orphan.submission;
    task.index = orphan.index;
    task.slurmId = orphan.slurmId;
    task.keyId = orphan.keyId;
    orphan.submission.tasks[orphan.index] = task;
    this.tracker.adopt(task);
  }

  /**
   * Cancels the jobs of an earlier process that nothing claimed in `adoptWithinMs` (their platform jobs had
   * no attempts left, or their services are gone), revokes their keys and removes their files.
   */
  private async abandonOrphans(): Promise<void> {
    this.abandonTimer = null;
    const left = this.orphans.takeAll();
    if (left.length === 0 || this.closing.signal.aborted) return;
    this.options.logger.warn(
      { tasks: left.length, slurmIds: left.map((orphan) => orphan.slurmId) },
      'Slurm jobs of an earlier process that no job claimed are cancelled',
    );
    await this.cli
      .expect(
        'scancel',
        left.map((orphan) => orphan.slurmId),
      )
      .catch((error: unknown) => {
        this.options.logger.warn({ error: toPlatformError(error).toData() }, 'scancel failed');
      });
    for (const orphan of left) {
      if (orphan.keyId !== null) this.options.storage?.keys.revoke(orphan.keyId);
      this.tracker.release(orphan.submission, anyTaskFiles(orphan.submission, orphan.index));
    }
  }

  /** The task's shell path, or null for the Node supervisor (turned off, or a job it does not cover). */
  private shellTask(invocation: Invocation, key: ScopedKey | null): ShellTask | null {
    if (!this.options.config.shellJobs) return null;
    const storage = this.options.storage;
    const planned = planShellTask(invocation, {
      endpoint: storage === null ? null : (this.options.config.storageEndpoint ?? storage.endpoint()),
      region: storage?.region ?? 'us-east-1',
      key,
      jobFolder: this.options.config.jobFolder,
      sandbox: this.sandbox,
    });
    if ('task' in planned) return planned.task;
    this.options.logger.debug(
      { jobId: invocation.jobId, why: planned.fallback },
      'the job runs the Node supervisor on its node',
    );
    return null;
  }

  /** The supervisor's environment for this invocation (the invocation file's `env`). */
  private jobEnvironment(invocation: Invocation, key: ScopedKey | null): Record<string, string> {
    const env: Record<string, string> = {
      FUNCTION_CONFIG: Buffer.from(JSON.stringify(invocation.service)).toString('base64'),
      JOB_UUID: invocation.jobId,
      // What the node tells the job (its id, array task, CPUs, the GPUs --gres gave it) reaches the script.
      NUBES_PASS_ENV: PASSED_NODE_VARIABLES.join(','),
    };
    // The script in the same sandbox as on the shell path (the spool with other jobs' files and keys hidden).
    if (this.sandbox !== null) {
      const { landlockPath, bwrapPath } = this.sandbox;
      if (landlockPath !== null) env.NUBES_SANDBOX_LANDLOCK = landlockPath;
      if (bwrapPath !== null) env.NUBES_SANDBOX_BWRAP = bwrapPath;
      // One folder a line (the configuration refuses paths with line breaks).
      env.NUBES_SANDBOX_HIDE = this.sandbox.hiddenDirs.join('\n');
      if (this.sandbox.required) env.NUBES_SANDBOX_REQUIRED = '1';
    }
    const storage = this.options.storage;
    // The platform's store, for a job that reads or writes it (one that does not gets no key).
    if (storage !== null && key !== null) {
      env.NUBES_S3_ENDPOINT = this.options.config.storageEndpoint ?? storage.endpoint();
      env.NUBES_S3_REGION = storage.region;
      env.NUBES_S3_ACCESS_KEY = key.accessKeyId;
      env.NUBES_S3_SECRET_KEY = key.secretAccessKey;
    }
    return env;
  }

  /**
   * A key that reads the job's input and writes under the service's outputs, nothing else; none for a job
   * that touches neither (a key that allows nothing would cost a write to the state store for nothing).
   */
  private issueKey(invocation: Invocation): ScopedKey | null {
    const storage = this.options.storage;
    if (storage === null) return null;
    const input = invocation.input;
    // An input on another provider is read with that provider's own credentials, not this key.
    const onStore = input !== null && (input.provider ?? 'minio.default') === 'minio.default';
    const read = onStore ? [{ bucket: input.bucket, key: input.key }] : [];
    const write = invocation.service.output
      .filter((output) => output.provider === 'minio.default')
      .map((output) => ({ bucket: output.bucket, prefix: output.folder === '' ? '' : `${output.folder}/` }));
    if (read.length === 0 && write.length === 0) return null;
    return storage.keys.issue({ read, write }, this.options.config.credentialTtlMs);
  }
}

function failedResult(task: SlurmTask, error: ErrorData): InvocationResult {
  const now = Date.now();
  return {
    ...fromSlurmEnding(null, {
      startedMs: task.queuedMs,
      finishedMs: now,
      outputDir: task.invocation.workDir,
      timeoutMs: task.invocation.service.timeoutMs,
      memoryBytes: task.invocation.service.memoryBytes,
    }),
    error,
  };
}
