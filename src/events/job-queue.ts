/**
 * @module events/job-queue
 * The durable job queue in SQLite: enqueue (inside the caller's transaction), lease with expiry, complete,
 * retry with exponential backoff, dead letters (jobs that failed for good) and re-drive.
 *
 * Statuses: queued -> running -> succeeded | failed (dead letter) | cancelled; a failed attempt whose error
 * is retryable and whose service allows more attempts goes back to queued with a later `run_after`.
 */
import type { Statement } from 'better-sqlite3';
import type { Clock, ErrorData } from '../core/index.js';
import { withRelaxedSync, type Db } from '../state/index.js';
import { CommitGroup } from '../state/commit-group.js';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type JobKind = 'storage' | 'http';

export interface JobRecord {
  id: string;
  service: string;
  kind: JobKind;
  status: JobStatus;
  event: string;
  inputBucket: string | null;
  inputKey: string | null;
  /** The storage provider of the input (`<type>.<id>`); null: the embedded store. */
  inputProvider: string | null;
  attempts: number;
  maxAttempts: number;
  runAfterMs: number;
  exitCode: number | null;
  error: ErrorData | null;
  createdMs: number;
  startedMs: number | null;
  finishedMs: number | null;
  /** Runs on executors so far, oldest first (see JobRun). */
  runs: JobRun[];
}

export interface NewJob {
  id: string;
  service: string;
  kind: JobKind;
  event: string;
  inputBucket: string | null;
  inputKey: string | null;
  /** The input's storage provider when it is not the embedded store. @default null */
  inputProvider?: string | null;
  maxAttempts: number;
}

export interface JobOutcome {
  status: 'succeeded' | 'failed';
  exitCode: number | null;
  error: ErrorData | null;
  startedMs: number;
  finishedMs: number;
  /** The executor runs of this attempt (one, or two for a hybrid job resubmitted to its batch executor). */
  runs?: JobRun[];
}

/** One run of a job on one executor, kept in the job's history across attempts. */
export interface JobRun {
  /** The attempt (1 = first) this run belongs to. */
  attempt: number;
  executor: string;
  /** The role the executor played for a hybrid service; null for a service on its own executor. */
  role: 'function' | 'batch' | null;
  /** `skipped`: the job outgrew the executor before it started (memory, GPU), so it went to the next. */
  status: 'succeeded' | 'failed' | 'skipped';
  exitCode: number | null;
  error: ErrorData | null;
  startedMs: number;
  finishedMs: number;
  /** Why the job went on to another executor, when it did. */
  note: string | null;
}

/** What happened to a job, as told to `JobQueue.subscribe` listeners. */
export type JobChangeType =
  | 'enqueued'
  | 'started'
  | 'retrying'
  | 'finished'
  | 'recovered'
  | 'requeued'
  | 'cancelled'
  | 'redriven'
  | 'deleted';

export interface JobChange {
  type: JobChangeType;
  id: string;
  service: string;
  /** The job after the change; null for `deleted` and `enqueued`. */
  job: JobRecord | null;
}

export type JobChangeListener = (change: JobChange) => void;

export interface RetryTiming {
  initialBackoffMs: number;
  maxBackoffMs: number;
}

interface JobRow {
  id: string;
  service: string;
  kind: string;
  status: string;
  event: string;
  input_bucket: string | null;
  input_key: string | null;
  input_provider: string | null;
  attempts: number;
  max_attempts: number;
  run_after: number;
  exit_code: number | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  runs: string;
}

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    service: row.service,
    kind: row.kind as JobKind,
    status: row.status as JobStatus,
    event: row.event,
    inputBucket: row.input_bucket,
    inputKey: row.input_key,
    inputProvider: row.input_provider,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAfterMs: row.run_after,
    exitCode: row.exit_code,
    error: row.error === null ? null : (JSON.parse(row.error) as ErrorData),
    createdMs: row.created_at,
    startedMs: row.started_at,
    finishedMs: row.finished_at,
    runs: JSON.parse(row.runs) as JobRun[],
  };
}

