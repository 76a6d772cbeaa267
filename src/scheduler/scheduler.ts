/**
 * @module scheduler/scheduler
 * The scheduler's state machine over SQLite: jobs (pending → running → finishing → succeeded, or failed,
 * cancelled, expired), their partitions (queued → leased → started → reporting ⇄ missing → finished),
 * leases handed to sites, and the partition protocol (start, report, finish, fail). Every step is one
 * transaction that reads the job row and one partition row and writes them back conditionally on their
 * versions; the balancing itself is the pure functions of ./balancer.js.
 */
import { PlatformError, randomSecret, type Clock, type Logger } from '../core/index.js';
import type { Db } from '../state/index.js';
import { ADMIN_TENANT, Accounts, hashToken, sameTokenHash } from './accounts.js';
import {
  applyChange,
  balancerParams,
  extraPartitionsForDeadline,
  isComplete,
  onFinish,
  onLeaseLost,
  onMissing,
  onReport,
  onStart,
  type Assignment,
  type Step,
} from './balancer.js';
import { parseJobSpec, type JobSpec } from './job-spec.js';
import { completeJob, finalizeJob } from './job-completion.js';
import { leasePartitions, type LeasedPartition } from './dispatch.js';
import { CommitGroup, atomicRunner } from '../state/commit-group.js';
import { IdempotencyRecords } from './idempotency.js';
import { FINAL_JOB_STATES, SchedulerStore, type JobRow, type PartitionRow } from './scheduler-store.js';

export interface SchedulerOptions {
  db: Db;
  clock: Clock;
  logger?: Logger;
  /** Shortest lease handed to a site (a lease is at least 5 report intervals). @default 30_000 */
  minLeaseMs?: number;
  /**
   * Shortest silence after which a partition is "missing" (the window is 2 report intervals, TaScaaS's
   * threshold, but never less than this: a loaded machine or a slow network must not revoke shares). @default 5000
   */
  minMissingMs?: number;
  /** The script of an FDL service, for jobs that name a `service`. */
  resolveServiceScript?: (service: string) => string;
}

/** How a partition call proves who it is: the partition's own token, or the site holding its lease. */
export type PartitionAuth = { token: string } | { site: string } | { internal: true };

/** The answer of start/report/finish, as the JSON API returns it. */
export interface ProtocolAnswer extends Assignment {
  jobState: JobRow['state'];
  done: number;
}

const MAX_WRITE_ATTEMPTS = 5;

/** The divisible-job scheduler. */
export class Scheduler {
  readonly store: SchedulerStore;
  readonly accounts: Accounts;
  /** Group commit of protocol steps arriving together (see `grouped`). */
  readonly commits: CommitGroup;
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly atomic: <T>(fn: () => T) => T;
  private readonly idempotency: IdempotencyRecords;
  private readonly tokenHashes = new TokenHashes();
  private readonly stmts;
  private readonly minLeaseMs: number;
  private readonly minMissingMs: number;
  private readonly resolveServiceScript: ((service: string) => string) | undefined;

  constructor(options: SchedulerOptions) {
    this.db = options.db;
    this.clock = options.clock;
    this.store = new SchedulerStore(options.db);
    this.accounts = new Accounts(options.db, options.clock);
    this.commits = new CommitGroup(options.db, {
      around: (fn) => this.store.withJobCache(fn),
      forget: () => this.store.forgetJobs(),
    });
    this.atomic = atomicRunner(options.db);
    this.idempotency = new IdempotencyRecords(options.db, options.clock);
    this.stmts = {
      liveJobs: options.db.prepare<[string], { n: number }>(
        `SELECT COUNT(*) AS n FROM sched_jobs WHERE tenant = ? AND state IN ('pending', 'running', 'finishing')`,
      ),
      livePartitions: options.db.prepare<[string], { n: number }>(
        `SELECT COUNT(*) AS n FROM sched_partitions WHERE tenant = ? AND state != 'finished'`,
      ),
      silent: options.db.prepare<[number], { job_id: string; idx: number }>(
        `SELECT p.job_id, p.idx FROM sched_partitions p JOIN sched_jobs j ON j.id = p.job_id
         WHERE p.state IN ('started', 'reporting') AND p.last_report_at < ? - 2 * j.report_interval_ms`,
      ),
    };
    this.minLeaseMs = options.minLeaseMs ?? 30_000;
    this.minMissingMs = options.minMissingMs ?? 5000;
    this.resolveServiceScript = options.resolveServiceScript;
  }

