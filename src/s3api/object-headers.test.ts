import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformError } from '../core/index.js';
import { parseRangeHeader, preconditionStatus, resolveRangeSpec } from './object-headers.js';
import { toS3Error } from './s3-errors.js';

test('Range headers: a-b, a-, -n; anything else is ignored; unsatisfiable ranges resolve to null', () => {
  assert.deepEqual(parseRangeHeader('bytes=0-9'), { start: 0, end: 9 });
  assert.deepEqual(parseRangeHeader('bytes=5-'), { start: 5, end: null });
  assert.deepEqual(parseRangeHeader('bytes=-3'), { suffix: 3 });
  for (const ignored of ['bytes=0-1,4-5', 'items=0-1', 'bytes=-', 'bytes=5-2', undefined]) {
    assert.equal(parseRangeHeader(ignored), null, String(ignored));
  }
  assert.deepEqual(resolveRangeSpec({ start: 5, end: null }, 10), { start: 5, end: 9 });
  assert.deepEqual(resolveRangeSpec({ suffix: 30 }, 10), { start: 0, end: 9 });
  assert.deepEqual(resolveRangeSpec({ start: 2, end: 99 }, 10), { start: 2, end: 9 });
  assert.equal(resolveRangeSpec({ start: 10, end: null }, 10), null);
  assert.equal(resolveRangeSpec({ suffix: 0 }, 10), null);
  assert.equal(resolveRangeSpec({ suffix: 1 }, 0), null);
});

test('conditional requests: If-Match / If-None-Match win over the date headers', () => {
  const info = {
    bucket: 'b',
    key: 'k',
    size: 1,
    etag: 'abc',
    contentType: 'x',
    lastModifiedMs: Date.UTC(2026, 0, 1),
    metadata: {},
  };
  assert.equal(preconditionStatus({ 'if-none-match': '"abc"' }, info), 304);
  assert.equal(
    preconditionStatus(
      { 'if-none-match': '"other"', 'if-modified-since': new Date(Date.UTC(2027, 0, 1)).toUTCString() },
      info,
    ),
    null,
  );
  assert.equal(preconditionStatus({ 'if-match': '"other"' }, info), 412);
  assert.equal(preconditionStatus({ 'if-match': '*' }, info), null);
  assert.equal(
    preconditionStatus({ 'if-unmodified-since': new Date(Date.UTC(2025, 0, 1)).toUTCString() }, info),
    412,
  );
  assert.equal(
    preconditionStatus({ 'if-modified-since': new Date(Date.UTC(2026, 0, 1)).toUTCString() }, info),
    304,
  );
});

test('platform errors map to S3 codes and statuses; internal details never leak', () => {
  const cases: Array<[PlatformError, string, number]> = [
    [new PlatformError('OBJECT_NOT_FOUND', 'x'), 'NoSuchKey', 404],
    [new PlatformError('BUCKET_EXISTS', 'x'), 'BucketAlreadyOwnedByYou', 409],
    [new PlatformError('INVALID_KEY', 'x'), 'InvalidArgument', 400],
    [new PlatformError('BAD_REQUEST', 'x', { details: { mismatch: 'md5' } }), 'BadDigest', 400],
    [new PlatformError('BAD_REQUEST', 'x', { details: { mismatch: 'size' } }), 'IncompleteBody', 400],
    [new PlatformError('STORAGE_FULL', 'x'), 'XNubesStorageFull', 507],
    [new PlatformError('STORAGE_READ_ONLY', 'x'), 'ServiceUnavailable', 503],
  ];
  for (const [error, code, status] of cases)
    assert.deepEqual([toS3Error(error).code, toS3Error(error).status], [code, status]);
  const internal = toS3Error(new PlatformError('INTERNAL', 'SQLITE_CORRUPT at /secret/path'));
  assert.equal(internal.code, 'InternalError');
  assert.doesNotMatch(internal.message, /secret/);
  assert.equal(toS3Error(new TypeError('boom')).status, 500);
});
