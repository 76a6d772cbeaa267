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

interface RawJob {
  id: string;
  tenant: string;
  name: string | null;
  spec: string;
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

function toJob(raw: RawJob): JobRow {
  return {
    id: raw.id,
    tenant: raw.tenant,
    name: raw.name,
    spec: JSON.parse(raw.spec) as JobSpec,
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

/** Prepared statements over the scheduler's tables. */
export class SchedulerStore {
  private readonly stmts;

  constructor(readonly db: Db) {
    this.stmts = {
      getJob: db.prepare<[string], RawJob>('SELECT * FROM sched_jobs WHERE id = ?'),
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
      updateJob: db.prepare(
        `UPDATE sched_jobs SET version = version + 1, state = @state, started_at = @startedAt,
           finished_at = @finishedAt, partition_count = @partitionCount, sum_done = @sumDone,
           sum_assigned = @sumAssigned, sum_speed = @sumSpeed, sum_speed_time = @sumSpeedTime,
           reserved = @reserved, active = @active, trusted = @trusted, pending = @pending, missing = @missing,
           finished = @finished, finished_done = @finishedDone, overrun = @overrun,
           deadline_checked_at = @deadlineCheckedAt, result = @result, error = @error
         WHERE id = @id AND version = @version`,
      ),
      updatePartition: db.prepare(
        `UPDATE sched_partitions SET version = version + 1, attempt = @attempt, failures = @failures,
           state = @state, site = @site, token_hash = @tokenHash, lease_until = @leaseUntil,
           assigned = @assigned, done = @done, speed = @speed, trusted = @trusted,
           last_report_at = @lastReportAt, last_report_sec = @lastReportSec, last_elapsed_sec = @lastElapsedSec,
           slow_reports = @slowReports, started_at = @startedAt, finished_at = @finishedAt, result = @result
         WHERE job_id = @jobId AND idx = @index AND version = @version`,
      ),
      insertSample: db.prepare(
        'INSERT INTO sched_speed_samples (job_id, idx, attempt, at, done, speed) VALUES (?, ?, ?, ?, ?, ?)',
      ),
    };
  }

  getJob(id: string): JobRow | null {
    const raw = this.stmts.getJob.get(id);
    return raw ? toJob(raw) : null;
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
    const info = this.stmts.updateJob.run({
      id: job.id,
      version: job.version,
      state: job.state,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
      partitionCount: job.partitionCount,
      sumDone: b.sumDone,
      sumAssigned: b.sumAssigned,
      sumSpeed: b.sumSpeed,
      sumSpeedTime: b.sumSpeedTime,
      reserved: b.reserved,
      active: b.active,
      trusted: b.trusted,
      pending: b.pending,
      missing: b.missing,
      finished: b.finished,
      finishedDone: b.finishedDone,
      overrun: job.overrun,
      deadlineCheckedAt: job.deadlineCheckedAt,
      result: job.result === null ? null : JSON.stringify(job.result),
      error: job.error === null ? null : JSON.stringify(job.error),
    });
    if (info.changes === 1) job.version += 1;
    return info.changes === 1;
  }

  /** Writes the partition if nobody changed it since it was read; false otherwise. */
  writePartition(part: PartitionRow): boolean {
    const b = part.balance;
    const info = this.stmts.updatePartition.run({
      jobId: part.jobId,
      index: part.index,
      version: part.version,
      attempt: part.attempt,
      failures: part.failures,
      state: b.state,
      site: part.site,
      tokenHash: part.tokenHash,
      leaseUntil: part.leaseUntil,
      assigned: b.assigned,
      done: b.done,
      speed: b.speed,
      trusted: b.trusted ? 1 : 0,
      lastReportAt: part.lastReportAt,
      lastReportSec: b.lastReportSec,
      lastElapsedSec: b.lastElapsedSec,
      slowReports: b.slowReports,
      startedAt: part.startedAt,
      finishedAt: part.finishedAt,
      result: part.result === null ? null : JSON.stringify(part.result),
    });
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
    return this.db
      .prepare<[string], RawPartition>('SELECT * FROM sched_partitions WHERE job_id = ? ORDER BY idx')
      .all(jobId)
      .map(toPartition);
  }

  listJobs(tenant: string | null, limit: number): JobRow[] {
    const rows =
      tenant === null
        ? this.db.prepare<[number], RawJob>('SELECT * FROM sched_jobs ORDER BY seq DESC LIMIT ?').all(limit)
        : this.db
            .prepare<[string, number], RawJob>(
              'SELECT * FROM sched_jobs WHERE tenant = ? ORDER BY seq DESC LIMIT ?',
            )
            .all(tenant, limit);
    return rows.map(toJob);
  }

  /** Speed timelines: per partition index, [ms, done, speed] samples in time order. */
  timelines(jobId: string): Map<number, [number, number, number][]> {
    const rows = this.db
      .prepare<[string], { idx: number; at: number; done: number; speed: number }>(
        'SELECT idx, at, done, speed FROM sched_speed_samples WHERE job_id = ? ORDER BY idx, rowid',
      )
      .all(jobId);
    const out = new Map<number, [number, number, number][]>();
    for (const row of rows) {
      const list = out.get(row.idx) ?? [];
      list.push([row.at, row.done, row.speed]);
      out.set(row.idx, list);
    }
    return out;
  }

  /** Partitions silent since before `before` (started or reporting). */
  silentPartitions(before: number): { jobId: string; index: number }[] {
    return this.db
      .prepare<[number], { job_id: string; idx: number }>(
        `SELECT job_id, idx FROM sched_partitions WHERE state IN ('started', 'reporting') AND last_report_at < ?`,
      )
      .all(before)
      .map((row) => ({ jobId: row.job_id, index: row.idx }));
  }

  /** Partitions whose lease ended before `now`. */
  expiredLeases(now: number): { jobId: string; index: number }[] {
    return this.db
      .prepare<[number], { job_id: string; idx: number }>(
        `SELECT job_id, idx FROM sched_partitions WHERE lease_until IS NOT NULL AND lease_until < ?
           AND state IN ('leased', 'started', 'reporting', 'missing')`,
      )
      .all(now)
      .map((row) => ({ jobId: row.job_id, index: row.idx }));
  }

  /** Live jobs past their expiry time. */
  expiredJobs(now: number): string[] {
    return this.db
      .prepare<[number], { id: string }>(
        `SELECT id FROM sched_jobs WHERE state IN ('pending', 'running') AND expires_at < ?`,
      )
      .all(now)
      .map((row) => row.id);
  }
}
