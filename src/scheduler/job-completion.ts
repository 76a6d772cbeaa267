/**
 * @module scheduler/job-completion
 * The end of a job: partitions nobody started are closed, and once every iteration is done the partitions'
 * results are reduced into the job's one result (finishing → succeeded, or failed if they cannot combine).
 * These read every partition of the job, once per job, never on the report path.
 */
import { PlatformError, toPlatformError } from '../core/index.js';
import type { Db } from '../state/index.js';
import { applyChange } from './balancer.js';
import { reduceResults } from './reducers.js';
import type { SchedulerStore } from './scheduler-store.js';

/** Closes the queued and leased partitions of a job that is over (they will never be needed). */
export function finalizeJob(db: Db, store: SchedulerStore, jobId: string): void {
  db.transaction(() => {
    const job = store.getJob(jobId);
    if (!job) return;
    for (const part of store.listPartitions(jobId)) {
      if (part.balance.state !== 'queued' && part.balance.state !== 'leased') continue;
      const closed = { ...part.balance, state: 'finished' as const, assigned: 0, done: 0 };
      job.balance = applyChange(job.balance, part.balance, closed);
      part.balance = closed;
      part.leaseUntil = null;
      part.tokenHash = null;
      if (!store.writePartition(part))
        throw new PlatformError('WRITE_CONFLICT', `partition ${part.index} changed`);
    }
    if (!store.writeJob(job)) throw new PlatformError('WRITE_CONFLICT', `job "${jobId}" changed`);
  })();
}

/** Reduces the results of a `finishing` job and marks it succeeded (or failed when the reducer fails). */
export function completeJob(db: Db, store: SchedulerStore, jobId: string, now: number): void {
  finalizeJob(db, store, jobId);
  db.transaction(() => {
    const job = store.getJob(jobId);
    if (job?.state !== 'finishing') return;
    const results = store
      .listPartitions(jobId)
      .filter((part) => part.balance.done > 0 && part.result !== null)
      .map((part) => ({ partition: part.index, result: part.result }));
    try {
      job.result = reduceResults(job.spec.resultReducer, results);
      job.state = 'succeeded';
    } catch (error) {
      job.state = 'failed';
      job.error = toPlatformError(error).toData();
    }
    job.finishedAt = now;
    if (!store.writeJob(job)) throw new PlatformError('WRITE_CONFLICT', `job "${jobId}" changed`);
  })();
}
