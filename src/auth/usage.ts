/**
 * @module auth/usage
 * What a user is using, and the admission checks against their quotas. Checks and the writes they guard run
 * in the same synchronous turn (or transaction), so two requests cannot both pass on the last free unit.
 */
import { PlatformError } from '../core/index.js';
import type { Db } from '../state/index.js';
import { UNLIMITED, type Quotas } from './quotas.js';
import type { UserStore } from './user-store.js';

export interface Usage {
  activeJobs: number;
  cpu: number;
  memoryBytes: number;
  storedBytes: number;
  buckets: number;
}

export interface JobSize {
  cpu: number;
  memoryBytes: number;
}

/** How long a client over its job quota should wait before trying again. */
const JOB_RETRY_AFTER_SECONDS = 5;

export class QuotaGuard {
  /** Synchronous runs under way per user: they hold no job row, so they are counted here. */
  private readonly syncRuns = new Map<string, JobSize & { count: number }>();

  constructor(
    private readonly db: Db,
    private readonly users: UserStore,
    private readonly defaults: Quotas,
    /** The size of a service's job, or null when the service is gone. */
    private readonly jobSizeOf: (service: string) => JobSize | null,
  ) {}

  /** The effective quotas of `user`; unlimited for names that are not registered users (the admin). */
  quotasOf(user: string): Quotas {
    if (!this.users.find(user)) return UNLIMITED;
    return this.users.quotasOf(user, this.defaults);
  }

  usage(user: string): Usage {
    const rows = this.db
      .prepare(
        `SELECT service, COUNT(*) AS n FROM jobs
         WHERE status IN ('queued', 'running') AND service IN (SELECT name FROM services WHERE owner = ?)
         GROUP BY service`,
      )
      .all(user) as { service: string; n: number }[];
    const usage: Usage = { activeJobs: 0, cpu: 0, memoryBytes: 0, storedBytes: 0, buckets: 0 };
    for (const row of rows) {
      const size = this.jobSizeOf(row.service);
      usage.activeJobs += row.n;
      usage.cpu += (size?.cpu ?? 0) * row.n;
      usage.memoryBytes += (size?.memoryBytes ?? 0) * row.n;
    }
    const sync = this.syncRuns.get(user);
    if (sync) {
      usage.activeJobs += sync.count;
      usage.cpu += sync.cpu;
      usage.memoryBytes += sync.memoryBytes;
    }
    const storage = this.db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM buckets WHERE owner = ?) AS buckets,
                (SELECT COALESCE(SUM(o.size), 0) FROM objects o JOIN buckets b ON o.bucket = b.name
                 WHERE b.owner = ?) AS bytes`,
      )
      .get(user, user) as { buckets: number; bytes: number };
    usage.buckets = storage.buckets;
    usage.storedBytes = storage.bytes;
    return usage;
  }

  /**
   * Throws unless one more job of `size` fits in `owner`'s quotas: QUOTA_EXCEEDED (403) when it can never
   * fit, TOO_MANY_REQUESTS (429, retry later) when it fits once running jobs finish.
   */
  admitJob(owner: string, size: JobSize): void {
    const quotas = this.quotasOf(owner);
    if (quotas === UNLIMITED) return;
    const checks: [string, number | null, number, number][] = [
      ['concurrent jobs', quotas.maxConcurrentJobs, 1, 0],
      ['CPU', quotas.maxCpu, size.cpu, 0],
      ['memory bytes', quotas.maxMemoryBytes, size.memoryBytes, 0],
    ];
    const usage = this.usage(owner);
    checks[0]![3] = usage.activeJobs;
    checks[1]![3] = usage.cpu;
    checks[2]![3] = usage.memoryBytes;
    // A job that can never fit is refused for good before one that only has to wait.
    for (const [what, limit, needed] of checks) {
      if (limit !== null && needed > limit) {
        throw new PlatformError(
          'QUOTA_EXCEEDED',
          `one job needs ${needed} ${what}, more than the quota of user "${owner}" (${limit})`,
          { details: { quota: what, limit, needed } },
        );
      }
    }
    for (const [what, limit, needed, used] of checks) {
      if (limit !== null && used + needed > limit) {
        throw new PlatformError(
          'TOO_MANY_REQUESTS',
          `user "${owner}" has ${used} ${what} of ${limit} in use by queued and running jobs; try again later`,
          { details: { quota: what, limit, used, retryAfterSeconds: JOB_RETRY_AFTER_SECONDS } },
        );
      }
    }
  }

  /** Admits a synchronous run and counts it until the returned release is called. */
  startSyncRun(owner: string, size: JobSize): () => void {
    this.admitJob(owner, size);
    const current = this.syncRuns.get(owner) ?? { count: 0, cpu: 0, memoryBytes: 0 };
    current.count += 1;
    current.cpu += size.cpu;
    current.memoryBytes += size.memoryBytes;
    this.syncRuns.set(owner, current);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      current.count -= 1;
      current.cpu -= size.cpu;
      current.memoryBytes -= size.memoryBytes;
      if (current.count === 0) this.syncRuns.delete(owner);
    };
  }

  /** Throws QUOTA_EXCEEDED unless `owner` may store `bytes` more. */
  admitBytes(owner: string, bytes: number): void {
    const limit = this.quotasOf(owner).maxStoredBytes;
    if (limit === null) return;
    const used = this.usage(owner).storedBytes;
    if (used + bytes > limit) {
      throw new PlatformError(
        'QUOTA_EXCEEDED',
        `user "${owner}" stores ${used} of ${limit} bytes; ${bytes} more do not fit`,
        { details: { quota: 'stored bytes', limit, used, needed: bytes } },
      );
    }
  }

  /** Throws QUOTA_EXCEEDED unless `owner` may own one more bucket. */
  admitBucket(owner: string): void {
    const limit = this.quotasOf(owner).maxBuckets;
    if (limit === null) return;
    const used = this.usage(owner).buckets;
    if (used + 1 > limit) {
      throw new PlatformError('QUOTA_EXCEEDED', `user "${owner}" owns ${used} of ${limit} buckets`, {
        details: { quota: 'buckets', limit, used },
      });
    }
  }
}
