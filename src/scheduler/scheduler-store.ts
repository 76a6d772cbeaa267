/**
 * @module scheduler/scheduler-store
 * SQLite rows of the scheduler and their mapping to the balancer's types. Every write of a job or a
 * partition is conditional on the version it read (optimistic concurrency): a write that finds another
 * version changes nothing and returns false, and the caller re-reads and retries.
 */
import type { Db } from '../state/index.js';
import type { JobBalance, PartitionBalance, PartitionState } from './balancer.js';
import type { JobSpec } from './job-spec.js';

/** Job lifecycle. */
export type JobState = 'pending' | 'running' | 'finishing' | 'succeeded' | 'failed' | 'cancelled' | 'expired';

export const FINAL_JOB_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled', 'expired'];

export interface JobRow {
  id: string;
  tenant: string;
  name: string | null;
  spec: JobSpec;
  state: JobState;
  version: number;
  reportIntervalMs: number;
  epochMs: number;
  deadlineAt: number | null;
  expiresAt: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  seq: number;
  partitionCount: number;
  balance: JobBalance;
  overrun: number;
  deadlineCheckedAt: number | null;
  result: unknown;
  error: unknown;
}

export interface PartitionRow {
  jobId: string;
  index: number;
  tenant: string;
  jobSeq: number;
  attempt: number;
  failures: number;
  version: number;
  site: string | null;
  tokenHash: string | null;
  leaseUntil: number | null;
  lastReportAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  result: unknown;
  balance: PartitionBalance;
}

/** Every column of sched_jobs but `spec` (immutable, parsed once and cached). */
const JOB_COLUMNS = `id, tenant, name, state, version, iterations, report_interval_ms, epoch_ms, deadline_at, expires_at,
  created_at, started_at, finished_at, seq, partition_count, sum_done, sum_assigned, sum_speed, sum_speed_time,
  reserved, active, trusted, pending, missing, finished, finished_done, overrun, deadline_checked_at, result, error`;

interface RawJob {
  id: string;
  tenant: string;
  name: string | null;
  state: string;
  version: number;
  iterations: number;
  report_interval_ms: number;
  epoch_ms: number;
  deadline_at: number | null;
  expires_at: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  seq: number;
  partition_count: number;
  sum_done: number;
  sum_assigned: number;
  sum_speed: number;
  sum_speed_time: number;
  reserved: number;
  active: number;
  trusted: number;
  pending: number;
  missing: number;
  finished: number;
  finished_done: number;
  overrun: number;
  deadline_checked_at: number | null;
  result: string | null;
  error: string | null;
}

interface RawPartition {
  job_id: string;
  idx: number;
  tenant: string;
  job_seq: number;
  attempt: number;
  failures: number;
  state: string;
  version: number;
  site: string | null;
  token_hash: string | null;
  lease_until: number | null;
  assigned: number;
  done: number;
  speed: number;
  trusted: number;
  last_report_at: number | null;
  last_report_sec: number;
  last_elapsed_sec: number;
  slow_reports: number;
  started_at: number | null;
  finished_at: number | null;
  result: string | null;
}

function parseJson(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}

function toJob(raw: RawJob, spec: JobSpec): JobRow {
  return {
    id: raw.id,
    tenant: raw.tenant,
    name: raw.name,
    spec,
    state: raw.state as JobState,
    version: raw.version,
    reportIntervalMs: raw.report_interval_ms,
    epochMs: raw.epoch_ms,
    deadlineAt: raw.deadline_at,
    expiresAt: raw.expires_at,
    createdAt: raw.created_at,
    startedAt: raw.started_at,
    finishedAt: raw.finished_at,
    seq: raw.seq,
    partitionCount: raw.partition_count,
    balance: {
      iterations: raw.iterations,
      sumDone: raw.sum_done,
      sumAssigned: raw.sum_assigned,
      sumSpeed: raw.sum_speed,
      sumSpeedTime: raw.sum_speed_time,
      reserved: raw.reserved,
      active: raw.active,
      trusted: raw.trusted,
      pending: raw.pending,
      missing: raw.missing,
      finished: raw.finished,
      finishedDone: raw.finished_done,
    },
    overrun: raw.overrun,
    deadlineCheckedAt: raw.deadline_checked_at,
    result: parseJson(raw.result),
    error: parseJson(raw.error),
  };
}

