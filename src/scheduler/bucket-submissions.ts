/**
 * @module scheduler/bucket-submissions
 * Jobs submitted by uploading a job file to the watched bucket, as TaScaaS's `input/*.config`. A key
 * `<tenant>/<name>.job.json` submits for that tenant, a top-level key for the admin; TaScaaS's `.config`
 * suffix works too. The outcome is written beside the file as `<key>.status.json` ({ jobId } or { error }).
 */
import type { Logger } from '../core/index.js';
import { toPlatformError } from '../core/index.js';
import type { ObjectStore, StorageEvent } from '../storage/object-store.js';
import { ADMIN_TENANT } from './accounts.js';
import type { Scheduler } from './scheduler.js';

const JOB_FILE = /\.(job\.json|config)$/;

/** Whether an event is a job file landing in the watched bucket. */
export function isJobFileEvent(event: StorageEvent, bucket: string): boolean {
  return event.bucket === bucket && event.name.startsWith('ObjectCreated') && JOB_FILE.test(event.key);
}

/** Reads the uploaded job file, submits it, and writes `<key>.status.json`. */
export async function submitJobFile(
  scheduler: Scheduler,
  store: ObjectStore,
  bucket: string,
  key: string,
  logger: Logger,
): Promise<void> {
  let status: Record<string, unknown>;
  try {
    const chunks: Buffer[] = [];
    const object = await store.get(bucket, key);
    for await (const chunk of object.body) chunks.push(chunk as Buffer);
    const slash = key.indexOf('/');
    const tenant = slash > 0 ? key.slice(0, slash) : ADMIN_TENANT;
    const job = scheduler.submit(tenant, JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
    status = { jobId: job.id };
  } catch (error) {
    const failure = toPlatformError(error);
    status = { error: failure.toData() };
    logger.warn({ bucket, key, err: failure.message }, 'job file not submitted');
  }
  const body = Buffer.from(JSON.stringify(status, null, 2));
  await store.put(bucket, `${key}.status.json`, body, { contentType: 'application/json' });
}
