import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformError } from '../core/index.js';
import { validateBucketName } from './bucket-name.js';

test('S3 bucket names are accepted', () => {
  for (const name of ['abc', 'my-bucket', 'my.bucket.2', 'a'.repeat(63), '1bucket']) validateBucketName(name);
});

test('names breaking S3 rules are INVALID_BUCKET_NAME', () => {
  for (const name of [
    'ab',
    'a'.repeat(64),
    'My-Bucket',
    '-abc',
    'abc-',
    'a..b',
    'a.-b',
    'a_b',
    '192.168.1.1',
    '.tmp',
    'xn--abc',
    'a b',
    'abc-s3alias',
  ]) {
    assert.throws(
      () => validateBucketName(name),
      (error: unknown) => error instanceof PlatformError && error.code === 'INVALID_BUCKET_NAME',
      name,
    );
  }
});