/** A job row that shares nothing mutable with `job` (spec is frozen; result and error are replaced, not edited). */
function copyJob(job: JobRow): JobRow {
  return { ...job, balance: { ...job.balance } };
}

function toPartition(raw: RawPartition): PartitionRow {
  return {
    jobId: raw.job_id,
    index: raw.idx,
    tenant: raw.tenant,
    jobSeq: raw.job_seq,
    attempt: raw.attempt,
    failures: raw.failures,
    version: raw.version,
    site: raw.site,
    tokenHash: raw.token_hash,
    leaseUntil: raw.lease_until,
    lastReportAt: raw.last_report_at,
    startedAt: raw.started_at,
    finishedAt: raw.finished_at,
    result: parseJson(raw.result),
    balance: {
      state: raw.state as PartitionState,
      assigned: raw.assigned,
      done: raw.done,
      speed: raw.speed,
      trusted: raw.trusted === 1,
      lastReportSec: raw.last_report_sec,
      lastElapsedSec: raw.last_elapsed_sec,
      slowReports: raw.slow_reports,
    },
  };
}

/** Most parsed job specs kept in memory (a spec never changes once the job is created). */
const SPEC_CACHE_SIZE = 4096;

/**
 * Prepared statements over the scheduler's tables. Statements are prepared once, in the constructor; the
 * protocol path (getJob, getPartition, writeJob, writePartition, addSample) binds positional parameters and
 * never parses the job's spec again (see `specOf`).
 */
export class SchedulerStore {
  private readonly stmts;
  private readonly specs = new Map<string, JobSpec>();
  /** Job rows as this connection last read or wrote them, inside `withJobCache` only. */
  private jobCache: Map<string, JobRow> | null = null;

  constructor(readonly db: Db) {
    this.stmts = {
      getJob: db.prepare<[string], RawJob>(`SELECT ${JOB_COLUMNS} FROM sched_jobs WHERE id = ?`),
      getSpec: db.prepare<[string], { spec: string }>('SELECT spec FROM sched_jobs WHERE id = ?'),
      getPartition: db.prepare<[string, number], RawPartition>(
        'SELECT * FROM sched_partitions WHERE job_id = ? AND idx = ?',
      ),
      nextSeq: db.prepare<[], { seq: number }>('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM sched_jobs'),
      insertJob: db.prepare(
        `INSERT INTO sched_jobs (id, tenant, name, spec, state, iterations, report_interval_ms, epoch_ms,
           deadline_at, expires_at, created_at, seq, partition_count)
         VALUES (@id, @tenant, @name, @spec, 'pending', @iterations, @reportIntervalMs, @epochMs,
           @deadlineAt, @expiresAt, @createdAt, @seq, 0)`,
      ),
      insertPartition: db.prepare(
        `INSERT INTO sched_partitions (job_id, idx, tenant, job_seq, state) VALUES (?, ?, ?, ?, 'queued')`,
      ),
      updateJob: db.prepare<unknown[]>(
        `UPDATE sched_jobs SET version = version + 1, state = ?, started_at = ?, finished_at = ?,
           partition_count = ?, sum_done = ?, sum_assigned = ?, sum_speed = ?, sum_speed_time = ?, reserved = ?,
           active = ?, trusted = ?, pending = ?, missing = ?, finished = ?, finished_done = ?, overrun = ?,
           deadline_checked_at = ?, result = ?, error = ?
         WHERE id = ? AND version = ?`,
      ),
      updatePartition: db.prepare<unknown[]>(
        `UPDATE sched_partitions SET version = version + 1, attempt = ?, failures = ?, state = ?, site = ?,
           token_hash = ?, lease_until = ?, assigned = ?, done = ?, speed = ?, trusted = ?, last_report_at = ?,
           last_report_sec = ?, last_elapsed_sec = ?, slow_reports = ?, started_at = ?, finished_at = ?, result = ?
         WHERE job_id = ? AND idx = ? AND version = ?`,
      ),
      insertSample: db.prepare(
        'INSERT INTO sched_speed_samples (job_id, idx, attempt, at, done, speed) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      listPartitions: db.prepare<[string], RawPartition>(
        'SELECT * FROM sched_partitions WHERE job_id = ? ORDER BY idx',
      ),
      listJobs: db.prepare<[number], RawJob>(
        `SELECT ${JOB_COLUMNS} FROM sched_jobs ORDER BY seq DESC LIMIT ?`,
      ),
      listTenantJobs: db.prepare<[string, number], RawJob>(
        `SELECT ${JOB_COLUMNS} FROM sched_jobs WHERE tenant = ? ORDER BY seq DESC LIMIT ?`,
      ),
      timelines: db.prepare<[string], { idx: number; at: number; done: number; speed: number }>(
        'SELECT idx, at, done, speed FROM sched_speed_samples WHERE job_id = ? ORDER BY idx, rowid',
      ),
      silentPartitions: db.prepare<[number], { job_id: string; idx: number }>(
        `SELECT job_id, idx FROM sched_partitions WHERE state IN ('started', 'reporting') AND last_report_at < ?`,
      ),
      expiredLeases: db.prepare<[number], { job_id: string; idx: number }>(
        `SELECT job_id, idx FROM sched_partitions WHERE lease_until IS NOT NULL AND lease_until < ?
           AND state IN ('leased', 'started', 'reporting', 'missing')`,
      ),
      expiredJobs: db.prepare<[number], { id: string }>(
        `SELECT id FROM sched_jobs WHERE state IN ('pending', 'running') AND expires_at < ?`,
      ),
    };
  }

