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

/**
 * The representation headers S3 stores with an object and sends back on GET/HEAD (beside Content-Type).
 * Absent ones are not sent.
 */
export interface ContentHeaders {
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  expires?: string;
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
  /** Stored representation headers; a store that keeps none leaves this out. */
  contentHeaders?: ContentHeaders;
}

export interface BucketInfo {
  name: string;
  createdMs: number;
  owner: string;
  visibility: BucketVisibility;
  /** Who besides the owner may use a `restricted` bucket (empty for the other visibilities). */
  allowedUsers: string[];
}

/** OSCAR's bucket visibility: the owner only, everyone (anonymous reads included), or listed users. */
export type BucketVisibility = 'private' | 'public' | 'restricted';

/**
 * Preconditions on an object's current state (HTTP conditional headers), checked atomically with the
 * write they guard. An unmet one fails with PRECONDITION_FAILED.
 */
export interface ObjectConditions {
  /** ETag the object must have (`*`: the object must exist). */
  ifMatch?: string;
  /** ETag the object must not have (`*`: the object must not exist). */
  ifNoneMatch?: string;
  /** Epoch ms: the object must have been modified after this second. */
  ifModifiedSinceMs?: number;
  /** Epoch ms: the object must not have been modified after this second. */
  ifUnmodifiedSinceMs?: number;
}

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  contentHeaders?: ContentHeaders;
  /**
   * The ETag to record instead of the body's MD5 (a multipart upload's `md5-of-part-md5s-N`); the store
   * then need not hash the body.
   */
  etag?: string;
  /** Checked against the object being replaced, in the transaction that records the new one. */
  conditions?: ObjectConditions;
  /** Hex MD5 the body must have (from Content-MD5); a mismatch fails with BAD_REQUEST and stores nothing. */
  expectedMd5?: string;
  /** Exact length the body must have (from Content-Length). */
  expectedSize?: number;
  principal?: string;
  sourceIp?: string;
  /** Event name to report. @default ObjectCreated:Put */
  eventName?: StorageEventName;
}

export interface CopyOptions {
  /**
   * The copy's description: `copy` keeps the source's content type, metadata and headers; `replace` takes
   * those given here.
   */
  metadataDirective?: 'copy' | 'replace';
  contentType?: string;
  metadata?: Record<string, string>;
  contentHeaders?: ContentHeaders;
  /** Preconditions on the source (x-amz-copy-source-if-*). */
  sourceConditions?: ObjectConditions;
  /** Preconditions on the object being replaced at the target. */
  conditions?: ObjectConditions;
  principal?: string;
  sourceIp?: string;
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
  /**
   * Present when the bytes are a local file (the embedded store): reads them straight into the caller's
   * buffer, so that a server can send a large object through a few buffers it reuses instead of one new
   * buffer per chunk (which, hundreds of MB/s of them, keeps the garbage collector busy). A caller that
   * reads this way destroys `body` when done (it holds the file open).
   */
  readAt?: (buffer: Buffer, length: number, position: number) => Promise<number>;
}

/**
 * An object store. Keys are validated by the store (`INVALID_KEY`), bucket names too
 * (`INVALID_BUCKET_NAME`); a missing bucket is `BUCKET_NOT_FOUND`, a missing object `OBJECT_NOT_FOUND`.
 */
export interface ObjectStore {
  createBucket(
    name: string,
    options?: { owner?: string; visibility?: BucketVisibility; allowedUsers?: string[] },
  ): Promise<BucketInfo>;
  /** Creates the bucket when missing; never fails because it exists. */
  ensureBucket(name: string): Promise<void>;
  headBucket(name: string): Promise<BucketInfo>;
  listBuckets(): Promise<BucketInfo[]>;
  /** Fails with BUCKET_NOT_EMPTY unless the bucket is empty. */
  deleteBucket(name: string): Promise<void>;
  /** Changes who may use a bucket. */
  updateBucket(
    name: string,
    changes: { visibility: BucketVisibility; allowedUsers?: string[] },
  ): Promise<BucketInfo>;

  put(bucket: string, key: string, body: Readable | Buffer, options?: PutOptions): Promise<ObjectInfo>;
  get(bucket: string, key: string, range?: ByteRange): Promise<GetResult>;
  head(bucket: string, key: string): Promise<ObjectInfo>;
  /**
   * Copies an object (to itself too, to change its description), reported as ObjectCreated:Copy. The
   * source's preconditions are checked against the very version copied.
   */
  copy(
    source: { bucket: string; key: string },
    target: { bucket: string; key: string },
    options?: CopyOptions,
  ): Promise<ObjectInfo>;
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
