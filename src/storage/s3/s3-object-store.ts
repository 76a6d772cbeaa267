/**
 * @module storage/s3/s3-object-store
 * ObjectStore over any S3-compatible service (MinIO, Ceph RGW, AWS S3, or Nubes' own S3 endpoint) through
 * the AWS SDK, loaded lazily. The standalone supervisor uses it inside Slurm jobs and containers. Events are
 * reported after each mutation succeeds (the service's own notifications are the durable record there).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent as HttpsAgent } from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { PlatformError } from '../../core/index.js';
import { validateBucketName } from '../bucket-name.js';
import { resolveRange } from '../byte-range.js';
import { compareKeys } from '../key-order.js';
import { MAX_LIST_KEYS } from '../list-keys.js';
import { validateObjectKey } from '../object-key.js';
import type {
  BucketInfo,
  BucketVisibility,
  ByteRange,
  CopyOptions,
  GetResult,
  ListOptions,
  ListResult,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  StorageEvent,
  StorageEventHook,
} from '../object-store.js';
import { DEFAULT_CONTENT_TYPE, normalizeMetadata } from '../storage-errors.js';
import { writeDurableFile } from '../fs/durable-file.js';
import { exactLength } from './exact-length.js';
import { fromS3Error } from './s3-error-mapping.js';

export interface S3ObjectStoreOptions {
  /** e.g. http://127.0.0.1:9000; undefined for AWS S3 itself (the SDK picks the regional endpoint). */
  endpoint: string | undefined;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The session token of temporary keys (a role's, as Lambda gives a function). */
  sessionToken?: string;
  /** Path-style addressing (`endpoint/bucket/key`); needed by most self-hosted services. */
  forcePathStyle: boolean;
  /** Called after each successful mutation. */
  onEvent?: StorageEventHook;
  /** Attempts per request, retries included. @default 3 */
  maxAttempts?: number;
  /** @default 10000 */
  connectionTimeoutMs?: number;
  /** A request whose socket stays silent this long fails (idle time, not the length of a transfer). @default 120000 */
  idleTimeoutMs?: number;
  /** Check the service's TLS certificate (MinIO's `verify: false` turns it off). @default true */
  verifyTls?: boolean;
}

type S3Sdk = typeof import('@aws-sdk/client-s3');

/** Connects to an S3-compatible service (no request is made until the first call). */
export async function createS3ObjectStore(options: S3ObjectStoreOptions): Promise<ObjectStore> {
  const sdk = await import('@aws-sdk/client-s3');
  const insecure =
    options.verifyTls === false ? { httpsAgent: new HttpsAgent({ rejectUnauthorized: false }) } : {};
  const client = new sdk.S3Client({
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    credentials: {
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
    },
    // Only what S3 requires: self-hosted services do not all understand the newer checksum trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 10_000,
      requestTimeout: options.idleTimeoutMs ?? 120_000,
      ...insecure,
    },
  });
  return new S3ObjectStore(sdk, client, options);
}

function stripQuotes(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

/** Parses `bytes start-end/total`. */
function parseContentRange(header: string | undefined): { range: ByteRange; total: number } | null {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header ?? '');
  if (match === null) return null;
  return { range: { start: Number(match[1]), end: Number(match[2]) }, total: Number(match[3]) };
}