  leaseMsOf(job: JobRow): number {
    // Always longer than the missing window, so a silent partition is first "missing", then lost.
    return Math.max(this.minLeaseMs, 5 * job.reportIntervalMs, 2 * this.minMissingMs);
  }

  /** Creates a job and its initial partitions; QUOTA_EXCEEDED past the tenant's concurrent jobs or partitions. */
  submit(tenant: string, raw: unknown): JobRow {
    const spec: JobSpec = parseJobSpec(raw);
    if (spec.service !== null && this.resolveServiceScript) this.resolveServiceScript(spec.service);
    const quotas = this.accounts.quotas(tenant);
    const id = `sj-${randomSecret(12).replace(/[^A-Za-z0-9]/g, 'x')}`;
    const now = this.clock.now();
    return this.db.transaction(() => {
      const live = this.stmts.liveJobs.get(tenant)?.n ?? 0;
      if (live >= quotas.maxConcurrentJobs) {
        throw new PlatformError(
          'QUOTA_EXCEEDED',
          `tenant "${tenant}" already runs ${live} jobs (quota ${quotas.maxConcurrentJobs})`,
          {
            details: { quota: 'maxConcurrentJobs', limit: quotas.maxConcurrentJobs },
          },
        );
      }
      const room = quotas.maxPartitions - this.livePartitions(tenant);
      if (spec.partitions > room) {
        throw new PlatformError(
          'QUOTA_EXCEEDED',
          `the job asks for ${spec.partitions} partitions; tenant "${tenant}" may have ${room} more (quota ${quotas.maxPartitions})`,
          { details: { quota: 'maxPartitions', limit: quotas.maxPartitions } },
        );
      }
      this.store.insertJob({
        id,
        tenant,
        spec,
        reportIntervalMs: Math.round(spec.reportIntervalSec * 1000),
        epochMs: now,
        deadlineAt: spec.deadlineSec === null ? null : now + spec.deadlineSec * 1000,
        expiresAt: now + spec.timeoutSec * 1000,
        createdAt: now,
      });
      const job = this.requireJob(id);
      this.addPartitions(job, spec.partitions);
      if (!this.store.writeJob(job))
        throw new PlatformError('WRITE_CONFLICT', 'the job changed while it was created');
      return job;
    })();
  }

  /** Queues `count` new partitions of a job (the job row is updated in memory; the caller writes it). */
  private addPartitions(job: JobRow, count: number): void {
    for (let i = 0; i < count; i++) {
      this.store.insertPartition(job.id, job.partitionCount, job.tenant, job.seq);
      job.partitionCount += 1;
      job.balance = applyChange(job.balance, null, { ...newQueued() });
    }
  }

  private livePartitions(tenant: string): number {
    return this.stmts.livePartitions.get(tenant)?.n ?? 0;
  }

  requireJob(id: string, tenant?: string): JobRow {
    const job = this.store.getJob(id);
    // Another tenant's job does not exist, as far as this tenant can tell.
    if (!job || (tenant !== undefined && tenant !== ADMIN_TENANT && job.tenant !== tenant))
      throw new PlatformError('JOB_NOT_FOUND', `no scheduler job "${id}"`);
    return job;
  }

  /** A site asks for up to `slots` partitions: FIFO by job, fair share across tenants. */
  lease(site: string, slots: number): LeasedPartition[] {
    const now = this.clock.now();
    this.accounts.touchSite(site);
    return this.atomic(() =>
      leasePartitions(this.store, site, slots, now, (job) => ({
        leaseMs: this.leaseMsOf(job),
        script:
          job.spec.service !== null && this.resolveServiceScript
            ? this.resolveServiceScript(job.spec.service)
            : null,
      })),
    );
  }

