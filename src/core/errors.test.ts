import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformError, toPlatformError, ERROR_CODES } from './errors.js';

test('PlatformError carries its code, status and retryability as data', () => {
  const error = new PlatformError('BUCKET_NOT_FOUND', 'no bucket "x"');
  assert.equal(error.status, 404);
  assert.deepEqual(error.toData(), { code: 'BUCKET_NOT_FOUND', message: 'no bucket "x"', retryable: false });
  const back = PlatformError.fromData(error.toData());
  assert.equal(back.code, 'BUCKET_NOT_FOUND');
});

test('toPlatformError maps a full disk and a read-only disk to their codes', () => {
  const enospc = Object.assign(new Error('write failed'), { code: 'ENOSPC' });
  assert.equal(toPlatformError(enospc).code, 'STORAGE_FULL');
  const erofs = Object.assign(new Error('write failed'), { code: 'EROFS' });
  assert.equal(toPlatformError(erofs).code, 'STORAGE_READ_ONLY');
  assert.equal(toPlatformError(new Error('boom')).code, 'INTERNAL');
  for (const entry of Object.values(ERROR_CODES)) assert.ok(entry.status >= 400 && entry.status < 600);
});
