/**
 * @module storage/fs/fs-object-store
 * The embedded object store: object bytes in files under `rootDir/<bucket>/<uuid>`, their metadata in the
 * platform's SQLite database. A PUT is durable before it resolves: file written under a fresh name in its
 * bucket's folder, file and folder fsynced, then ONE transaction records the row and runs the event hook (which enqueues the jobs
 * the upload triggers), so an acknowledged object and its jobs are never lost, and an object whose jobs
 * could not be recorded is not kept either.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { PlatformError, systemClock, type Clock } from '../../core/index.js';
import type { Db } from '../../state/index.js';
import { validateBucketName } from '../bucket-name.js';
import { resolveRange } from '../byte-range.js';
import { listKeys } from '../list-keys.js';
import { validateObjectKey } from '../object-key.js';
import type {
  BucketInfo,
  BucketVisibility,
  ByteRange,
  CopyOptions,
  ObjectConditions,
  GetResult,
  ListOptions,
  ListResult,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  StorageEvent,
  StorageEventHook,
} from '../object-store.js';
import {
  bucketNotFound,
  DEFAULT_CONTENT_TYPE,
  md5Mismatch,
  normalizeMetadata,
  objectNotFound,
  toStorageError,
} from '../storage-errors.js';
import { checkConditions } from '../conditions.js';
import { linkOrCopy, syncDirectory, writeDurableFile } from './durable-file.js';
import { Md5Hasher } from './md5-hasher.js';
import { collectOrphans, TMP_DIR_NAME, type OrphanReport } from './orphan-collector.js';
import { ObjectTable, type StoredObject } from './object-table.js';

export interface FsObjectStoreOptions {
  /** The platform database (tables `buckets` and `objects`); the store does not close it. */
  db: Db;
  /** Where object files live; created when missing. */
  rootDir: string;
  /** Called inside the metadata transaction of every mutation; throwing undoes the mutation. */
  onEvent?: StorageEventHook;
  /** @default systemClock */
  clock?: Clock;
}

/** Who a mutation is attributed to when the caller names nobody: the platform itself, on this machine. */
const DEFAULT_PRINCIPAL = 'nubes';
const DEFAULT_SOURCE_IP = '127.0.0.1';
// A concurrent PUT may replace (and unlink) the file between reading its row and opening it.
const OPEN_ATTEMPTS = 3;
const READ_CHUNK_BYTES = 1024 * 1024;

function publicInfo(object: StoredObject): ObjectInfo {
  const { file: _file, ...info } = object;
  return info;
}

/** Runs synchronous work (SQLite is synchronous) as a promise, so that failures are rejections too. */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Opens the embedded store on `rootDir`, removing what a crash may have left (see orphan-collector). */
export function createFsObjectStore(options: FsObjectStoreOptions): Promise<FsObjectStore> {
  return settle(() => new FsObjectStore(options));
}

/** The embedded, filesystem-backed ObjectStore. */
export class FsObjectStore implements ObjectStore {
  /** What the crash recovery at open removed. */
  readonly recovery: OrphanReport;
  private readonly db: Db;
  private readonly table: ObjectTable;
  private readonly rootDir: string;
  private readonly tmpDir: string;
  private readonly onEvent: StorageEventHook | undefined;
  private readonly clock: Clock;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;
  /** MD5s of PUT bodies (their ETags) on a worker thread, beside the socket and the disk. */
  private readonly hasher = new Md5Hasher();

  constructor(options: FsObjectStoreOptions) {
    this.db = options.db;
    this.table = new ObjectTable(options.db);
    this.rootDir = resolve(options.rootDir);
    this.tmpDir = join(this.rootDir, TMP_DIR_NAME);
    this.onEvent = options.onEvent;
    this.clock = options.clock ?? systemClock;
    try {
      mkdirSync(this.tmpDir, { recursive: true });
      this.recovery = collectOrphans(this.table, this.rootDir);
    } catch (error) {
      throw toStorageError(error);
    }
  }

