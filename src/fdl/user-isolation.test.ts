import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toServiceSpec } from './resolve-service.js';
import { validateServiceJson } from './service-json.js';
import {
  specForInput,
  triggeringInputs,
  userBucketName,
  userBuckets,
  userOfBucket,
} from './user-isolation.js';

const json = validateServiceJson({
  name: 'svc',
  image: 'i',
  script: 's',
  isolation_level: 'user',
  allowed_users: ['0123456789abcdef@egi.eu', 'Ana'],
  input: [{ storage_provider: 'minio.default', path: 'data/in' }],
  output: [
    { storage_provider: 'minio.default', path: 'data/out' },
    { storage_provider: 's3.aws', path: 'elsewhere/out' },
  ],
});
const service = { spec: toServiceSpec(json), json };

void test("user buckets are OSCAR's <bucket>-<user[:10]>, made valid bucket names", () => {
  assert.equal(userBucketName('data', '0123456789abcdef@egi.eu'), 'data-0123456789');
  assert.equal(userBucketName('data', 'Ana'), 'data-ana');
  assert.equal(userBucketName('data', 'a_b@c'), 'data-a-b-c');
  assert.equal(userBucketName('data', '..x'), 'data-x');
  assert.deepEqual(
    userBuckets(service).map((copy) => copy.userBucket),
    ['data-0123456789', 'data-ana'],
  );
});

void test("users' copies of inputs trigger the service; a job on one writes into that user's copies", () => {
  assert.deepEqual(
    triggeringInputs(service).map((input) => input.path),
    ['data/in', 'data-0123456789/in', 'data-ana/in'],
  );
  assert.equal(userOfBucket(service, 'data-ana'), 'Ana');
  assert.equal(userOfBucket(service, 'data'), null);
  assert.deepEqual(
    specForInput(service, 'data-ana').output.map((output) => output.path),
    ['data-ana/out', 'elsewhere/out'],
  );
  assert.equal(specForInput(service, 'data'), service.spec);
  assert.equal(specForInput(service, null), service.spec);
});

void test('without isolation_level USER nothing changes', () => {
  const shared = validateServiceJson({ ...json, isolation_level: 'SERVICE' });
  const plain = { spec: toServiceSpec(shared), json: shared };
  assert.deepEqual(userBuckets(plain), []);
  assert.deepEqual(triggeringInputs(plain), plain.spec.input);
});
