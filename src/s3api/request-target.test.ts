import { test } from 'node:test';
import assert from 'node:assert/strict';
import { awsEncode, percentDecodeBytes, utf8OrNull } from './percent-encoding.js';
import { parseRequestTarget } from './request-target.js';

test('SigV4 encoding keeps unreserved characters only (and "/" in key paths)', () => {
  assert.equal(awsEncode("a b+c~(1)!*'.txt"), 'a%20b%2Bc~%281%29%21%2A%27.txt');
  assert.equal(awsEncode('dir/é', true), 'dir/%C3%A9');
  assert.equal(awsEncode('dir/é'), 'dir%2F%C3%A9');
});

test('percent-decoding is strict and leaves "+" and dots alone', () => {
  assert.deepEqual(percentDecodeBytes('a+b%2e%2E'), Buffer.from('a+b..'));
  assert.equal(percentDecodeBytes('%zz'), null);
  assert.equal(percentDecodeBytes('%4'), null);
  assert.equal(utf8OrNull(Buffer.from([0xc0, 0xae])), null);
});

test('path-style targets keep dot segments and the raw path; virtual-hosted buckets come from Host', () => {
  const target = parseRequestTarget(
    '/bucket/a/../%2e%2e/k%2Fx?list-type=2&prefix=a%20b&acl',
    '127.0.0.1:9000',
    ['localhost'],
  );
  assert.equal(target.bucketBytes?.toString(), 'bucket');
  assert.equal(target.keyBytes?.toString(), 'a/../../k/x');
  assert.equal(target.rawPath, '/bucket/a/../%2e%2e/k%2Fx');
  assert.equal(target.canonicalPath, '/bucket/a/../../k%2Fx');
  assert.equal(target.params.get('prefix'), 'a b');
  assert.equal(target.params.get('acl'), '');
  assert.equal(target.virtualHosted, false);

  const root = parseRequestTarget('/', '127.0.0.1:9000', ['localhost']);
  assert.equal(root.bucketBytes, null);
  const bucketOnly = parseRequestTarget('/bucket/', 'x', []);
  assert.equal(bucketOnly.keyBytes, null);

  const hosted = parseRequestTarget('/dir/k.txt', 'data.localhost:9000', ['localhost']);
  assert.equal(hosted.bucketBytes?.toString(), 'data');
  assert.equal(hosted.keyBytes?.toString(), 'dir/k.txt');
  assert.equal(hosted.virtualHosted, true);
});