  /** The job's spec, parsed once: it is written with the job and never changes. */
  private specOf(id: string): JobSpec {
    let spec = this.specs.get(id);
    if (spec === undefined) {
      const raw = this.stmts.getSpec.get(id);
      if (!raw) throw new Error(`job ${id} has no spec`);
      spec = Object.freeze(JSON.parse(raw.spec) as JobSpec);
      // A plain bound: when full, start over (jobs on the report path come back at their next report).
      if (this.specs.size >= SPEC_CACHE_SIZE) this.specs.clear();
      this.specs.set(id, spec);
    }
    return spec;
  }

  getJob(id: string): JobRow | null {
    const cached = this.jobCache?.get(id);
    if (cached !== undefined) return copyJob(cached);
    const raw = this.stmts.getJob.get(id);
    if (!raw) return null;
    const job = toJob(raw, this.specOf(id));
    this.jobCache?.set(id, copyJob(job));
    return job;
  }

  /**
   * Runs `fn` with job rows remembered between reads: a group commit's steps mostly touch one job, and
   * reading its row once instead of once per step is most of what a report costs in SQLite. Only valid
   * inside one write transaction (BEGIN IMMEDIATE): nobody else can change a row until it commits, so the
   * row remembered is the row the database holds. Writes still go to the database at once (SQL run in the
   * same transaction sees them); a step that fails calls `forgetJobs`, since its savepoint's rollback may
   * have undone a write the cache remembers.
   */
  withJobCache<T>(fn: () => T): T {
    this.jobCache = new Map();
    try {
      return fn();
    } finally {
      this.jobCache = null;
    }
  }

  forgetJobs(): void {
    this.jobCache?.clear();
  }

  getPartition(jobId: string, index: number): PartitionRow | null {
    const raw = this.stmts.getPartition.get(jobId, index);
    return raw ? toPartition(raw) : null;
  }

