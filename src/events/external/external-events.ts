/**
 * @module events/external/external-events
 * Storage events from providers other than the embedded store (a MinIO or Ceph RGW webhook, a polled
 * bucket, an SQS queue, a delegated /job call) become jobs exactly as local uploads do: one job per
 * matching service input, enqueued in one SQLite transaction that commits before the caller answers.
 */
import { newJobId } from '../../core/index.js';
import type { StorageIoSpec } from '../../fdl/service-spec.js';
import type { Db } from '../../state/index.js';
import type { StorageEventName } from '../../storage/object-store.js';
import { queryUnescape } from '../event-record.js';
import type { JobQueue } from '../job-queue.js';
import { subscribes, type ServiceRecord, type ServiceRegistry } from '../service-registry.js';

/** One object event from an external provider, read from an S3/MinIO event record. */
export interface ExternalObjectEvent {
  /** `s3:`-less name, e.g. `ObjectCreated:Put`. */
  name: StorageEventName;
  bucket: string;
  /** Decoded key. */
  key: string;
  /** The event record as the script gets it in EVENT (`{"Records":[...]}`). */
  record: string;
}

/** Whether an input covers an object: same bucket, key inside its folder. */
export function inputCovers(
  input: Pick<StorageIoSpec, 'bucket' | 'folder'>,
  bucket: string,
  key: string,
): boolean {
  return input.bucket === bucket && (input.folder === '' || key.startsWith(`${input.folder}/`));
}

/** Services with an input on `provider` that covers the object and subscribes to the event. */
export function servicesForExternalEvent(
  services: Iterable<ServiceRecord>,
  provider: string,
  event: Pick<ExternalObjectEvent, 'name' | 'bucket' | 'key'>,
): ServiceRecord[] {
  const matches: ServiceRecord[] = [];
  for (const service of services) {
    const hit = service.spec.input.some(
      (input) =>
        input.provider === provider &&
        inputCovers(input, event.bucket, event.key) &&
        subscribes(input.events ?? ['s3:ObjectCreated:*'], event.name),
    );
    if (hit) matches.push(service);
  }
  return matches;
}

const KNOWN_EVENTS = new Set<string>([
  'ObjectCreated:Put',
  'ObjectCreated:Post',
  'ObjectCreated:Copy',
  'ObjectCreated:CompleteMultipartUpload',
  'ObjectRemoved:Delete',
  'ObjectRemoved:DeleteMarkerCreated',
]);

/**
 * Reads the records of an S3/MinIO/RGW notification body (`{"Records":[...]}`); records that name no
 * object or an event Nubes does not know are left out. Each record becomes an event of its own.
 */
export function readEventRecords(body: unknown): ExternalObjectEvent[] {
  if (typeof body !== 'object' || body === null) return [];
  const records = (body as { Records?: unknown }).Records;
  if (!Array.isArray(records)) return [];
  const events: ExternalObjectEvent[] = [];
  for (const record of records as unknown[]) {
    if (typeof record !== 'object' || record === null) continue;
    const r = record as {
      eventName?: unknown;
      eventSource?: unknown;
      s3?: { bucket?: { name?: unknown }; object?: { key?: unknown } };
    };
    const bucket = r.s3?.bucket?.name;
    const rawKey = r.s3?.object?.key;
    if (typeof bucket !== 'string' || typeof rawKey !== 'string' || typeof r.eventName !== 'string') continue;
    // MinIO and S3 send `s3:ObjectCreated:Put`; RGW sends `ObjectCreated:Put`.
    const name = r.eventName.replace(/^s3:/, '');
    if (!KNOWN_EVENTS.has(name)) continue;
    let key: string;
    try {
      // S3 and MinIO URL-encode the key; Ceph RGW sends it as it is.
      key = r.eventSource === 'ceph:s3' ? rawKey : queryUnescape(rawKey);
    } catch {
      continue;
    }
    events.push({
      name: (name === 'ObjectRemoved:DeleteMarkerCreated'
        ? 'ObjectRemoved:Delete'
        : name) as StorageEventName,
      bucket,
      key,
      record: JSON.stringify({ Records: [record] }),
    });
  }
  return events;
}

export interface EnqueuedJob {
  id: string;
  service: string;
}

/**
 * Enqueues one job per (event, matching service) in one transaction; `only` restricts the services (a
 * webhook registered for one service). Returns the jobs, committed when this returns.
 */
export function enqueueExternalEvents(
  deps: { db: Db; queue: JobQueue; registry: ServiceRegistry },
  provider: string,
  events: ExternalObjectEvent[],
  only?: (service: ServiceRecord) => boolean,
): EnqueuedJob[] {
  const jobs: EnqueuedJob[] = [];
  deps.db.transaction(() => {
    for (const event of events) {
      const services = servicesForExternalEvent(deps.registry.list(), provider, event).filter(
        (service) => only === undefined || only(service),
      );
      const removed = event.name.startsWith('ObjectRemoved');
      for (const service of services) {
        const id = newJobId(service.name);
        deps.queue.enqueue({
          id,
          service: service.name,
          kind: 'storage',
          event: event.record,
          inputBucket: removed ? null : event.bucket,
          inputKey: removed ? null : event.key,
          inputProvider: provider,
          maxAttempts: service.spec.retry.maxAttempts,
        });
        jobs.push({ id, service: service.name });
      }
    }
  })();
  return jobs;
}
