/**
 * @module storage/fs/durable-file
 * Writing a body to a temporary file durably: streamed (memory does not grow with the body), hashed on the
 * way, checked against the expected size as it arrives, fsynced before anyone may rename it into place.
 */
import { createHash, randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { PlatformError } from '../../core/index.js';
import type { Md5Hasher, Md5Session } from './md5-hasher.js';

export interface WrittenFile {
  path: string;
  size: number;
  /** Hex MD5 of the bytes written ('' when not asked for). */
  md5: string;
}

function sizeMismatch(expected: number, actual: number, complete: boolean): PlatformError {
  return new PlatformError(
    'BAD_REQUEST',
    complete
      ? `the body has ${actual} bytes, ${expected} were announced`
      : `the body is longer than the ${expected} bytes announced`,
    { details: { mismatch: 'size', expected, actual } },
  );
}

// Chunks arrive from a socket in tens of KiB; they are written in batches of about this size (one pwritev
// each), so that a large body costs few system calls.
const WRITE_BATCH_BYTES = 1024 * 1024;
// Batches handed to the disk and not yet written, at most: the next batch is read (and hashed) while the
// last one is written, instead of the socket, the hash and the disk taking turns. Bounded to one batch, so
// that a disk slower than the network holds back the sender (TCP backpressure) instead of filling memory:
// with the hash's copy below, an upload holds about 3 MiB, whatever its size and however many run at once.
const MAX_WRITE_BYTES_IN_FLIGHT = WRITE_BATCH_BYTES;
// While a large body arrives, what is written so far is flushed to the disk in the background every this
// many bytes, so that the final fsync (which the PUT waits for) has little left to write.
const BACKGROUND_SYNC_BYTES = 32 * 1024 * 1024;
// Batches sent to the hashing thread and not yet hashed, at most (copies: this is memory per upload).
const MAX_HASH_BYTES_IN_FLIGHT = WRITE_BATCH_BYTES;

/** Writes all of `buffers` at `position` (positioned writes, so batches may be in flight together). */
async function writeAllAt(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    let written = (await handle.writev(pending, at)).bytesWritten;
    at += written;
    // A short write: drop what went out and write the rest.
    while (pending.length > 0 && written >= (pending[0] as Buffer).length) {
      written -= (pending[0] as Buffer).length;
      pending = pending.slice(1);
    }
    if (written > 0) pending = [(pending[0] as Buffer).subarray(written), ...pending.slice(1)];
  }
}

export interface WriteDurableOptions {
  expectedSize?: number | undefined;
  /** Hash the bytes (MD5). @default true */
  md5?: boolean;
  /** Where to hash them: a worker thread (the store's), or when absent on this thread. */
  hasher?: Md5Hasher;
  /** The new file's name in `dir`. @default a random UUID */
  name?: string;
  /**
   * Also make the file's directory entry durable (fsync of `dir`, overlapping the file's own fsync), for a
   * file written straight into its final directory.
   */
  syncDirectory?: boolean;
  /** Create `dir` when missing. */
  createDirectory?: boolean;
}

/**
 * Streams `body` into a new file of `dir` and fsyncs it. On any failure (the body's stream failing
 * included) the file is removed before the error is rethrown.
 */
