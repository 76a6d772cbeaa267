export * from './event-record.js';
export * from './job-queue.js';
export * from './service-registry.js';
export * from './trigger.js';
export * from './concurrency-limiter.js';
export * from './dispatcher.js';
export * from './job-stats.js';
export * from './external/external-events.js';
