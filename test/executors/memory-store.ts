/**
 * @module test/executors/memory-store
 * A small in-memory ObjectStore for executor and supervisor tests, faithful to the interface's documented
 * behaviour (error codes, ranges, listing with delimiters, events). With `filesDir`, objects are also kept
 * as files and `localPath` returns them, as the embedded filesystem store does; without it, `localPath` is
 * null, as for a remote S3 store.
 */
import { createHash } from 'node:crypto';
import { writeFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PlatformError } from '../../src/core/index.js';
import type {
  BucketInfo,
  BucketVisibility,
  CopyOptions,
  ByteRange,
  GetResult,
  ListOptions,
  ListResult,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  StorageEvent,
  StorageEventHook,
} from '../../src/storage/object-store.js';

interface StoredObject {
  info: ObjectInfo;
  data: Buffer;
}

export interface MemoryStoreOptions {
  /** Keep objects as files here too, and answer localPath with them. */
  filesDir?: string;
  onEvent?: StorageEventHook;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export class MemoryObjectStore implements ObjectStore {
  private readonly buckets = new Map<string, { info: BucketInfo; objects: Map<string, StoredObject> }>();
  private fileCounter = 0;
  private readonly localFiles = new Map<string, string>();
  /** Every event reported, in order (for assertions). */
  readonly events: StorageEvent[] = [];

  constructor(private readonly options: MemoryStoreOptions = {}) {}

  createBucket(
    name: string,
    options: { owner?: string; visibility?: BucketVisibility; allowedUsers?: string[] } = {},
  ): Promise<BucketInfo> {
    if (!BUCKET_NAME.test(name)) return reject('INVALID_BUCKET_NAME', `invalid bucket name "${name}"`);
    if (this.buckets.has(name)) return reject('BUCKET_EXISTS', `bucket "${name}" exists`);
    const info: BucketInfo = {
      name,
      createdMs: Date.now(),
      owner: options.owner ?? 'test',
      visibility: options.visibility ?? 'private',
      allowedUsers: options.allowedUsers ?? [],
    };
    this.buckets.set(name, { info, objects: new Map() });
    return Promise.resolve(info);
  }

  async ensureBucket(name: string): Promise<void> {
    if (!this.buckets.has(name)) await this.createBucket(name);
  }

  headBucket(name: string): Promise<BucketInfo> {
    return attempt(() => this.bucket(name).info);
  }

  listBuckets(): Promise<BucketInfo[]> {
    return Promise.resolve(
      [...this.buckets.values()].map((b) => b.info).sort((a, b) => a.name.localeCompare(b.name)),
    );
  }

  deleteBucket(name: string): Promise<void> {
    return attempt(() => {
      const bucket = this.bucket(name);
      if (bucket.objects.size > 0)
        throw new PlatformError('BUCKET_NOT_EMPTY', `bucket "${name}" is not empty`);
      this.buckets.delete(name);
    });
  }

  async put(
    bucket: string,
    key: string,
    body: Readable | Buffer,
    options: PutOptions = {},
  ): Promise<ObjectInfo> {
    const target = this.bucket(bucket);
    checkKey(key);
    const data = Buffer.isBuffer(body) ? body : await collect(body);
    const etag = createHash('md5').update(data).digest('hex');
    if (options.expectedMd5 !== undefined && options.expectedMd5 !== etag) {
      throw new PlatformError('BAD_REQUEST', 'Content-MD5 does not match the body');
    }
    if (options.expectedSize !== undefined && options.expectedSize !== data.length) {
      throw new PlatformError('BAD_REQUEST', 'Content-Length does not match the body');
    }
    const info: ObjectInfo = {
      bucket,
      key,
      size: data.length,
      etag,
      contentType: options.contentType ?? 'application/octet-stream',
      lastModifiedMs: Date.now(),
      metadata: { ...options.metadata },
    };
    if (this.options.filesDir !== undefined) {
      await mkdir(this.options.filesDir, { recursive: true });
      const file = join(this.options.filesDir, `object-${++this.fileCounter}`);
      await writeFile(file, data);
      this.localFiles.set(`${bucket}/${key}`, file);
    }
    target.objects.set(key, { info, data });
    this.report({
      name: options.eventName ?? 'ObjectCreated:Put',
      bucket,
      key,
      size: data.length,
      etag,
      contentType: info.contentType,
      timeMs: info.lastModifiedMs,
      principal: options.principal ?? 'test',
      sourceIp: options.sourceIp ?? '127.0.0.1',
    });
    return info;
  }

  get(bucket: string, key: string, range?: ByteRange): Promise<GetResult> {
    return attempt(() => this.getNow(bucket, key, range));
  }

  private getNow(bucket: string, key: string, range?: ByteRange): GetResult {
    const object = this.object(bucket, key);
    if (range === undefined) return { info: object.info, body: Readable.from([object.data]), range: null };
    if (range.start < 0 || range.start > range.end || range.start >= object.data.length) {
      throw new PlatformError('INVALID_RANGE', 'range not satisfiable');
    }
    const end = Math.min(range.end, object.data.length - 1);
    return {
      info: object.info,
      body: Readable.from([object.data.subarray(range.start, end + 1)]),
      range: { start: range.start, end },
    };
  }

  head(bucket: string, key: string): Promise<ObjectInfo> {
    return attempt(() => this.object(bucket, key).info);
  }

  list(bucket: string, options: ListOptions = {}): Promise<ListResult> {
    return attempt(() => this.listNow(bucket, options));
  }

  private listNow(bucket: string, options: ListOptions): ListResult {
    const prefix = options.prefix ?? '';
    const maxKeys = options.maxKeys ?? 1000;
    const keys = [...this.bucket(bucket).objects.keys()]
      .filter(
        (key) => key.startsWith(prefix) && (options.startAfter === undefined || key > options.startAfter),
      )
      .sort();
    const objects: ObjectInfo[] = [];
    const commonPrefixes: string[] = [];
    let last: string | null = null;
    let isTruncated = false;
    for (const key of keys) {
      let entry: string = key;
      let common = false;
      if (options.delimiter) {
        const at = key.indexOf(options.delimiter, prefix.length);
        if (at >= 0) {
          entry = key.slice(0, at + options.delimiter.length);
          common = true;
        }
      }
      if (common && commonPrefixes.includes(entry)) continue;
      if (objects.length + commonPrefixes.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      if (common) commonPrefixes.push(entry);
      else objects.push(this.object(bucket, key).info);
      last = entry;
    }
    return { objects, commonPrefixes, isTruncated, nextStartAfter: isTruncated ? last : null };
  }

  async delete(
    bucket: string,
    key: string,
    options: { principal?: string; sourceIp?: string } = {},
  ): Promise<void> {
    const target = this.bucket(bucket);
    const object = target.objects.get(key);
    if (object === undefined) return;
    target.objects.delete(key);
    const file = this.localFiles.get(`${bucket}/${key}`);
    if (file !== undefined) await rm(file, { force: true });
    this.localFiles.delete(`${bucket}/${key}`);
    this.report({
      name: 'ObjectRemoved:Delete',
      bucket,
      key,
      size: 0,
      etag: '',
      contentType: '',
      timeMs: Date.now(),
      principal: options.principal ?? 'test',
      sourceIp: options.sourceIp ?? '127.0.0.1',
    });
  }

  updateBucket(
    name: string,
    changes: { visibility: BucketVisibility; allowedUsers?: string[] },
  ): Promise<BucketInfo> {
    return attempt(() => {
      const bucket = this.bucket(name);
      bucket.info = {
        ...bucket.info,
        visibility: changes.visibility,
        allowedUsers: changes.allowedUsers ?? [],
      };
      return bucket.info;
    });
  }

  async copy(
    source: { bucket: string; key: string },
    target: { bucket: string; key: string },
    options: CopyOptions = {},
  ): Promise<ObjectInfo> {
    const from = this.object(source.bucket, source.key);
    const replace = options.metadataDirective === 'replace';
    return this.put(target.bucket, target.key, from.data, {
      contentType: replace ? options.contentType : from.info.contentType,
      metadata: replace ? options.metadata : from.info.metadata,
      principal: options.principal,
      sourceIp: options.sourceIp,
      eventName: 'ObjectCreated:Copy',
    });
  }

  localPath(bucket: string, key: string): Promise<string | null> {
    return attempt(() => {
      this.object(bucket, key);
      return this.localFiles.get(`${bucket}/${key}`) ?? null;
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Test helper: the bytes of an object, or undefined. */
  bytes(bucket: string, key: string): Buffer | undefined {
    return this.buckets.get(bucket)?.objects.get(key)?.data;
  }

  /** Test helper: every key of a bucket, sorted. */
  keys(bucket: string): string[] {
    return [...(this.buckets.get(bucket)?.objects.keys() ?? [])].sort();
  }

  private report(event: StorageEvent): void {
    this.events.push(event);
    this.options.onEvent?.(event);
  }

  private bucket(name: string): { info: BucketInfo; objects: Map<string, StoredObject> } {
    const bucket = this.buckets.get(name);
    if (bucket === undefined) throw new PlatformError('BUCKET_NOT_FOUND', `no bucket "${name}"`);
    return bucket;
  }

  private object(bucket: string, key: string): StoredObject {
    const object = this.bucket(bucket).objects.get(key);
    if (object === undefined) throw new PlatformError('OBJECT_NOT_FOUND', `no object "${bucket}/${key}"`);
    return object;
  }
}

/** Runs `fn` now and turns what it returns or throws into a promise, as an async store would answer. */
function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function checkKey(key: string): void {
  if (key === '' || Buffer.byteLength(key) > 1024)
    throw new PlatformError('INVALID_KEY', `invalid key "${key}"`);
}

function reject(code: 'INVALID_BUCKET_NAME' | 'BUCKET_EXISTS', message: string): Promise<never> {
  return Promise.reject(new PlatformError(code, message));
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}
