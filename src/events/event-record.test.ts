import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEventRecord, objectFromEvent, queryEscape, queryUnescape } from './event-record.js';

test('event records have the MinIO shape with the key URL-encoded as MinIO does', () => {
  const event = buildEventRecord(
    {
      name: 'ObjectCreated:Put',
      bucket: 'photos',
      key: 'in/red flower+1.jpg',
      size: 12,
      etag: 'abc',
      contentType: 'image/jpeg',
      timeMs: Date.UTC(2026, 0, 2, 3, 4, 5),
      principal: 'AKIA',
      sourceIp: '127.0.0.1',
    },
    'us-east-1',
  );
  const record = event.Records[0];
  assert.ok(record);
  assert.equal(record.eventName, 's3:ObjectCreated:Put');
  assert.equal(record.eventSource, 'minio:s3');
  assert.equal(record.s3.bucket.name, 'photos');
  assert.equal(record.s3.object.key, 'in%2Fred+flower%2B1.jpg');
  assert.equal(record.s3.object.size, 12);
  assert.equal(record.eventTime, '2026-01-02T03:04:05.000Z');
  assert.deepEqual(objectFromEvent(JSON.parse(JSON.stringify(event))), {
    bucket: 'photos',
    key: 'in/red flower+1.jpg',
    eventTimeIso: '2026-01-02T03:04:05.000Z',
  });
});

test('queryEscape and queryUnescape are inverses on awkward keys', () => {
  for (const key of ['a b/c', "it's (1)*!", 'ñandú/日本.txt', '100%/x+y']) {
    assert.equal(queryUnescape(queryEscape(key)), key);
  }
  assert.equal(objectFromEvent({ hello: 'world' }), null);
  assert.equal(
    objectFromEvent({ Records: [{ s3: { bucket: { name: 'b' }, object: { key: '%E0%A4%A' } } }] }),
    null,
  );
});
