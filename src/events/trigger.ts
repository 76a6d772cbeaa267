/**
 * @module events/trigger
 * The storage hook that turns an object event into one queued job per matching service (created objects
 * by default; removals for inputs that subscribe to them). It runs inside
 * the store's metadata transaction, so the object and its jobs commit together.
 */
import { newJobId } from '../core/index.js';
import type { StorageEvent, StorageEventHook } from '../storage/object-store.js';
import { buildEventRecord } from './event-record.js';
import type { JobQueue } from './job-queue.js';
import type { ServiceRegistry } from './service-registry.js';

export function createTriggerHook(options: {
  registry: ServiceRegistry;
  queue: JobQueue;
  region: string;
  /** Called once per enqueued job, after it is inserted (still inside the transaction: do not do I/O). */
  onEnqueued?: (jobId: string, service: string) => void;
}): StorageEventHook {
  const { registry, queue, region } = options;
  return (event: StorageEvent) => {
    const services = registry.triggeredBy(event.bucket, event.key, event.name);
    if (services.length === 0) return;
    const record = JSON.stringify(buildEventRecord(event, region));
    // A removed object has nothing to stage in: the job gets the event record (EVENT) alone.
    const removed = event.name.startsWith('ObjectRemoved');
    for (const service of services) {
      // A service's own outputs never trigger it again (an output folder inside the input folder would loop).
      if (event.principal === servicePrincipal(service.name)) continue;
      const id = newJobId(service.name);
      queue.enqueue({
        id,
        service: service.name,
        kind: 'storage',
        event: record,
        inputBucket: removed ? null : event.bucket,
        inputKey: removed ? null : event.key,
        maxAttempts: service.spec.retry.maxAttempts,
      });
      options.onEnqueued?.(id, service.name);
    }
  };
}

/** The principal a service's supervisor writes its outputs as. */
export function servicePrincipal(serviceName: string): string {
  return `service:${serviceName}`;
}