export async function writeDurableFile(
  body: Readable | Buffer,
  dir: string,
  options: WriteDurableOptions = {},
): Promise<WrittenFile> {
  // A body that fails before it is read (while the file opens) must not become an unhandled 'error'
  // event: the failure is seen by the iteration below, which rethrows a stream's stored error.
  const ignoreUntilRead = (): void => undefined;
  if (!Buffer.isBuffer(body)) body.on('error', ignoreUntilRead);
  const path = join(dir, options.name ?? randomUUID());
  let handle;
  try {
    if (options.createDirectory) await mkdir(dir, { recursive: true });
    handle = await open(path, 'wx');
  } catch (error) {
    if (!Buffer.isBuffer(body)) body.destroy();
    throw error;
  }
  const offThread: Md5Session | null =
    options.md5 === false || options.hasher === undefined ? null : options.hasher.start();
  const hash = options.md5 === false || offThread !== null ? null : createHash('md5');
  const hashing: { done: Promise<void>; bytes: number }[] = [];
  let hashingBytes = 0;
  let size = 0;
  const { expectedSize } = options;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  // Writes under way, oldest first, and the first failure among them (seen by the next append or the end).
  const writes: { done: Promise<void>; bytes: number }[] = [];
  let writesBytes = 0;
  let writeFailure: Error | null = null;
  let unsyncedBytes = 0;
  let backgroundSync: Promise<void> | null = null;
  const startSync = (): void => {
    unsyncedBytes = 0;
    const started = handle.datasync();
    // A failure is seen when the final sync awaits it; until then it must not be unhandled.
    started.catch(() => undefined);
    backgroundSync = started.finally(() => {
      backgroundSync = null;
    });
  };
  const flush = (): void => {
    if (batchBytes === 0) return;
    const bytes = batchBytes;
    if (offThread !== null) {
      const done = offThread.update(batch, bytes);
      // Seen when awaited (below, or at the end); until then it must not be unhandled.
      done.catch(() => undefined);
      hashing.push({ done, bytes });
      hashingBytes += bytes;
    }
    const done = writeAllAt(handle, batch, size - batchBytes).then(
      () => {
        unsyncedBytes += bytes;
        if (unsyncedBytes >= BACKGROUND_SYNC_BYTES && backgroundSync === null) startSync();
      },
      (error: unknown) => {
        writeFailure ??= error instanceof Error ? error : new Error(String(error));
      },
    );
    writes.push({ done, bytes });
    writesBytes += bytes;
    batch = [];
    batchBytes = 0;
  };
  const settleOldest = async (): Promise<void> => {
    const oldest = writes.shift();
    if (oldest === undefined) return;
    await oldest.done;
    writesBytes -= oldest.bytes;
  };
  const append = async (chunk: Buffer): Promise<void> => {
    if (chunk.length === 0) return;
    if (writeFailure !== null) throw writeFailure;
    size += chunk.length;
    // Fail as soon as a body is too long rather than after storing all of it.
    if (expectedSize !== undefined && size > expectedSize) throw sizeMismatch(expectedSize, size, false);
    hash?.update(chunk);
    batch.push(chunk);
    batchBytes += chunk.length;
    if (batchBytes < WRITE_BATCH_BYTES) return;
    flush();
    while (writesBytes > MAX_WRITE_BYTES_IN_FLIGHT) await settleOldest();
    while (hashingBytes > MAX_HASH_BYTES_IN_FLIGHT) {
      const oldest = hashing.shift() as { done: Promise<void>; bytes: number };
      await oldest.done;
      hashingBytes -= oldest.bytes;
    }
  };
  let md5 = '';
  try {
    if (Buffer.isBuffer(body)) {
      await append(body);
    } else {
      for await (const chunk of body as AsyncIterable<Buffer | string>) {
        await append(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      }
    }
    flush();
    while (writes.length > 0) await settleOldest();
    // (Set by the writes' callbacks: the compiler cannot see that it may no longer be null.)
    const failed = writeFailure as Error | null;
    if (failed !== null) throw failed;
    await Promise.all(hashing.map((batch) => batch.done));
    if (expectedSize !== undefined && size !== expectedSize) throw sizeMismatch(expectedSize, size, true);
    await (backgroundSync as Promise<void> | null);
    await Promise.all([handle.sync(), options.syncDirectory ? syncDirectory(dir) : undefined]);
    await handle.close();
    if (offThread !== null) md5 = await offThread.digest();
  } catch (error) {
    offThread?.abort();
    // Nothing may still write into the file once it is removed.
    await Promise.all(writes.map((write) => write.done));
    await (backgroundSync as Promise<void> | null)?.catch(() => undefined);
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  } finally {
    if (!Buffer.isBuffer(body)) body.off('error', ignoreUntilRead);
  }
  return { path, size, md5: hash?.digest('hex') ?? md5 };
}

/** Makes a directory's entries (a rename into it, a new subdirectory) durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Gives `target` the bytes of `source`: a hard link where the filesystem allows one (instant, no space),
 * otherwise a copy (a reflink where supported), fsynced.
 */
export async function linkOrCopy(source: string, target: string): Promise<void> {
  try {
    await link(source, target);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw error;
  }
  await copyFile(source, target, constants.COPYFILE_FICLONE);
  const handle = await open(target, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
