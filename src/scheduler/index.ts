/**
 * @module scheduler
 * TaScaaS-style divisible-job scheduler: jobs of N iterations split into partitions pulled by sites on
 * leases, balanced while they run by a pure function over the job's running sums.
 */
export * from './balancer.js';
export * from './job-spec.js';
export * from './accounts.js';
export * from './scheduler.js';
export * from './scheduler-store.js';
export * from './dispatch.js';
export * from './presenters.js';
export * from './legacy-protocol.js';
export * from './bucket-submissions.js';
export * from './scheduler-service.js';
