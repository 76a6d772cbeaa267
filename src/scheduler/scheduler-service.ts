/**
 * @module scheduler/scheduler-service
 * The scheduler as the platform runs it: the Scheduler, its periodic sweep (missing partitions, expired
 * leases, expired jobs), and the watched bucket where job files are submitted.
 */
import type { Clock, Logger } from '../core/index.js';
import type { Db } from '../state/index.js';
import type { ObjectStore, StorageEventHook } from '../storage/object-store.js';
import { isJobFileEvent, submitJobFile } from './bucket-submissions.js';
import { Scheduler } from './scheduler.js';

/** The bucket watched for job files. */
export const SCHEDULER_JOBS_BUCKET = 'scheduler-jobs';

/** How often the sweep runs. Missing windows are 2 report intervals, so a second is fine-grained enough. */
const SWEEP_INTERVAL_MS = 1000;

export interface SchedulerService {
  scheduler: Scheduler;
  /** Wraps the store's event hook so job files uploaded to the watched bucket are submitted. */
  watchJobFiles(next: StorageEventHook): StorageEventHook;
  /** Gives the service the object store (created after the hook). The watched bucket is made by whoever uses it. */
  attachStore(store: ObjectStore): void;
  close(): Promise<void>;
}

export function startSchedulerService(options: {
  db: Db;
  clock: Clock;
  logger: Logger;
  registry: { get(name: string): { spec: { script: string } } };
}): SchedulerService {
  const logger = options.logger.child({ component: 'scheduler' });
  const scheduler = new Scheduler({
    db: options.db,
    clock: options.clock,
    logger,
    resolveServiceScript: (name) => options.registry.get(name).spec.script,
  });
  let store: ObjectStore | null = null;
  const submissions = new Set<Promise<void>>();
  const timer = setInterval(() => {
    try {
      const changes = scheduler.tick();
      if (changes.missing + changes.requeued + changes.expired > 0) logger.info(changes, 'scheduler sweep');
    } catch (error) {
      logger.error({ err: error }, 'scheduler sweep failed');
    }
  }, SWEEP_INTERVAL_MS);
  timer.unref();
  return {
    scheduler,
    watchJobFiles: (next) => (event) => {
      next(event);
      if (!isJobFileEvent(event, SCHEDULER_JOBS_BUCKET)) return;
      // The hook runs inside the store's transaction: read the file once it has committed.
      setImmediate(() => {
        if (store === null) return;
        const done = submitJobFile(scheduler, store, event.bucket, event.key, logger).catch(
          (error: unknown) => {
            logger.error({ err: error, key: event.key }, 'job file submission failed');
          },
        );
        submissions.add(done);
        void done.finally(() => submissions.delete(done));
      });
    },
    attachStore: (objectStore) => {
      store = objectStore;
    },
    close: async () => {
      clearInterval(timer);
      await Promise.all([...submissions]);
      scheduler.close();
    },
  };
}
