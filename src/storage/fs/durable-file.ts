/**
 * @module storage/fs/durable-file
 * Writing a body to a temporary file durably: streamed (memory does not grow with the body), hashed on the
 * way, checked against the expected size as it arrives, fsynced before anyone may rename it into place.
 */
import { createHash, randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, open, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { PlatformError } from '../../core/index.js';

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

// Chunks arrive from a socket in tens of KiB; they are written in batches of about this size (one writev
// each), so that a large body costs few system calls.
const WRITE_BATCH_BYTES = 1024 * 1024;
// While a large body arrives, what is written so far is flushed to the disk in the background every this
// many bytes, so that the final fsync (which the PUT waits for) has little left to write.
const BACKGROUND_SYNC_BYTES = 32 * 1024 * 1024;

export interface WriteDurableOptions {
  expectedSize?: number | undefined;
  /** Hash the bytes (MD5). @default true */
  md5?: boolean;
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
  const hash = options.md5 === false ? null : createHash('md5');
  let size = 0;
  const { expectedSize } = options;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let unsyncedBytes = 0;
  let backgroundSync: Promise<void> | null = null;
  const flush = async (): Promise<void> => {
    unsyncedBytes += batchBytes;
    let pending = batch;
    batch = [];
    batchBytes = 0;
    while (pending.length > 0) {
      let written = (await handle.writev(pending)).bytesWritten;
      // A short write: drop what went out and write the rest.
      while (pending.length > 0 && written >= (pending[0] as Buffer).length) {
        written -= (pending[0] as Buffer).length;
        pending = pending.slice(1);
      }
      if (written > 0) pending = [(pending[0] as Buffer).subarray(written), ...pending.slice(1)];
    }
    if (unsyncedBytes >= BACKGROUND_SYNC_BYTES && backgroundSync === null) {
      unsyncedBytes = 0;
      const started = handle.datasync();
      // A failure is seen when the final sync awaits it; until then it must not be unhandled.
      started.catch(() => undefined);
      backgroundSync = started.finally(() => {
        backgroundSync = null;
      });
    }
  };
  const append = async (chunk: Buffer): Promise<void> => {
    if (chunk.length === 0) return;
    size += chunk.length;
    // Fail as soon as a body is too long rather than after storing all of it.
    if (expectedSize !== undefined && size > expectedSize) throw sizeMismatch(expectedSize, size, false);
    hash?.update(chunk);
    batch.push(chunk);
    batchBytes += chunk.length;
    if (batchBytes >= WRITE_BATCH_BYTES) await flush();
  };
  try {
    if (Buffer.isBuffer(body)) {
      await append(body);
    } else {
      for await (const chunk of body as AsyncIterable<Buffer | string>) {
        await append(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      }
    }
    await flush();
    if (expectedSize !== undefined && size !== expectedSize) throw sizeMismatch(expectedSize, size, true);
    await (backgroundSync as Promise<void> | null);
    await Promise.all([handle.sync(), options.syncDirectory ? syncDirectory(dir) : undefined]);
    await handle.close();
  } catch (error) {
    await (backgroundSync as Promise<void> | null)?.catch(() => undefined);
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  } finally {
    if (!Buffer.isBuffer(body)) body.off('error', ignoreUntilRead);
  }
  return { path, size, md5: hash?.digest('hex') ?? '' };
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
