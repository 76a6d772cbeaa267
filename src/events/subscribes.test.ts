import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribes } from './service-registry.js';

void test('event patterns: a wildcard covers its kind, a full name only itself', () => {
  assert.equal(subscribes(['s3:ObjectCreated:*'], 'ObjectCreated:Put'), true);
  assert.equal(subscribes(['s3:ObjectCreated:*'], 'ObjectCreated:CompleteMultipartUpload'), true);
  assert.equal(subscribes(['s3:ObjectCreated:*'], 'ObjectRemoved:Delete'), false);
  assert.equal(subscribes(['s3:ObjectRemoved:*'], 'ObjectRemoved:Delete'), true);
  assert.equal(subscribes(['s3:ObjectCreated:Copy'], 'ObjectCreated:Put'), false);
  assert.equal(
    subscribes(['s3:ObjectCreated:Copy', 's3:ObjectRemoved:Delete'], 'ObjectRemoved:Delete'),
    true,
  );
  assert.equal(subscribes([], 'ObjectCreated:Put'), false);
});
