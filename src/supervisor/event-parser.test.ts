import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEvent } from './event-parser.js';

const minio = JSON.stringify({
  Key: 'images/in/red+flower.jpg',
  Records: [
    {
      eventSource: 'minio:s3',
      eventTime: '2026-01-02T03:04:05.000Z',
      s3: { bucket: { name: 'images' }, object: { key: 'in%2Fred+flower%2B1.jpg' } },
    },
  ],
});

void test('a MinIO event is a storage event with its key URL-decoded', () => {
  assert.deepEqual(parseEvent(minio), {
    kind: 'storage',
    provider: 'minio.default',
    bucket: 'images',
    key: 'in/red flower+1.jpg',
    eventTimeIso: '2026-01-02T03:04:05.000Z',
    event: minio,
  });
});

void test('a delegated event is unwrapped and keeps its provider', () => {
  const parsed = parseEvent(JSON.stringify({ storage_provider: 'minio.remote', event: minio }));
  assert.equal(parsed.kind, 'storage');
  assert.equal(parsed.kind === 'storage' && parsed.provider, 'minio.remote');
  assert.equal(parsed.kind === 'storage' && parsed.event, minio);
});

void test('anything else is an http body', () => {
  for (const text of ['hello', '{"a":1}', '{"Records":[]}', '{"Records":[{"eventSource":"other"}]}', '']) {
    assert.deepEqual(parseEvent(text), { kind: 'http' });
  }
});
