/**
 * @module events/external/bucket-poller
 * `trigger: poll`: Nubes lists an external bucket's input folder (ListObjectsV2) every `poll_interval`
 * seconds and starts a job for each object created since the last look. The watermark (the latest
 * LastModified seen, with the keys seen at that instant) is stored in SQLite in the transaction that
 * enqueues the jobs, so a restart neither loses an object nor starts one twice. The first look only sets the
 * watermark: objects already there when the service is deployed start nothing, as with a webhook.
 * S3 stamps an object with the end of its upload, so objects appear in LastModified order; one that
 * appears with a LastModified older than the watermark (servers whose clocks disagree) is not started.
 */
import type { Logger } from '../../core/index.js';
import type { ProviderSettings, StorageIoSpec } from '../../fdl/service-spec.js';
import type { Db } from '../../state/index.js';
import type { ExternalObjectEvent } from './external-events.js';
import type { InputWatcher } from './external-inputs.js';

type S3Settings = Extract<ProviderSettings, { type: 'minio' | 's3' }>;

export interface ListedObject {
  key: string;
  lastModifiedMs: number;
  size: number;
  etag: string;
}

interface WatermarkRow {
  last_modified: number;
  keys_at: string;
}

/** Objects newer than the watermark, and the watermark after them. Pure: tested on its own. */
export function newObjects(
  listed: ListedObject[],
  watermark: { lastModifiedMs: number; keysAt: string[] } | null,
): { fresh: ListedObject[]; next: { lastModifiedMs: number; keysAt: string[] } } {
  const seen = new Set(watermark?.keysAt ?? []);
  const fresh =
    watermark === null
      ? []
      : listed.filter(
          (object) =>
            object.lastModifiedMs > watermark.lastModifiedMs ||
            (object.lastModifiedMs === watermark.lastModifiedMs && !seen.has(object.key)),
        );
  const latest = listed.reduce(
    (max, object) => Math.max(max, object.lastModifiedMs),
    watermark?.lastModifiedMs ?? 0,
  );
  const keysAt = listed.filter((object) => object.lastModifiedMs === latest).map((object) => object.key);
  // Keys seen at the same instant before stay seen (a listing may not show a deleted one again).
  if (watermark !== null && latest === watermark.lastModifiedMs) keysAt.push(...watermark.keysAt);
  fresh.sort((a, b) => a.lastModifiedMs - b.lastModifiedMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { fresh, next: { lastModifiedMs: latest, keysAt: [...new Set(keysAt)].sort() } };
}

/** The S3-shaped record a polled object is given to the script as (EVENT). */
function recordOf(bucket: string, object: ListedObject, region: string): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: new Date(object.lastModifiedMs).toISOString(),
        eventName: 's3:ObjectCreated:Put',
        userIdentity: { principalId: 'nubes-poller' },
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: {
            key: encodeURIComponent(object.key).replace(/%2F/g, '/'),
            size: object.size,
            eTag: object.etag,
          },
        },
      },
    ],
  });
}

export interface BucketPollerOptions {
  db: Db;
  service: string;
  input: StorageIoSpec;
  settings: S3Settings;
  intervalMs: number;
  /** Enqueues the jobs (inside the caller's transaction). */
  enqueue: (events: ExternalObjectEvent[]) => unknown;
  logger: Logger;
}

export function startBucketPoller(options: BucketPollerOptions): InputWatcher {
  const { db, input, service } = options;
  const inputId = `${input.provider}/${input.bucket}/${input.folder}`;
  let client: import('@aws-sdk/client-s3').S3Client | null = null;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let closed = false;

  const list = async (): Promise<ListedObject[]> => {
    const sdk = await import('@aws-sdk/client-s3');
    const { settings } = options;
    client ??= new sdk.S3Client({
      region: settings.region,
      ...(settings.endpoint === null ? {} : { endpoint: settings.endpoint }),
      forcePathStyle: settings.endpoint !== null,
      ...(settings.accessKey !== null && settings.secretKey !== null
        ? { credentials: { accessKeyId: settings.accessKey, secretAccessKey: settings.secretKey } }
        : {}),
      maxAttempts: 2,
      // A service that takes the connection and never answers fails the call instead of holding it.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
    });
    const objects: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new sdk.ListObjectsV2Command({
          Bucket: input.bucket,
          ...(input.folder === '' ? {} : { Prefix: `${input.folder}/` }),
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      );
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined || item.Key.endsWith('/')) continue;
        objects.push({
          key: item.Key,
          lastModifiedMs: item.LastModified?.getTime() ?? 0,
          size: item.Size ?? 0,
          etag: (item.ETag ?? '').replace(/"/g, ''),
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined && !closed);
    return objects;
  };

  const pollOnce = async (): Promise<void> => {
    const listed = await list();
    if (closed) return;
    const row = db
      .prepare(`SELECT last_modified, keys_at FROM input_watermarks WHERE service = ? AND input = ?`)
      .get(service, inputId) as WatermarkRow | undefined;
    const watermark =
      row === undefined
        ? null
        : { lastModifiedMs: row.last_modified, keysAt: JSON.parse(row.keys_at) as string[] };
    const { fresh, next } = newObjects(listed, watermark);
    db.transaction(() => {
      options.enqueue(
        fresh.map((object) => ({
          name: 'ObjectCreated:Put' as const,
          bucket: input.bucket,
          key: object.key,
          record: recordOf(input.bucket, object, options.settings.region),
        })),
      );
      db.prepare(
        `INSERT INTO input_watermarks (service, input, last_modified, keys_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(service, input) DO UPDATE SET last_modified = excluded.last_modified, keys_at = excluded.keys_at`,
      ).run(service, inputId, next.lastModifiedMs, JSON.stringify(next.keysAt));
    })();
  };

  const loop = () => {
    if (closed) return;
    running = pollOnce()
      .catch((error: unknown) => {
        options.logger.warn(
          { service, input: inputId, err: error },
          'polling the input bucket failed; trying again',
        );
      })
      .finally(() => {
        running = null;
        if (!closed) timer = setTimeout(loop, options.intervalMs);
      });
  };
  loop();

  return {
    async close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      await running;
      client?.destroy();
    },
  };
}