  insertJob(job: {
    id: string;
    tenant: string;
    spec: JobSpec;
    reportIntervalMs: number;
    epochMs: number;
    deadlineAt: number | null;
    expiresAt: number;
    createdAt: number;
  }): void {
    const seq = this.stmts.nextSeq.get()?.seq ?? 1;
    this.stmts.insertJob.run({
      id: job.id,
      tenant: job.tenant,
      name: job.spec.name,
      spec: JSON.stringify(job.spec),
      iterations: job.spec.iterations,
      reportIntervalMs: job.reportIntervalMs,
      epochMs: job.epochMs,
      deadlineAt: job.deadlineAt,
      expiresAt: job.expiresAt,
      createdAt: job.createdAt,
      seq,
    });
  }

  insertPartition(jobId: string, index: number, tenant: string, jobSeq: number): void {
    this.stmts.insertPartition.run(jobId, index, tenant, jobSeq);
  }

  /** Writes the job if nobody changed it since it was read; false otherwise. */
  writeJob(job: JobRow): boolean {
    const b = job.balance;
    const info = this.stmts.updateJob.run(
      job.state,
      job.startedAt,
      job.finishedAt,
      job.partitionCount,
      b.sumDone,
      b.sumAssigned,
      b.sumSpeed,
      b.sumSpeedTime,
      b.reserved,
      b.active,
      b.trusted,
      b.pending,
      b.missing,
      b.finished,
      b.finishedDone,
      job.overrun,
      job.deadlineCheckedAt,
      job.result === null ? null : JSON.stringify(job.result),
      job.error === null ? null : JSON.stringify(job.error),
      job.id,
      job.version,
    );
    if (info.changes !== 1) return false;
    job.version += 1;
    this.jobCache?.set(job.id, copyJob(job));
    return true;
  }

  /** Writes the partition if nobody changed it since it was read; false otherwise. */
  writePartition(part: PartitionRow): boolean {
    const b = part.balance;
    const info = this.stmts.updatePartition.run(
      part.attempt,
      part.failures,
      b.state,
      part.site,
      part.tokenHash,
      part.leaseUntil,
      b.assigned,
      b.done,
      b.speed,
      b.trusted ? 1 : 0,
      part.lastReportAt,
      b.lastReportSec,
      b.lastElapsedSec,
      b.slowReports,
      part.startedAt,
      part.finishedAt,
      part.result === null ? null : JSON.stringify(part.result),
      part.jobId,
      part.index,
      part.version,
    );
    if (info.changes === 1) part.version += 1;
    return info.changes === 1;
  }

  addSample(part: PartitionRow, at: number): void {
    this.stmts.insertSample.run(
      part.jobId,
      part.index,
      part.attempt,
      at,
      part.balance.done,
      part.balance.speed,
    );
  }

  /** All partitions of a job, by index (for display and results, never on the report path). */
  listPartitions(jobId: string): PartitionRow[] {
    return this.stmts.listPartitions.all(jobId).map(toPartition);
  }

  listJobs(tenant: string | null, limit: number): JobRow[] {
    const rows =
      tenant === null ? this.stmts.listJobs.all(limit) : this.stmts.listTenantJobs.all(tenant, limit);
    return rows.map((raw) => toJob(raw, this.specOf(raw.id)));
  }

  /** Speed timelines: per partition index, [ms, done, speed] samples in time order. */
  timelines(jobId: string): Map<number, [number, number, number][]> {
    const out = new Map<number, [number, number, number][]>();
    for (const row of this.stmts.timelines.all(jobId)) {
      const list = out.get(row.idx) ?? [];
      list.push([row.at, row.done, row.speed]);
      out.set(row.idx, list);
    }
    return out;
  }

  /** Partitions silent since before `before` (started or reporting). */
  silentPartitions(before: number): { jobId: string; index: number }[] {
    return this.stmts.silentPartitions.all(before).map((row) => ({ jobId: row.job_id, index: row.idx }));
  }

  /** Partitions whose lease ended before `now`. */
  expiredLeases(now: number): { jobId: string; index: number }[] {
    return this.stmts.expiredLeases.all(now).map((row) => ({ jobId: row.job_id, index: row.idx }));
  }

  /** Live jobs past their expiry time. */
  expiredJobs(now: number): string[] {
    return this.stmts.expiredJobs.all(now).map((row) => row.id);
  }
}