/** Delay before attempt `attempt + 1`, after `attempt` failures: initial × 2^(attempt-1), capped. */
export function backoffMs(attempt: number, timing: RetryTiming): number {
  const exponent = Math.max(0, attempt - 1);
  return Math.min(timing.maxBackoffMs, timing.initialBackoffMs * 2 ** Math.min(exponent, 30));
}

export class JobQueue {
  private readonly insert: Statement;
  private readonly selectReady: Statement;
  private readonly markRunning: Statement;
  private readonly selectOne: Statement;
  private readonly nextSeq: Statement;
  private seq: number;
  /** Prepared once per SQL text: preparing costs more than running these small statements. */
  private readonly statements = new Map<string, Statement>();
  private readonly listeners = new Set<JobChangeListener>();
  private pendingChanges: JobChange[] = [];
  /** Async invocations that arrive together share one durable commit (see enqueueCommitted). */
  private readonly invocations: CommitGroup;
  /** Outcomes of jobs that end together share one commit (see completeCommitted). */
  private readonly completions: CommitGroup;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    /** Identifies this process's leases. */
    private readonly owner: string,
  ) {
    this.insert = db.prepare(
      `INSERT INTO jobs (id, service, kind, status, event, input_bucket, input_key, input_provider, attempts,
         max_attempts, run_after, created_at, seq)
       VALUES (@id, @service, @kind, 'queued', @event, @inputBucket, @inputKey, @inputProvider, 0,
         @maxAttempts, @now, @now, @seq)`,
    );
    this.selectReady = db.prepare(
      `SELECT * FROM jobs WHERE status = 'queued' AND run_after <= ? ORDER BY run_after, seq LIMIT ?`,
    );
    this.markRunning = db.prepare(
      `UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = ?, lease_until = ?,
         started_at = ?, finished_at = NULL
       WHERE id = ? AND status = 'queued'`,
    );
    this.selectOne = db.prepare(`SELECT * FROM jobs WHERE id = ?`);
    this.nextSeq = db.prepare(`SELECT COALESCE(MAX(seq), 0) AS seq FROM jobs`);
    this.seq = (this.nextSeq.get() as { seq: number }).seq;
    this.invocations = new CommitGroup(db, null, 1024, true);
    this.completions = new CommitGroup(db, null, 1024, false);
  }

  private statement(sql: string): Statement {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  /**
   * Calls `listener` after each change of a job (dashboards, metrics). Changes are delivered in a microtask,
   * so after the synchronous transaction that made them; an `enqueued` change whose transaction rolled back
   * names a job that does not exist. Returns the unsubscribe function.
   */
  subscribe(listener: JobChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(type: JobChangeType, id: string, service: string, job: JobRecord | null): void {
    if (this.listeners.size === 0) return;
    this.pendingChanges.push({ type, id, service, job });
    if (this.pendingChanges.length > 1) return;
    queueMicrotask(() => {
      const changes = this.pendingChanges;
      this.pendingChanges = [];
      for (const change of changes) {
        for (const listener of this.listeners) {
          try {
            listener(change);
          } catch {
            // A listener's failure is its own: the queue goes on.
          }
        }
      }
    });
  }

  private notifyCurrent(type: JobChangeType, id: string): void {
    if (this.listeners.size === 0) return;
    const job = this.get(id);
    if (job) this.notify(type, id, job.service, job);
  }

  /** Adds a job. Call inside the transaction that records what caused it. */
  enqueue(job: NewJob): void {
    this.seq += 1;
    this.insert.run({ inputProvider: null, ...job, now: this.clock.now(), seq: this.seq });
    this.notify('enqueued', job.id, job.service, null);
  }

  /**
   * Adds a job on its own (an async invocation): `admit` (a quota check that throws to refuse) and the
   * insert run together in the next shared commit, with the other invocations that arrived in the same turn
   * of the event loop, so a burst of requests pays for one fsync instead of one each. Resolves once the job
   * is durably stored (synchronous = FULL), so the caller acknowledges nothing that could still be lost.
   */
  enqueueCommitted(job: NewJob, admit: () => void = () => undefined): Promise<void> {
    return this.invocations.run(() => {
      admit();
      this.enqueue(job);
    });
  }

  /** Shared commits made and invocations they held, for tests and benchmarks. */
  get invocationCommits(): { commits: number; steps: number } {
    return this.invocations.stats;
  }

  /** Shared commits made and job outcomes they held, for tests and benchmarks. */
  get completionCommits(): { commits: number; steps: number } {
    return this.completions.stats;
  }

  /** Commits the invocations and outcomes still waiting for their turn (before the database closes). */
  flushCommits(): void {
    this.invocations.flush();
    this.completions.flush();
  }

  /**
   * Leases up to `limit` ready jobs, oldest first, skipping services that `accept` refuses (their
   * concurrency limit is reached). Each leased job counts one attempt.
   */
  lease(limit: number, leaseMs: number, accept: (service: string) => boolean): JobRecord[] {
    if (limit <= 0) return [];
    const now = this.clock.now();
    return withRelaxedSync(this.db, () =>
      this.db.transaction(() => {
        const leased: JobRecord[] = [];
        // Look past the first `limit` rows so that a busy service does not starve the others.
        const rows = this.selectReady.all(now, limit * 8 + 16) as JobRow[];
        for (const row of rows) {
          if (leased.length >= limit) break;
          if (!accept(row.service)) continue;
          this.markRunning.run(this.owner, now + leaseMs, now, row.id);
          const job = toRecord({ ...row, status: 'running', attempts: row.attempts + 1, started_at: now });
          leased.push(job);
          this.notify('started', job.id, job.service, job);
        }
        return leased;
      })(),
    );
  }

  /** Extends the leases of jobs this process is running. */
  renewLeases(jobIds: string[], leaseMs: number): void {
    if (jobIds.length === 0) return;
    const until = this.clock.now() + leaseMs;
    const update = this.statement(
      `UPDATE jobs SET lease_until = ? WHERE id = ? AND status = 'running' AND lease_owner = ?`,
    );
    this.db.transaction(() => {
      for (const id of jobIds) update.run(until, id, this.owner);
    })();
  }

  /**
   * Puts back jobs whose lease expired (a crashed worker or a killed server), or, with `all`, every running
   * job not owned by this process (used at start-up). A job out of attempts becomes a dead letter.
   */
  recoverLeases(options: { all?: boolean } = {}): number {
    const now = this.clock.now();
    const where = options.all ? `lease_owner IS NOT ?` : `lease_until < ? `;
    const arg = options.all ? this.owner : now;
    return this.db.transaction(() => {
      const lost = this.db
        .prepare(`SELECT * FROM jobs WHERE status = 'running' AND ${where}`)
        .all(arg) as JobRow[];
      const error = JSON.stringify({
        code: 'EXECUTOR_UNAVAILABLE',
        message: 'the job was interrupted (its worker stopped before it finished)',
        retryable: true,
      });
      for (const row of lost) {
        if (row.attempts >= row.max_attempts) {
          this.db
            .prepare(
              `UPDATE jobs SET status = 'failed', error = ?, finished_at = ?, lease_owner = NULL, lease_until = NULL
               WHERE id = ?`,
            )
            .run(error, now, row.id);
        } else {
          this.db
            .prepare(
              `UPDATE jobs SET status = 'queued', run_after = ?, error = ?, lease_owner = NULL, lease_until = NULL
               WHERE id = ?`,
            )
            .run(now, error, row.id);
        }
        this.notifyCurrent('recovered', row.id);
      }
      return lost.length;
    })();
  }

  /** Records the end of an attempt; a retryable failure with attempts left is queued again after a backoff. */
  complete(jobId: string, outcome: JobOutcome, timing: RetryTiming): JobRecord | null {
    return withRelaxedSync(this.db, () =>
      this.db.transaction(() => this.completeInTransaction(jobId, outcome, timing))(),
    );
  }

  /**
   * `complete` in the next shared commit, with the outcomes of the other jobs that end in the same turn of
   * the event loop (a burst's jobs end hundreds a second: one commit each cost the server more than the
   * rest of their bookkeeping). Resolves once that commit is made (relaxed sync, as `complete`).
   */
  completeCommitted(jobId: string, outcome: JobOutcome, timing: RetryTiming): Promise<JobRecord | null> {
    return this.completions.run(() => this.completeInTransaction(jobId, outcome, timing));
  }

  private completeInTransaction(jobId: string, outcome: JobOutcome, timing: RetryTiming): JobRecord | null {
    const now = this.clock.now();
    const row = this.selectOne.get(jobId) as JobRow | undefined;
    if (!row || row.status !== 'running') return row ? toRecord(row) : null;
    const error = outcome.error === null ? null : JSON.stringify(outcome.error);
    if (outcome.runs !== undefined && outcome.runs.length > 0) {
      const runs = [...(JSON.parse(row.runs) as JobRun[]), ...outcome.runs];
      this.statement(`UPDATE jobs SET runs = ? WHERE id = ?`).run(JSON.stringify(runs), jobId);
    }
    const retry =
      outcome.status === 'failed' && outcome.error?.retryable === true && row.attempts < row.max_attempts;
    if (retry) {
      this.statement(
        `UPDATE jobs SET status = 'queued', run_after = ?, exit_code = ?, error = ?, lease_owner = NULL,
           lease_until = NULL WHERE id = ?`,
      ).run(now + backoffMs(row.attempts, timing), outcome.exitCode, error, jobId);
    } else {
      this.statement(
        `UPDATE jobs SET status = ?, exit_code = ?, error = ?, started_at = ?, finished_at = ?,
           lease_owner = NULL, lease_until = NULL WHERE id = ?`,
      ).run(outcome.status, outcome.exitCode, error, outcome.startedMs, outcome.finishedMs, jobId);
    }
    const job = toRecord(this.selectOne.get(jobId) as JobRow);
    this.notify(retry ? 'retrying' : 'finished', job.id, job.service, job);
    return job;
  }

  /** Gives a running job back to the queue without charging the attempt (shutdown interrupted it). */
  requeue(jobId: string): void {
    this.db
      .prepare(
        `UPDATE jobs SET status = 'queued', attempts = MAX(0, attempts - 1), run_after = ?, lease_owner = NULL,
           lease_until = NULL, started_at = NULL WHERE id = ? AND status = 'running'`,
      )
      .run(this.clock.now(), jobId);
    this.notifyCurrent('requeued', jobId);
  }

  /** Marks a queued or running job cancelled; returns whether it was still active. */
  cancel(jobId: string): boolean {
    const result = this.db
      .prepare(
        `UPDATE jobs SET status = 'cancelled', finished_at = ?, lease_owner = NULL, lease_until = NULL,
           error = '{"code":"JOB_CANCELLED","message":"cancelled by a user","retryable":false}'
         WHERE id = ? AND status IN ('queued', 'running')`,
      )
      .run(this.clock.now(), jobId);
    if (result.changes > 0) this.notifyCurrent('cancelled', jobId);
    return result.changes > 0;
  }

  /** Re-drives a dead letter (or any finished job): queued again with a fresh set of attempts. */
  redrive(jobId: string): boolean {
    const result = this.db
      .prepare(
        `UPDATE jobs SET status = 'queued', attempts = 0, run_after = ?, exit_code = NULL, error = NULL,
           started_at = NULL, finished_at = NULL WHERE id = ? AND status IN ('failed', 'cancelled', 'succeeded')`,
      )
      .run(this.clock.now(), jobId);
    if (result.changes > 0) this.notifyCurrent('redriven', jobId);
    return result.changes > 0;
  }

  get(jobId: string): JobRecord | null {
    const row = this.selectOne.get(jobId) as JobRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** Jobs of a service, newest first, paginated by offset. */
  listByService(
    service: string,
    options: { offset: number; limit: number; statuses?: JobStatus[] },
  ): {
    jobs: JobRecord[];
    total: number;
  } {
    const statuses = options.statuses ?? [];
    const filter = statuses.length > 0 ? `AND status IN (${statuses.map(() => '?').join(',')})` : '';
    const rows = this.statement(
      `SELECT * FROM jobs WHERE service = ? ${filter} ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?`,
    ).all(service, ...statuses, options.limit, options.offset) as JobRow[];
    const total = (
      this.statement(`SELECT COUNT(*) AS n FROM jobs WHERE service = ? ${filter}`).get(
        service,
        ...statuses,
      ) as {
        n: number;
      }
    ).n;
    return { jobs: rows.map(toRecord), total };
  }

  /** Dead letters: jobs that failed for good, oldest first. */
  deadLetters(service?: string): JobRecord[] {
    const rows = (
      service === undefined
        ? this.statement(`SELECT * FROM jobs WHERE status = 'failed' ORDER BY finished_at`).all()
        : this.db
            .prepare(`SELECT * FROM jobs WHERE status = 'failed' AND service = ? ORDER BY finished_at`)
            .all(service)
    ) as JobRow[];
    return rows.map(toRecord);
  }

  /** Deletes finished jobs of a service (all = also queued/running/failed); returns the deleted ids. */
  deleteJobs(service: string, options: { all: boolean }): string[] {
    const statuses = options.all ? null : ['succeeded'];
    const rows = (
      statuses === null
        ? this.statement(`SELECT id FROM jobs WHERE service = ?`).all(service)
        : this.statement(`SELECT id FROM jobs WHERE service = ? AND status = 'succeeded'`).all(service)
    ) as { id: string }[];
    const del = this.statement(`DELETE FROM jobs WHERE id = ?`);
    this.db.transaction(() => {
      for (const row of rows) del.run(row.id);
    })();
    for (const row of rows) this.notify('deleted', row.id, service, null);
    return rows.map((row) => row.id);
  }

  deleteJob(jobId: string): boolean {
    const service = this.listeners.size > 0 ? this.get(jobId)?.service : undefined;
    const deleted = this.statement(`DELETE FROM jobs WHERE id = ?`).run(jobId).changes > 0;
    if (deleted && service !== undefined) this.notify('deleted', jobId, service, null);
    return deleted;
  }

  counts(): Record<JobStatus, number> {
    const result: Record<JobStatus, number> = {
      queued: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    };
    const rows = this.statement(`SELECT status, COUNT(*) AS n FROM jobs GROUP BY status`).all() as {
      status: JobStatus;
      n: number;
    }[];
    for (const row of rows) result[row.status] = row.n;
    return result;
  }

  countsByService(service: string): Record<JobStatus, number> {
    const result: Record<JobStatus, number> = {
      queued: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    };
    const rows = this.db
      .prepare(`SELECT status, COUNT(*) AS n FROM jobs WHERE service = ? GROUP BY status`)
      .all(service) as { status: JobStatus; n: number }[];
    for (const row of rows) result[row.status] = row.n;
    return result;
  }

  /** The earliest `run_after` of a queued job, for the dispatcher's next wake-up. */
  nextRunAfter(): number | null {
    const row = this.statement(`SELECT MIN(run_after) AS t FROM jobs WHERE status = 'queued'`).get() as {
      t: number | null;
    };
    return row.t;
  }
}
