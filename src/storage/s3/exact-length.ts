/**
 * @module storage/s3/exact-length
 * A body announced with a Content-Length must have exactly that many bytes: a short stream would leave the
 * HTTP request waiting for bytes that never come, a long one would be cut silently.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { PlatformError } from '../../core/index.js';

/** A pass-through that fails (BAD_REQUEST, details.mismatch = 'size') unless exactly `expected` bytes pass. */
export function exactLength(expected: number): Transform {
  let seen = 0;
  const mismatch = (): PlatformError =>
    new PlatformError('BAD_REQUEST', `the body has ${seen} bytes, ${expected} were announced`, {
      details: { mismatch: 'size', expected, actual: seen },
    });
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      callback(seen > expected ? mismatch() : null, chunk);
    },
    flush(callback: TransformCallback) {
      callback(seen === expected ? null : mismatch());
    },
  });
}