  async createBucket(
    name: string,
    options: { owner?: string; visibility?: BucketVisibility; allowedUsers?: string[] } = {},
  ): Promise<BucketInfo> {
    this.assertOpen();
    validateBucketName(name);
    const bucket: BucketInfo = {
      name,
      owner: options.owner ?? 'admin',
      visibility: options.visibility ?? 'private',
      allowedUsers: options.visibility === 'restricted' ? [...(options.allowedUsers ?? [])] : [],
      createdMs: this.clock.now(),
    };
    try {
      await mkdir(this.bucketDir(name), { recursive: true });
      await syncDirectory(this.rootDir);
      if (!this.table.insertBucket(bucket)) {
        throw new PlatformError('BUCKET_EXISTS', `bucket "${name}" already exists`, {
          details: { bucket: name },
        });
      }
    } catch (error) {
      throw toStorageError(error);
    }
    return bucket;
  }

  async ensureBucket(name: string): Promise<void> {
    validateBucketName(name);
    if (this.table.bucket(name) !== null) return;
    try {
      await this.createBucket(name);
    } catch (error) {
      if (!(error instanceof PlatformError && error.code === 'BUCKET_EXISTS')) throw error;
    }
  }

  headBucket(name: string): Promise<BucketInfo> {
    return settle(() => {
      validateBucketName(name);
      const bucket = this.table.bucket(name);
      if (bucket === null) throw bucketNotFound(name);
      return bucket;
    });
  }

  listBuckets(): Promise<BucketInfo[]> {
    return settle(() => this.table.buckets());
  }

  async deleteBucket(name: string): Promise<void> {
    this.assertOpen();
    validateBucketName(name);
    try {
      this.db.transaction(() => {
        if (this.table.bucket(name) === null) throw bucketNotFound(name);
        if (this.table.hasObjects(name)) {
          throw new PlatformError('BUCKET_NOT_EMPTY', `bucket "${name}" is not empty`, {
            details: { bucket: name },
          });
        }
        this.table.deleteBucket(name);
      })();
      // Anything left in the folder belongs to an upload that will now fail its bucket check.
      await rm(this.bucketDir(name), { recursive: true, force: true });
    } catch (error) {
      throw toStorageError(error);
    }
  }

  updateBucket(
    name: string,
    changes: { visibility: BucketVisibility; allowedUsers?: string[] },
  ): Promise<BucketInfo> {
    return settle(() => {
      this.assertOpen();
      validateBucketName(name);
      const allowedUsers = changes.visibility === 'restricted' ? [...(changes.allowedUsers ?? [])] : [];
      if (!this.table.updateBucket(name, changes.visibility, allowedUsers)) throw bucketNotFound(name);
      return (
        this.table.bucket(name) ??
        (() => {
          throw bucketNotFound(name);
        })()
      );
    });
  }

