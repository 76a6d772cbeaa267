/**
 * @module scheduler/dispatch
 * Handing queued partitions to a site on leases. Order: the tenant with the fewest partitions out on lease
 * goes first (fair share), and within a tenant the oldest job first (FIFO) — not TaScaaS's global
 * newest-first. A lease carries a fresh per-partition token; when it expires the partition is queued again.
 */
import { randomSecret } from '../core/index.js';
import { hashToken } from './accounts.js';
import type { SchedulerStore, JobRow } from './scheduler-store.js';

/** What a site receives for each partition it runs. */
export interface LeasedPartition {
  jobId: string;
  index: number;
  attempt: number;
  /** The partition's own credential for the protocol (JSON Bearer, or inside the legacy /lb URL). */
  token: string;
  tenant: string;
  command: string[] | null;
  /** The FDL service's script, for jobs that name a service. */
  script: string | null;
  input: Record<string, unknown>;
  iterations: number;
  reportIntervalSec: number;
  leaseUntil: number;
}

/** Leases up to `slots` partitions to `site` (call inside a transaction). */
export function leasePartitions(
  store: SchedulerStore,
  site: string,
  slots: number,
  now: number,
  jobOptions: (job: JobRow) => { leaseMs: number; script: string | null },
): LeasedPartition[] {
  const db = store.db;
  const out: LeasedPartition[] = [];
  if (slots <= 0) return out;
  const waiting = new Map(
    db
      .prepare<[], { tenant: string; seq: number }>(
        `SELECT p.tenant, MIN(p.job_seq) AS seq FROM sched_partitions p JOIN sched_jobs j ON j.id = p.job_id
         WHERE p.state = 'queued' AND j.state IN ('pending', 'running') GROUP BY p.tenant`,
      )
      .all()
      .map((row) => [row.tenant, row.seq]),
  );
  if (waiting.size === 0) return out;
  const running = new Map(
    db
      .prepare<[], { tenant: string; n: number }>(
        `SELECT tenant, COUNT(*) AS n FROM sched_partitions
         WHERE state IN ('leased', 'started', 'reporting', 'missing') GROUP BY tenant`,
      )
      .all()
      .map((row) => [row.tenant, row.n]),
  );
  const nextOf = db.prepare<[string], { job_id: string; idx: number }>(
    `SELECT p.job_id, p.idx FROM sched_partitions p JOIN sched_jobs j ON j.id = p.job_id
     WHERE p.state = 'queued' AND p.tenant = ? AND j.state IN ('pending', 'running')
     ORDER BY p.job_seq, p.idx LIMIT 1`,
  );
  while (out.length < slots && waiting.size > 0) {
    let tenant: string | null = null;
    for (const [candidate, seq] of waiting) {
      const load = running.get(candidate) ?? 0;
      const best = tenant === null ? null : { load: running.get(tenant) ?? 0, seq: waiting.get(tenant) ?? 0 };
      if (best === null || load < best.load || (load === best.load && seq < best.seq)) tenant = candidate;
    }
    if (tenant === null) break;
    const next = nextOf.get(tenant);
    if (!next) {
      waiting.delete(tenant);
      continue;
    }
    const job = store.getJob(next.job_id);
    const part = store.getPartition(next.job_id, next.idx);
    if (!job || !part) break;
    const options = jobOptions(job);
    const token = `nbp_${randomSecret(18)}`;
    part.balance = { ...part.balance, state: 'leased' };
    part.site = site;
    part.tokenHash = hashToken(token);
    part.leaseUntil = now + options.leaseMs;
    // Queued and leased both count as "pending" in the job's sums: the job row does not change.
    if (!store.writePartition(part)) continue;
    running.set(tenant, (running.get(tenant) ?? 0) + 1);
    out.push({
      jobId: job.id,
      index: part.index,
      attempt: part.attempt,
      token,
      tenant: job.tenant,
      command: job.spec.command,
      script: options.script,
      input: job.spec.input,
      iterations: job.spec.iterations,
      reportIntervalSec: job.reportIntervalMs / 1000,
      leaseUntil: part.leaseUntil,
    });
  }
  return out;
}