class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly sdk: S3Sdk,
    private readonly client: S3Client,
    private readonly options: S3ObjectStoreOptions,
  ) {}

  async createBucket(
    name: string,
    options: { owner?: string; visibility?: BucketVisibility; allowedUsers?: string[] } = {},
  ): Promise<BucketInfo> {
    validateBucketName(name);
    const region = this.options.region;
    await this.call(
      () =>
        this.client.send(
          new this.sdk.CreateBucketCommand({
            Bucket: name,
            // us-east-1 is the one region S3 refuses as an explicit location constraint.
            ...(region === 'us-east-1'
              ? {}
              : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
          }),
        ),
      'BUCKET_NOT_FOUND',
    );
    return {
      name,
      owner: options.owner ?? this.options.accessKeyId,
      visibility: options.visibility ?? 'private',
      allowedUsers: options.allowedUsers ?? [],
      createdMs: Date.now(),
    };
  }

  async ensureBucket(name: string): Promise<void> {
    try {
      await this.headBucket(name);
    } catch (error) {
      if (!(error instanceof PlatformError && error.code === 'BUCKET_NOT_FOUND')) throw error;
      try {
        await this.createBucket(name);
      } catch (createError) {
        if (!(createError instanceof PlatformError && createError.code === 'BUCKET_EXISTS'))
          throw createError;
      }
    }
  }

  async headBucket(name: string): Promise<BucketInfo> {
    validateBucketName(name);
    await this.call(
      () => this.client.send(new this.sdk.HeadBucketCommand({ Bucket: name })),
      'BUCKET_NOT_FOUND',
    );
    // HeadBucket tells neither creation time nor owner.
    return { name, owner: '', visibility: 'private', allowedUsers: [], createdMs: 0 };
  }

  async listBuckets(): Promise<BucketInfo[]> {
    const answer = await this.call(
      () => this.client.send(new this.sdk.ListBucketsCommand({})),
      'BUCKET_NOT_FOUND',
    );
    return (answer.Buckets ?? []).map((bucket) => ({
      name: bucket.Name ?? '',
      owner: answer.Owner?.DisplayName ?? answer.Owner?.ID ?? '',
      visibility: 'private' as const,
      allowedUsers: [],
      createdMs: bucket.CreationDate?.getTime() ?? 0,
    }));
  }

  async deleteBucket(name: string): Promise<void> {
    validateBucketName(name);
    await this.call(
      () => this.client.send(new this.sdk.DeleteBucketCommand({ Bucket: name })),
      'BUCKET_NOT_FOUND',
    );
  }

  async put(
    bucket: string,
    key: string,
    input: Readable | Buffer,
    options: PutOptions = {},
  ): Promise<ObjectInfo> {
    validateBucketName(bucket);
    validateObjectKey(key);
    if (options.expectedMd5 !== undefined && !/^[0-9a-f]{32}$/i.test(options.expectedMd5)) {
      throw new PlatformError('BAD_REQUEST', 'expectedMd5 must be 32 hex digits', {
        details: { mismatch: 'md5' },
      });
    }
    let spoolDir: string | null = null;
    let body: Readable | Buffer = input;
    let size = options.expectedSize;
    let bodyFailure: unknown = null;
    const abort = new AbortController();
    try {
      if (Buffer.isBuffer(input)) {
        if (size !== undefined && size !== input.length) {
          throw new PlatformError(
            'BAD_REQUEST',
            `the body has ${input.length} bytes, ${size} were announced`,
            {
              details: { mismatch: 'size', expected: size, actual: input.length },
            },
          );
        }
        size = input.length;
      } else if (size === undefined) {
        // S3 needs the length up front; a stream of unknown length is spooled to learn it.
        spoolDir = await mkdtemp(join(tmpdir(), 'nubes-s3-put-'));
        const spooled = await writeDurableFile(input, spoolDir);
        size = spooled.size;
        body = createReadStream(spooled.path);
      } else {
        body = pipeline(input, exactLength(size), (error) => {
          if (!error) return;
          bodyFailure = error;
          // The SDK does not end the request when its body fails: it would wait for the missing bytes.
          abort.abort(error);
        });
      }
      const metadata = normalizeMetadata(options.metadata);
      const contentType = options.contentType || DEFAULT_CONTENT_TYPE;
      const answer = await this.call(
        () =>
          this.client.send(
            new this.sdk.PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: body,
              ContentLength: size,
              ContentType: contentType,
              Metadata: metadata,
              ...(options.expectedMd5 === undefined
                ? {}
                : { ContentMD5: Buffer.from(options.expectedMd5, 'hex').toString('base64') }),
            }),
            { abortSignal: abort.signal },
          ),
        'BUCKET_NOT_FOUND',
      );
      const info: ObjectInfo = {
        bucket,
        key,
        size,
        etag: stripQuotes(answer.ETag),
        contentType,
        lastModifiedMs: Date.now(),
        metadata,
      };
      this.report(options.eventName ?? 'ObjectCreated:Put', info, options);
      return info;
    } catch (error) {
      // The body's own failure (too short, too long, its source failing) explains more than the SDK's.
      throw fromS3Error(bodyFailure ?? error);
    } finally {
      if (spoolDir !== null) await rm(spoolDir, { recursive: true, force: true });
    }
  }

  async get(bucket: string, key: string, range?: ByteRange): Promise<GetResult> {
    validateBucketName(bucket);
    validateObjectKey(key);
    // Shape checks only: whether the range fits the object is the service's answer (416).
    if (range !== undefined) resolveRange(range, Number.MAX_SAFE_INTEGER);
    const answer = await this.call(() =>
      this.client.send(
        new this.sdk.GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
        }),
      ),
    );
    const served = parseContentRange(answer.ContentRange);
    const info: ObjectInfo = {
      bucket,
      key,
      size: served?.total ?? answer.ContentLength ?? 0,
      etag: stripQuotes(answer.ETag),
      contentType: answer.ContentType ?? DEFAULT_CONTENT_TYPE,
      lastModifiedMs: answer.LastModified?.getTime() ?? 0,
      metadata: normalizeMetadata(answer.Metadata),
    };
    return {
      info,
      body: answer.Body as Readable,
      range: range === undefined ? null : (served?.range ?? null),
    };
  }

  async head(bucket: string, key: string): Promise<ObjectInfo> {
    validateBucketName(bucket);
    validateObjectKey(key);
    let answer;
    try {
      answer = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      const mapped = fromS3Error(error);
      // A HEAD 404 has no body to say which is missing: ask about the bucket.
      if (mapped.code === 'OBJECT_NOT_FOUND') await this.headBucket(bucket);
      throw mapped;
    }
    return {
      bucket,
      key,
      size: answer.ContentLength ?? 0,
      etag: stripQuotes(answer.ETag),
      contentType: answer.ContentType ?? DEFAULT_CONTENT_TYPE,
      lastModifiedMs: answer.LastModified?.getTime() ?? 0,
      metadata: normalizeMetadata(answer.Metadata),
    };
  }

  async list(bucket: string, options: ListOptions = {}): Promise<ListResult> {
    validateBucketName(bucket);
    const maxKeys = Math.max(0, Math.min(options.maxKeys ?? MAX_LIST_KEYS, MAX_LIST_KEYS));
    const answer = await this.call(
      () =>
        this.client.send(
          new this.sdk.ListObjectsV2Command({
            Bucket: bucket,
            MaxKeys: maxKeys,
            ...(options.prefix ? { Prefix: options.prefix } : {}),
            ...(options.delimiter ? { Delimiter: options.delimiter } : {}),
            ...(options.startAfter ? { StartAfter: options.startAfter } : {}),
          }),
        ),
      'BUCKET_NOT_FOUND',
    );
    // A listing carries neither content types nor user metadata: `head` has them.
    const objects: ObjectInfo[] = (answer.Contents ?? []).map((item) => ({
      bucket,
      key: item.Key ?? '',
      size: item.Size ?? 0,
      etag: stripQuotes(item.ETag),
      contentType: DEFAULT_CONTENT_TYPE,
      lastModifiedMs: item.LastModified?.getTime() ?? 0,
      metadata: {},
    }));
    const commonPrefixes = (answer.CommonPrefixes ?? []).map((item) => item.Prefix ?? '');
    const isTruncated = answer.IsTruncated === true;
    let last: string | null = null;
    for (const entry of [...objects.map((object) => object.key), ...commonPrefixes]) {
      if (last === null || compareKeys(entry, last) > 0) last = entry;
    }
    return { objects, commonPrefixes, isTruncated, nextStartAfter: isTruncated ? last : null };
  }

  async delete(
    bucket: string,
    key: string,
    options: { principal?: string; sourceIp?: string } = {},
  ): Promise<void> {
    validateBucketName(bucket);
    validateObjectKey(key);
    // S3 does not say whether something was deleted; the event needs to know (and what it was).
    let existing: ObjectInfo | null = null;
    try {
      existing = await this.head(bucket, key);
    } catch (error) {
      if (!(error instanceof PlatformError && error.code === 'OBJECT_NOT_FOUND')) throw error;
    }
    await this.call(
      () => this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: bucket, Key: key })),
      'BUCKET_NOT_FOUND',
    );
    if (existing !== null) this.report('ObjectRemoved:Delete', existing, options);
  }

  updateBucket(name: string): Promise<BucketInfo> {
    validateBucketName(name);
    // Access to an external service's buckets is that service's own policy, not ours to change.
    return Promise.reject(
      new PlatformError(
        'VALIDATION_FAILED',
        `the visibility of bucket "${name}" is managed by its S3 service`,
      ),
    );
  }

  async copy(
    source: { bucket: string; key: string },
    target: { bucket: string; key: string },
    options: CopyOptions = {},
  ): Promise<ObjectInfo> {
    for (const { bucket, key } of [source, target]) {
      validateBucketName(bucket);
      validateObjectKey(key);
    }
    const replace = options.metadataDirective === 'replace';
    const conditions = options.sourceConditions ?? {};
    const answer = await this.call(() =>
      this.client.send(
        new this.sdk.CopyObjectCommand({
          Bucket: target.bucket,
          Key: target.key,
          CopySource: `${source.bucket}/${encodeURIComponent(source.key)}`,
          MetadataDirective: replace ? 'REPLACE' : 'COPY',
          ...(replace
            ? {
                ContentType: options.contentType || DEFAULT_CONTENT_TYPE,
                Metadata: normalizeMetadata(options.metadata),
              }
            : {}),
          CopySourceIfMatch: conditions.ifMatch,
          CopySourceIfNoneMatch: conditions.ifNoneMatch,
          CopySourceIfModifiedSince:
            conditions.ifModifiedSinceMs === undefined ? undefined : new Date(conditions.ifModifiedSinceMs),
          CopySourceIfUnmodifiedSince:
            conditions.ifUnmodifiedSinceMs === undefined
              ? undefined
              : new Date(conditions.ifUnmodifiedSinceMs),
        }),
      ),
    );
    const info = await this.head(target.bucket, target.key);
    if (answer.CopyObjectResult?.ETag !== undefined) info.etag = stripQuotes(answer.CopyObjectResult.ETag);
    this.report('ObjectCreated:Copy', info, options);
    return info;
  }

  async localPath(bucket: string, key: string): Promise<string | null> {
    validateBucketName(bucket);
    validateObjectKey(key);
    return Promise.resolve(null);
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }

  private async call<T>(
    request: () => Promise<T>,
    notFound?: 'BUCKET_NOT_FOUND' | 'OBJECT_NOT_FOUND',
  ): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw fromS3Error(error, notFound);
    }
  }

  private report(
    name: StorageEvent['name'],
    info: ObjectInfo,
    options: { principal?: string | undefined; sourceIp?: string | undefined },
  ): void {
    this.options.onEvent?.({
      name,
      bucket: info.bucket,
      key: info.key,
      size: info.size,
      etag: info.etag,
      contentType: info.contentType,
      timeMs: Date.now(),
      principal: options.principal ?? this.options.accessKeyId,
      sourceIp: options.sourceIp ?? '127.0.0.1',
    });
  }
}