  put(bucket: string, key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<ObjectInfo> {
    return this.track(this.putObject(bucket, key, body, options));
  }

  private async putObject(
    bucket: string,
    key: string,
    body: Readable | Buffer,
    options: PutOptions,
  ): Promise<ObjectInfo> {
    this.assertOpen();
    validateBucketName(bucket);
    validateObjectKey(key);
    // Before reading a byte of the body (and again when committing, against a concurrent write).
    if (this.table.bucket(bucket) === null) throw bucketNotFound(bucket);
    checkConditions(options.conditions, this.table.object(bucket, key), { bucket, key });

    const dir = this.bucketDir(bucket);
    const file = randomUUID();
    let md5: string;
    let size: number;
    try {
      // Written straight into the bucket's folder under a name no row refers to yet: until the commit
      // below it is an orphan, which crash recovery removes. One fsync of the file and one of the folder
      // (overlapping), no rename.
      const written = await writeDurableFile(body, dir, {
        name: file,
        createDirectory: true,
        syncDirectory: true,
        expectedSize: options.expectedSize,
        md5: options.etag === undefined || options.expectedMd5 !== undefined,
        hasher: this.hasher,
      });
      ({ md5, size } = written);
      if (options.expectedMd5 !== undefined && options.expectedMd5.toLowerCase() !== md5) {
        await rm(written.path, { force: true });
        throw md5Mismatch(options.expectedMd5, md5);
      }
    } catch (error) {
      throw toStorageError(error);
    }

    const object: StoredObject = {
      bucket,
      key,
      file,
      size,
      etag: options.etag ?? md5,
      contentType: options.contentType || DEFAULT_CONTENT_TYPE,
      lastModifiedMs: this.clock.now(),
      metadata: normalizeMetadata(options.metadata),
      contentHeaders: { ...options.contentHeaders },
    };
    return this.commit(object, options.eventName ?? 'ObjectCreated:Put', options);
  }

  /**
   * Records an object whose file is already in place, in one transaction with its event, then unlinks the
   * file it replaced. On failure the new file is removed.
   */
  private async commit(
    object: StoredObject,
    eventName: StorageEvent['name'],
    options: { conditions?: ObjectConditions; principal?: string; sourceIp?: string },
  ): Promise<ObjectInfo> {
    const { bucket, key } = object;
    let replaced: string | null = null;
    try {
      this.db.transaction(() => {
        if (this.table.bucket(bucket) === null) throw bucketNotFound(bucket);
        const current = this.table.object(bucket, key);
        checkConditions(options.conditions, current, { bucket, key });
        replaced = current?.file ?? null;
        this.table.upsertObject(object);
        this.onEvent?.(this.event(eventName, object, object.lastModifiedMs, options));
      })();
    } catch (error) {
      await rm(join(this.bucketDir(bucket), object.file), { force: true }).catch(() => undefined);
      throw toStorageError(error);
    }
    // The write has succeeded: a failure to unlink leaves an orphan that the next open collects.
    if (replaced !== null)
      await rm(join(this.bucketDir(bucket), replaced), { force: true }).catch(() => undefined);
    return publicInfo(object);
  }

  copy(
    source: { bucket: string; key: string },
    target: { bucket: string; key: string },
    options: CopyOptions = {},
  ): Promise<ObjectInfo> {
    return this.track(this.copyObject(source, target, options));
  }

  private async copyObject(
    source: { bucket: string; key: string },
    target: { bucket: string; key: string },
    options: CopyOptions,
  ): Promise<ObjectInfo> {
    this.assertOpen();
    for (const { bucket, key } of [source, target]) {
      validateBucketName(bucket);
      validateObjectKey(key);
    }
    if (this.table.bucket(target.bucket) === null) throw bucketNotFound(target.bucket);
    const file = randomUUID();
    const targetDir = this.bucketDir(target.bucket);
    for (let attempt = 1; ; attempt++) {
      const from = this.lookup(source.bucket, source.key);
      checkConditions(options.sourceConditions, from, source);
      try {
        await mkdir(targetDir, { recursive: true });
        // Data files are never modified in place, so the copy can share the source's bytes.
        await linkOrCopy(join(this.bucketDir(source.bucket), from.file), join(targetDir, file));
        await syncDirectory(targetDir);
      } catch (error) {
        // The source was replaced (and its file unlinked) since it was looked up: look again.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && attempt < OPEN_ATTEMPTS) continue;
        throw toStorageError(error);
      }
      const replace = options.metadataDirective === 'replace';
      const object: StoredObject = {
        ...target,
        file,
        size: from.size,
        etag: from.etag,
        contentType: replace ? options.contentType || DEFAULT_CONTENT_TYPE : from.contentType,
        metadata: replace ? normalizeMetadata(options.metadata) : from.metadata,
        contentHeaders: replace ? { ...options.contentHeaders } : from.contentHeaders,
        lastModifiedMs: this.clock.now(),
      };
      return this.commit(object, 'ObjectCreated:Copy', options);
    }
  }

  async get(bucket: string, key: string, range?: ByteRange): Promise<GetResult> {
    this.assertOpen();
    validateBucketName(bucket);
    validateObjectKey(key);
    for (let attempt = 1; ; attempt++) {
      const object = this.lookup(bucket, key);
      const served = range === undefined ? null : resolveRange(range, object.size);
      let handle: FileHandle;
      try {
        // Opened now, so that a PUT replacing the object later cannot take the bytes from under the reader.
        handle = await open(join(this.bucketDir(bucket), object.file), 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && attempt < OPEN_ATTEMPTS) continue;
        throw toStorageError(error);
      }
      // Large reads: fewer system calls and socket writes per object.
      const body = handle.createReadStream({
        highWaterMark: READ_CHUNK_BYTES,
        ...(served === null ? {} : { start: served.start, end: served.end }),
      });
      return {
        info: publicInfo(object),
        body,
        range: served,
        readAt: async (buffer, length, position) =>
          (await handle.read(buffer, 0, length, position)).bytesRead,
      };
    }
  }

  head(bucket: string, key: string): Promise<ObjectInfo> {
    return settle(() => {
      validateBucketName(bucket);
      validateObjectKey(key);
      return publicInfo(this.lookup(bucket, key));
    });
  }

  list(bucket: string, options: ListOptions = {}): Promise<ListResult> {
    return settle(() => {
      validateBucketName(bucket);
      if (this.table.bucket(bucket) === null) throw bucketNotFound(bucket);
      const listing = listKeys((bound, limit) => this.table.scan(bucket, bound, limit), options);
      return {
        objects: listing.entries.map(publicInfo),
        commonPrefixes: listing.commonPrefixes,
        isTruncated: listing.isTruncated,
        nextStartAfter: listing.nextStartAfter,
      };
    });
  }

  delete(
    bucket: string,
    key: string,
    options: { principal?: string; sourceIp?: string } = {},
  ): Promise<void> {
    return this.track(this.deleteObject(bucket, key, options));
  }

  private async deleteObject(
    bucket: string,
    key: string,
    options: { principal?: string; sourceIp?: string },
  ) {
    this.assertOpen();
    validateBucketName(bucket);
    validateObjectKey(key);
    let removed: string | null = null;
    try {
      this.db.transaction(() => {
        if (this.table.bucket(bucket) === null) throw bucketNotFound(bucket);
        const object = this.table.object(bucket, key);
        if (object === null) return;
        this.table.deleteObject(bucket, key);
        this.onEvent?.(this.event('ObjectRemoved:Delete', object, this.clock.now(), options));
        removed = object.file;
      })();
    } catch (error) {
      throw toStorageError(error);
    }
    if (removed !== null)
      await rm(join(this.bucketDir(bucket), removed), { force: true }).catch(() => undefined);
  }

  localPath(bucket: string, key: string): Promise<string | null> {
    return settle(() => {
      validateBucketName(bucket);
      validateObjectKey(key);
      return join(this.bucketDir(bucket), this.lookup(bucket, key).file);
    });
  }

  /** Waits for the writes under way; the database stays open (its owner closes it). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    await this.hasher.close();
  }

  private lookup(bucket: string, key: string): StoredObject {
    const object = this.table.object(bucket, key);
    if (object !== null) return object;
    if (this.table.bucket(bucket) === null) throw bucketNotFound(bucket);
    throw objectNotFound(bucket, key);
  }

  private event(
    name: StorageEvent['name'],
    object: StoredObject,
    timeMs: number,
    options: { principal?: string; sourceIp?: string },
  ): StorageEvent {
    return {
      name,
      bucket: object.bucket,
      key: object.key,
      size: object.size,
      etag: object.etag,
      contentType: object.contentType,
      timeMs,
      principal: options.principal ?? DEFAULT_PRINCIPAL,
      sourceIp: options.sourceIp ?? DEFAULT_SOURCE_IP,
    };
  }

  private bucketDir(bucket: string): string {
    return join(this.rootDir, bucket);
  }

  private assertOpen(): void {
    if (this.closed) throw new PlatformError('UNAVAILABLE', 'the object store is closed');
  }

  private track<T>(operation: Promise<T>): Promise<T> {
    this.inFlight.add(operation);
    const forget = (): void => {
      this.inFlight.delete(operation);
    };
    operation.then(forget, forget);
    return operation;
  }
}
