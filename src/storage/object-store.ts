/**
 * @module storage/object-store
 * The contract every object store implements (the embedded filesystem store, any S3-compatible service).
 * Every mutation reports the event it caused through the store's `onEvent` hook; the embedded store calls it
 * inside the same SQLite transaction that records the object, so that the jobs an upload triggers commit
 * together with the object.
 */
import type { Readable } from 'node:stream';

export type StorageEventName =
  | 'ObjectCreated:Put'
  | 'ObjectCreated:Post'
  | 'ObjectCreated:Copy'
  | 'ObjectCreated:CompleteMultipartUpload'
  | 'ObjectRemoved:Delete';

/** What a mutation did, before it is shaped into an S3/MinIO event record. */
export interface StorageEvent {
  name: StorageEventName;
  bucket: string;
  key: string;
  size: number;
  etag: string;
  contentType: string;
  timeMs: number;
  /** Who caused it (access key or user), for the record's `principalId`. */
  principal: string;
  sourceIp: string;
}

export interface ObjectInfo {
  bucket: string;
  key: string;
  size: number;
  /** Hex MD5 (or the multipart form), without quotes. */
  etag: string;
  contentType: string;
  lastModifiedMs: number;
  /** User metadata (`x-amz-meta-*` without the prefix, lower-case names). */
  metadata: Record<string, string>;
}

export interface BucketInfo {
  name: string;
  createdMs: number;
  owner: string;
  visibility: 'private' | 'public' | 'restricted';
}

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /** Hex MD5 the body must have (from Content-MD5); a mismatch fails with BAD_REQUEST and stores nothing. */
  expectedMd5?: string;
  /** Exact length the body must have (from Content-Length). */
  expectedSize?: number;
  principal?: string;
  sourceIp?: string;
  /** Event name to report. @default ObjectCreated:Put */
  eventName?: StorageEventName;
}

export interface ByteRange {
  /** Inclusive. */
  start: number;
  /** Inclusive. */
  end: number;
}

export interface ListOptions {
  prefix?: string;
  delimiter?: string;
  /** List keys strictly after this one. */
  startAfter?: string;
  /** @default 1000 */
  maxKeys?: number;
}

export interface ListResult {
  objects: ObjectInfo[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix returned; pass as `startAfter` to continue. */
  nextStartAfter: string | null;
}

export interface GetResult {
  info: ObjectInfo;
  body: Readable;
  /** The range served, when one was asked for. */
  range: ByteRange | null;
}

/**
 * An object store. Keys are validated by the store (`INVALID_KEY`), bucket names too
 * (`INVALID_BUCKET_NAME`); a missing bucket is `BUCKET_NOT_FOUND`, a missing object `OBJECT_NOT_FOUND`.
 */
export interface ObjectStore {
  createBucket(
    name: string,
    options?: { owner?: string; visibility?: BucketInfo['visibility'] },
  ): Promise<BucketInfo>;
  /** Creates the bucket when missing; never fails because it exists. */
  ensureBucket(name: string): Promise<void>;
  headBucket(name: string): Promise<BucketInfo>;
  listBuckets(): Promise<BucketInfo[]>;
  /** Fails with BUCKET_NOT_EMPTY unless the bucket is empty. */
  deleteBucket(name: string): Promise<void>;

  put(bucket: string, key: string, body: Readable | Buffer, options?: PutOptions): Promise<ObjectInfo>;
  get(bucket: string, key: string, range?: ByteRange): Promise<GetResult>;
  head(bucket: string, key: string): Promise<ObjectInfo>;
  list(bucket: string, options?: ListOptions): Promise<ListResult>;
  /** Deleting a missing key succeeds (as S3 does) and reports no event. */
  delete(bucket: string, key: string, options?: { principal?: string; sourceIp?: string }): Promise<void>;

  /**
   * The object's bytes as a file on this machine's filesystem, when the store keeps them that way (the
   * embedded store); null otherwise. The file must be treated as read-only.
   */
  localPath(bucket: string, key: string): Promise<string | null>;

  close(): Promise<void>;
}

/** Hook the embedded store calls inside its metadata transaction, once per mutation. Must be synchronous. */
export type StorageEventHook = (event: StorageEvent) => void;