  /**
   * Runs `step` (start, report, finish, fail, each wrapped in `once` or not) in the transaction shared with the
   * other steps that arrive in this turn of the event loop; resolves once that transaction committed. The
   * API's protocol routes go through here; a direct call commits on its own, with the same semantics.
   */
  grouped<T>(step: () => T): Promise<T> {
    return this.commits.run(step);
  }

  /** Commits the steps still waiting for their shared transaction. */
  close(): void {
    this.commits.close();
  }

  /**
   * Runs one protocol step on (job, partition) in a transaction with optimistic concurrency: reads both
   * rows, lets `step` change them, writes both back conditionally, retries if either changed meanwhile.
   */
  private mutate<T>(
    jobId: string,
    index: number,
    auth: PartitionAuth,
    step: (job: JobRow, part: PartitionRow) => T,
  ): T {
    for (let attempt = 1; ; attempt++) {
      try {
        return this.atomic(() => {
          const job = this.store.getJob(jobId);
          const part = job ? this.store.getPartition(jobId, index) : null;
          if (!job || !part)
            throw new PlatformError('NOT_FOUND', `no partition ${index} in scheduler job "${jobId}"`);
          this.checkAuth(part, auth);
          const out = step(job, part);
          if (!this.store.writePartition(part) || !this.store.writeJob(job))
            throw new PlatformError('WRITE_CONFLICT', `job "${jobId}" changed during the step`);
          return out;
        });
      } catch (error) {
        if (
          !(error instanceof PlatformError && error.code === 'WRITE_CONFLICT') ||
          attempt >= MAX_WRITE_ATTEMPTS
        )
          throw error;
      }
    }
  }

  /** The partition's own token (hashed through a cache: a report must not pay for SHA-256), or its site. */
  private checkAuth(part: PartitionRow, auth: PartitionAuth): void {
    if ('internal' in auth) return;
    if ('site' in auth) {
      if (part.site !== auth.site)
        throw new PlatformError('LEASE_LOST', `partition ${part.index} is not leased to site "${auth.site}"`);
      return;
    }
    if (part.tokenHash === null || !sameTokenHash(this.tokenHashes.of(auth.token), part.tokenHash))
      throw new PlatformError(
        'LEASE_LOST',
        `partition ${part.index}: this token's lease is over (the partition was handed out again)`,
      );
  }

  private nowSec(job: JobRow, now: number): number {
    return (now - job.epochMs) / 1000;
  }

  private applyStep(job: JobRow, part: PartitionRow, step: Step, now: number): void {
    part.balance = step.part;
    job.balance = step.job;
    job.overrun += step.overrun;
    part.lastReportAt = now;
    part.leaseUntil = now + this.leaseMsOf(job);
  }

  private answer(job: JobRow, part: PartitionRow, assignment: Assignment): ProtocolAnswer {
    return { ...assignment, jobState: job.state, done: part.balance.done };
  }

  /** The answer for a job that is over: stop where you are. */
  private stopped(job: JobRow, part: PartitionRow): ProtocolAnswer {
    return {
      assigned: part.balance.done,
      done: part.balance.done,
      etaSec: 0,
      nextReportSec: job.reportIntervalMs / 1000,
      stop: true,
      jobState: job.state,
    };
  }

  start(jobId: string, index: number, auth: PartitionAuth): ProtocolAnswer {
    return this.mutate(jobId, index, auth, (job, part) => {
      if (FINAL_JOB_STATES.includes(job.state) || job.state === 'finishing') return this.stopped(job, part);
      if (part.balance.state === 'finished') return this.stopped(job, part);
      const now = this.clock.now();
      const step = onStart(
        job.balance,
        part.balance,
        this.nowSec(job, now),
        balancerParams(job.reportIntervalMs / 1000),
      );
      this.applyStep(job, part, step, now);
      part.startedAt ??= now;
      if (job.state === 'pending') {
        job.state = 'running';
        job.startedAt = now;
      }
      this.store.addSample(part, now);
      return this.answer(job, part, step.answer);
    });
  }

