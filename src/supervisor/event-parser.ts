/**
 * @module supervisor/event-parser
 * Recognises the event the standalone supervisor reads on stdin, in OSCAR's order: a delegated wrapper
 * (`{"storage_provider": "<type.id>", "event": "<json string>"}`), then a MinIO/S3 storage event
 * (`Records[0].eventSource` = `minio:s3` | `aws:s3`), otherwise an opaque body (a sync or async call).
 * The object key of a storage event is URL-decoded as MinIO and S3 encode it (`+` for a space).
 */
import { z } from 'zod';

export type ParsedEvent =
  | {
      kind: 'storage';
      /** The storage provider id (`minio.default` unless the event was delegated). */
      provider: string;
      bucket: string;
      key: string;
      eventTimeIso: string;
      /** The storage event itself (unwrapped from a delegation), given to the script as EVENT. */
      event: string;
    }
  | { kind: 'http' };

const storageRecordSchema = z.object({
  eventSource: z.enum(['minio:s3', 'aws:s3', 'ceph:s3']),
  eventTime: z.string().optional(),
  s3: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({ key: z.string().min(1) }),
  }),
});

const storageEventSchema = z.object({ Records: z.array(z.unknown()).min(1) });

const delegatedSchema = z.object({ storage_provider: z.string().min(1), event: z.string() });

/** Classifies the event text; `nowIso` stands in for a missing eventTime. */
export function parseEvent(text: string, nowIso: string = new Date().toISOString()): ParsedEvent {
  return classify(text, 'minio.default', nowIso, 0);
}

function classify(text: string, provider: string, nowIso: string, depth: number): ParsedEvent {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'http' };
  }
  const delegated = delegatedSchema.safeParse(json);
  if (delegated.success && depth === 0) {
    return classify(delegated.data.event, delegated.data.storage_provider, nowIso, depth + 1);
  }
  const event = storageEventSchema.safeParse(json);
  if (!event.success) return { kind: 'http' };
  const record = storageRecordSchema.safeParse(event.data.Records[0]);
  if (!record.success) return { kind: 'http' };
  let key: string;
  try {
    // S3 and MinIO URL-encode the key; Ceph RGW sends it as it is.
    key =
      record.data.eventSource === 'ceph:s3'
        ? record.data.s3.object.key
        : decodeURIComponent(record.data.s3.object.key.replace(/\+/g, ' '));
  } catch {
    return { kind: 'http' };
  }
  return {
    kind: 'storage',
    provider,
    bucket: record.data.s3.bucket.name,
    key,
    eventTimeIso: record.data.eventTime ?? nowIso,
    event: text,
  };
}
