/**
 * @module events/event-record
 * Shapes a storage mutation into the MinIO/S3 event JSON that OSCAR services receive as EVENT.
 */
import type { StorageEvent } from '../storage/object-store.js';

/**
 * Go's url.QueryEscape, which MinIO applies to object keys in event records: everything but
 * `A-Z a-z 0-9 - _ . ~` is percent-encoded, `/` included, and a space becomes `+`.
 */
export function queryEscape(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** Inverse of queryEscape (and of AWS's form, which leaves `/` as is). */
export function queryUnescape(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

export interface S3EventRecord {
  eventVersion: string;
  eventSource: string;
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { principalId: string; region: string; sourceIPAddress: string };
  responseElements: Record<string, string>;
  s3: {
    s3SchemaVersion: string;
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size?: number; eTag?: string; contentType?: string; sequencer: string };
  };
  source: { host: string; port: string; userAgent: string };
}

export interface S3Event {
  EventName: string;
  Key: string;
  Records: S3EventRecord[];
}

let sequence = 0;

/** The event JSON for one mutation, in MinIO's webhook shape (`eventSource: minio:s3`). */
export function buildEventRecord(event: StorageEvent, region: string): S3Event {
  const eventName = `s3:${event.name}`;
  const sequencer = (BigInt(event.timeMs) * 1000n + BigInt(sequence++ % 1000)).toString(16).toUpperCase();
  const removed = event.name.startsWith('ObjectRemoved');
  return {
    EventName: eventName,
    Key: `${event.bucket}/${event.key}`,
    Records: [
      {
        eventVersion: '2.0',
        eventSource: 'minio:s3',
        awsRegion: region,
        eventTime: new Date(event.timeMs).toISOString(),
        eventName,
        userIdentity: { principalId: event.principal },
        requestParameters: { principalId: event.principal, region, sourceIPAddress: event.sourceIp },
        responseElements: { 'x-amz-request-id': sequencer, 'x-minio-origin-endpoint': '' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'Config',
          bucket: {
            name: event.bucket,
            ownerIdentity: { principalId: event.principal },
            arn: `arn:aws:s3:::${event.bucket}`,
          },
          object: removed
            ? { key: queryEscape(event.key), sequencer }
            : {
                key: queryEscape(event.key),
                size: event.size,
                eTag: event.etag,
                contentType: event.contentType,
                sequencer,
              },
        },
        source: { host: event.sourceIp, port: '', userAgent: 'nubes' },
      },
    ],
  };
}

/**
 * Reads the object an event names, when the body is a MinIO/S3 event record (what a MinIO webhook or
 * another S3 service posts to /job); null for any other body.
 */
export function objectFromEvent(body: unknown): { bucket: string; key: string; eventTimeIso: string } | null {
  if (typeof body !== 'object' || body === null) return null;
  const records = (body as { Records?: unknown }).Records;
  if (!Array.isArray(records) || records.length === 0) return null;
  const record = records[0] as Partial<S3EventRecord> | undefined;
  const bucket = record?.s3?.bucket?.name;
  const key = record?.s3?.object?.key;
  if (typeof bucket !== 'string' || typeof key !== 'string') return null;
  let decoded: string;
  try {
    // S3 and MinIO URL-encode the key; Ceph RGW sends it as it is.
    decoded = (record as { eventSource?: unknown }).eventSource === 'ceph:s3' ? key : queryUnescape(key);
  } catch {
    return null;
  }
  const time = typeof record?.eventTime === 'string' ? record.eventTime : new Date().toISOString();
  return { bucket, key: decoded, eventTimeIso: time };
}