  report(
    jobId: string,
    index: number,
    auth: PartitionAuth,
    done: number,
    elapsedSec: number,
  ): ProtocolAnswer {
    return this.mutate(jobId, index, auth, (job, part) => {
      if (FINAL_JOB_STATES.includes(job.state) || job.state === 'finishing') return this.stopped(job, part);
      requireStarted(part);
      const now = this.clock.now();
      const params = balancerParams(job.reportIntervalMs / 1000);
      const step = onReport(job.balance, part.balance, done, elapsedSec, this.nowSec(job, now), params);
      this.applyStep(job, part, step, now);
      this.store.addSample(part, now);
      this.deadlineRule(job, now);
      return this.answer(job, part, step.answer);
    });
  }

  /** Adds partitions when the forecast misses the deadline; evaluated at most once per report interval. */
  private deadlineRule(job: JobRow, now: number): void {
    if (job.deadlineAt === null) return;
    if (job.deadlineCheckedAt !== null && now - job.deadlineCheckedAt < job.reportIntervalMs) return;
    job.deadlineCheckedAt = now;
    const room = this.accounts.quotas(job.tenant).maxPartitions - this.livePartitions(job.tenant);
    const params = balancerParams(job.reportIntervalMs / 1000);
    const extra = extraPartitionsForDeadline(
      job.balance,
      this.nowSec(job, now),
      this.nowSec(job, job.deadlineAt),
      room,
      params,
    );
    if (extra > 0) this.addPartitions(job, extra);
  }

  finish(
    jobId: string,
    index: number,
    auth: PartitionAuth,
    done: number,
    elapsedSec: number,
    result: unknown,
  ): ProtocolAnswer {
    const answer = this.mutate(jobId, index, auth, (job, part) => {
      if (part.balance.state === 'finished') return this.stopped(job, part);
      if (FINAL_JOB_STATES.includes(job.state)) return this.stopped(job, part);
      requireStarted(part);
      const now = this.clock.now();
      const step = onFinish(
        job.balance,
        part.balance,
        done,
        elapsedSec,
        this.nowSec(job, now),
        balancerParams(job.reportIntervalMs / 1000),
      );
      this.applyStep(job, part, step, now);
      part.leaseUntil = null;
      part.finishedAt = now;
      part.result = result === undefined ? null : result;
      this.store.addSample(part, now);
      if (isComplete(job.balance)) job.state = 'finishing';
      else if (job.balance.active === 0 && job.balance.missing === 0 && job.balance.pending === 0) {
        // Everyone finished short of N (a partition stopped early): queue one more for the rest.
        this.addPartitions(job, 1);
      }
      return this.answer(job, part, step.answer);
    });
    if (answer.jobState === 'finishing') completeJob(this.db, this.store, jobId, this.clock.now());
    return answer;
  }

  /**
   * The site reports that a partition's process failed (exit code, log tail). The partition is queued again
   * for another attempt, or the job fails once the partition has failed `maxAttempts` times.
   */
  fail(
    jobId: string,
    index: number,
    auth: PartitionAuth,
    failure: { exitCode: number | null; log: string },
  ): void {
    const failed = this.mutate(jobId, index, auth, (job, part) => {
      if (FINAL_JOB_STATES.includes(job.state) || part.balance.state === 'finished') return false;
      this.requeue(job, part);
      part.failures += 1;
      if (part.failures < job.spec.maxAttempts) return false;
      job.state = 'failed';
      job.error = {
        code: 'JOB_FAILED',
        message: `partition ${index} failed ${part.failures} times; last exit code ${String(failure.exitCode)}`,
        exitCode: failure.exitCode,
        log: failure.log.slice(-8192),
      };
      job.finishedAt = this.clock.now();
      return true;
    });
    if (failed) finalizeJob(this.db, this.store, jobId);
  }

