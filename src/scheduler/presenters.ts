/**
 * @module scheduler/presenters
 * The JSON shapes the API answers for jobs, partitions and results.
 */
import { forecast } from './balancer.js';
import type { JobRow, PartitionRow, SchedulerStore } from './scheduler-store.js';

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** A job's summary, with the forecast at `now`. */
export function presentJob(job: JobRow, now: number): Record<string, unknown> {
  const live = job.state === 'running' || job.state === 'pending';
  const f = forecast(job.balance, (now - job.epochMs) / 1000);
  return {
    id: job.id,
    tenant: job.tenant,
    name: job.name,
    state: job.state,
    iterations: job.balance.iterations,
    done: job.balance.finishedDone,
    predictedDone: live ? Math.min(job.balance.iterations, Math.floor(f.predictedDone)) : job.balance.sumDone,
    etaSec: live ? f.etaSec : null,
    reportIntervalSec: job.reportIntervalMs / 1000,
    partitions: {
      total: job.partitionCount,
      pending: job.balance.pending,
      active: job.balance.active,
      missing: job.balance.missing,
      finished: job.balance.finished,
    },
    overrunIterations: job.overrun,
    reducer: job.spec.resultReducer,
    createdAt: iso(job.createdAt),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    deadlineAt: iso(job.deadlineAt),
    expiresAt: iso(job.expiresAt),
    error: job.error,
  };
}

export function presentPartition(part: PartitionRow): Record<string, unknown> {
  return {
    index: part.index,
    attempt: part.attempt,
    state: part.balance.state,
    site: part.site,
    assigned: part.balance.assigned,
    done: part.balance.done,
    speed: part.balance.speed,
    trusted: part.balance.trusted,
    failures: part.failures,
    startedAt: iso(part.startedAt),
    finishedAt: iso(part.finishedAt),
    leaseUntil: iso(part.leaseUntil),
  };
}

/** The job's result, each partition's result, and the per-partition speed timelines. */
export function presentResults(store: SchedulerStore, job: JobRow): Record<string, unknown> {
  const timelines = store.timelines(job.id);
  return {
    id: job.id,
    state: job.state,
    iterations: job.balance.iterations,
    done: job.balance.finishedDone,
    overrunIterations: job.overrun,
    reducer: job.spec.resultReducer,
    result: job.result,
    error: job.error,
    partitions: store.listPartitions(job.id).map((part) => ({
      ...presentPartition(part),
      result: part.result,
      // [ms since the job's creation, done, smoothed speed]
      timeline: (timelines.get(part.index) ?? []).map(([at, done, speed]) => [at - job.epochMs, done, speed]),
    })),
  };
}
