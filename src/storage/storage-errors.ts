/**
 * @module storage/storage-errors
 * Error helpers shared by the stores.
 */
import { PlatformError, toPlatformError } from '../core/index.js';

/** Like core's toPlatformError, and also maps SQLite's full and read-only failures to storage codes. */
export function toStorageError(error: unknown): PlatformError {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (!(error instanceof PlatformError) && typeof code === 'string') {
    if (code === 'SQLITE_FULL') {
      return new PlatformError('STORAGE_FULL', 'no space left for the metadata database', { cause: error });
    }
    if (code.startsWith('SQLITE_READONLY')) {
      return new PlatformError('STORAGE_READ_ONLY', 'the metadata database is read-only', { cause: error });
    }
  }
  return toPlatformError(error);
}

export function bucketNotFound(bucket: string): PlatformError {
  return new PlatformError('BUCKET_NOT_FOUND', `bucket "${bucket}" does not exist`, { details: { bucket } });
}

export function objectNotFound(bucket: string, key: string): PlatformError {
  return new PlatformError('OBJECT_NOT_FOUND', `object "${key}" does not exist in bucket "${bucket}"`, {
    details: { bucket, key },
  });
}

export function md5Mismatch(expected: string, actual: string): PlatformError {
  return new PlatformError('BAD_REQUEST', 'the body does not match the MD5 digest given for it', {
    details: { mismatch: 'md5', expected, actual },
  });
}

/** User metadata with lower-case names, as S3 returns it. */
export function normalizeMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) out[name.toLowerCase()] = String(value);
  return out;
}

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