  private requeue(job: JobRow, part: PartitionRow): void {
    const lost = onLeaseLost(job.balance, part.balance);
    job.balance = lost.job;
    part.balance = lost.part;
    part.attempt += 1;
    part.site = null;
    part.tokenHash = null;
    part.leaseUntil = null;
    part.lastReportAt = null;
    part.startedAt = null;
  }

  /**
   * Runs `fn` once per (scope, key): a repeated call with the same request returns the first answer without
   * running again; the same key with another request is IDEMPOTENCY_KEY_REUSED. The answer is stored in
   * the same transaction as the change it describes.
   */
  once<T>(scope: string, key: string | undefined, requestHash: string, fn: () => T): T {
    return this.idempotency.once(scope, key, requestHash, fn);
  }

  /** Cancels a job: partitions are told to stop at their next call. */
  cancel(jobId: string, tenant: string): JobRow {
    const job = this.requireJob(jobId, tenant);
    if (FINAL_JOB_STATES.includes(job.state)) return job;
    this.db.transaction(() => {
      const fresh = this.requireJob(jobId);
      fresh.state = 'cancelled';
      fresh.finishedAt = this.clock.now();
      if (!this.store.writeJob(fresh))
        throw new PlatformError('WRITE_CONFLICT', `job "${jobId}" changed while cancelled`);
    })();
    finalizeJob(this.db, this.store, jobId);
    return this.requireJob(jobId);
  }

  /**
   * The periodic sweep: silent partitions become missing (their share is revoked), expired leases are
   * queued again, jobs past their timeout expire. Returns what it changed, for logs and tests.
   */
  tick(): { missing: number; requeued: number; expired: number } {
    const now = this.clock.now();
    let missing = 0;
    let requeued = 0;
    const silent = this.stmts.silent.all(now);
    for (const { job_id: jobId, idx } of silent) {
      this.mutate(jobId, idx, { internal: true }, (job, part) => {
        if (part.balance.state !== 'started' && part.balance.state !== 'reporting') return;
        const next = onMissing(job.balance, part.balance);
        job.balance = next.job;
        part.balance = next.part;
        missing += 1;
      });
    }
    for (const { jobId, index } of this.store.expiredLeases(now)) {
      this.mutate(jobId, index, { internal: true }, (job, part) => {
        if (part.leaseUntil === null || part.leaseUntil >= now || part.balance.state === 'queued') return;
        if (part.balance.state === 'finished') return;
        this.requeue(job, part);
        requeued += 1;
      });
    }
    const expiredJobs = this.store.expiredJobs(now);
    for (const id of expiredJobs) {
      const job = this.requireJob(id);
      job.state = 'expired';
      job.finishedAt = now;
      if (this.store.writeJob(job)) finalizeJob(this.db, this.store, id);
    }
    this.idempotency.prune(now);
    return { missing, requeued, expired: expiredJobs.length };
  }
}

function newQueued() {
  return {
    state: 'queued' as const,
    assigned: 0,
    done: 0,
    speed: 0,
    trusted: false,
    lastReportSec: 0,
    lastElapsedSec: 0,
    slowReports: 0,
  };
}

function requireStarted(part: PartitionRow): void {
  if (part.balance.state === 'queued' || part.balance.state === 'leased')
    throw new PlatformError('CONFLICT', `partition ${part.index} has not called start`);
}

/** Most partition tokens whose hash is remembered. */
const TOKEN_HASH_CACHE_SIZE = 65_536;

/**
 * SHA-256 of partition tokens, remembered. Only the pure function's result is cached (token → its hash):
 * whether the hash still opens the partition is decided by the row, read in the step's transaction, so a
 * revoked lease is refused at once.
 */
class TokenHashes {
  private readonly hashes = new Map<string, string>();

  of(token: string): string {
    let hash = this.hashes.get(token);
    if (hash === undefined) {
      hash = hashToken(token);
      if (this.hashes.size >= TOKEN_HASH_CACHE_SIZE) this.hashes.clear();
      this.hashes.set(token, hash);
    }
    return hash;
  }
}
