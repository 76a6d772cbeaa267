/**
 * @module storage/byte-range
 * Validation of the inclusive byte ranges `get` accepts, shared by every store.
 */
import { PlatformError } from '../core/index.js';
import type { ByteRange } from './object-store.js';

/**
 * The range to serve from an object of `size` bytes: like S3, an end past the object is clamped to its last
 * byte; a start at or past the end of the object, a negative or fractional bound, or end < start is
 * INVALID_RANGE.
 */
export function resolveRange(range: ByteRange, size: number): ByteRange {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new PlatformError('INVALID_RANGE', `invalid byte range ${start}-${end}`, {
      details: { start, end, size },
    });
  }
  if (start >= size) {
    throw new PlatformError(
      'INVALID_RANGE',
      `byte range ${start}-${end} starts past the object's ${size} bytes`,
      {
        details: { start, end, size },
      },
    );
  }
  return { start, end: Math.min(end, size - 1) };
}
