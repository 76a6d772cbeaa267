/**
 * @module s3api/s3-context
 * What an S3 operation handler receives: the authenticated request, what it addresses, the store, and
 * the means to read its body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from '../core/index.js';
import type { ObjectStore } from '../storage/index.js';
import type { MultipartStaging } from './multipart-staging.js';
import type { Authenticated, SecretResolver } from './sigv4/authenticate.js';
import type { BucketAccess } from './bucket-access.js';

export interface S3Context {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  store: ObjectStore;
  /** Where the parts of multipart uploads wait. */
  multipart: MultipartStaging;
  region: string;
  maxObjectBytes: number;
  auth: Authenticated;
  /** Validated bucket name, or null for the service root. */
  bucket: string | null;
  /** Validated key, or null when the bucket itself is addressed. */
  key: string | null;
  /** First value of each query parameter. */
  params: Map<string, string>;
  /** The client's address, for event records. */
  sourceIp: string;
  logger: Logger;
  /** Looks up an access key (a form upload names its key in the form, not in a header). */
  resolveSecret: SecretResolver;
  /**
   * Fails with AccessDenied unless the owner of a key checked by the operation itself (a form upload's
   * policy) may write `key` in `bucket` (the bucket's visibility, the key's scope).
   */
  authorizeAs(
    caller: { accessKeyId: string; principal: string; admin: boolean },
    bucket: string,
    key: string,
  ): Promise<void>;
  /** Fails with AccessDenied unless the caller may `access` the bucket (e.g. a copy's source bucket). */
  authorize(bucket: string, access: BucketAccess): Promise<void>;
  /** The decoded, verified body (sends `100 Continue` first when the client waits for it). */
  openBody(): Readable;
  /** The whole body, for small XML documents; fails past `maxBytes`. */
  readBody(maxBytes: number): Promise<Buffer>;
}

/** An S3 operation. */
export type S3Operation = (context: S3Context) => Promise<void>;

/** The bucket of a bucket-level operation (the router only sends those requests that name one). */
export function requireBucket(context: S3Context): string {
  if (context.bucket === null) throw new Error('router bug: operation needs a bucket');
  return context.bucket;
}

export function requireKey(context: S3Context): { bucket: string; key: string } {
  if (context.key === null) throw new Error('router bug: operation needs a key');
  return { bucket: requireBucket(context), key: context.key };
}
