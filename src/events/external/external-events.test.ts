import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readEventRecords, servicesForExternalEvent } from './external-events.js';
import type { ServiceRecord } from '../service-registry.js';

void test('event records: S3/MinIO keys are URL-decoded, RGW keys taken as sent; unknown records left out', () => {
  const events = readEventRecords({
    Records: [
      {
        eventSource: 'minio:s3',
        eventName: 's3:ObjectCreated:Put',
        s3: { bucket: { name: 'b' }, object: { key: 'in/a+b%2B.txt' } },
      },
      {
        eventSource: 'ceph:s3',
        eventName: 'ObjectCreated:Post',
        s3: { bucket: { name: 'b' }, object: { key: 'in/a+b%2B.txt' } },
      },
      {
        eventSource: 'aws:s3',
        eventName: 's3:ObjectRemoved:DeleteMarkerCreated',
        s3: { bucket: { name: 'b' }, object: { key: 'x' } },
      },
      {
        eventSource: 'aws:s3',
        eventName: 's3:TestEvent',
        s3: { bucket: { name: 'b' }, object: { key: 'x' } },
      },
      { eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' } } },
      'nonsense',
    ],
  });
  assert.deepEqual(
    events.map((event) => [event.name, event.key]),
    [
      ['ObjectCreated:Put', 'in/a b+.txt'],
      ['ObjectCreated:Post', 'in/a+b%2B.txt'],
      ['ObjectRemoved:Delete', 'x'],
    ],
  );
  // Each event carries its own record, as the script's EVENT.
  const record = JSON.parse(events[1]?.record ?? '{}') as { Records: { eventSource: string }[] };
  assert.equal(record.Records.length, 1);
  assert.equal(record.Records[0]?.eventSource, 'ceph:s3');
  assert.deepEqual(readEventRecords('text'), []);
  assert.deepEqual(readEventRecords({ Records: 'no' }), []);
});

void test('external events match inputs by provider, bucket, folder and subscribed event', () => {
  const service = (name: string, provider: string, folder: string, events?: string[]) =>
    ({
      name,
      spec: {
        input: [
          {
            provider,
            bucket: 'b',
            folder,
            path: '',
            prefixes: [],
            suffixes: [],
            ...(events ? { events } : {}),
          },
        ],
      },
    }) as unknown as ServiceRecord;
  const services = [
    service('a', 's3.rgw', 'in'),
    service('b', 's3.rgw', ''),
    service('c', 'minio.default', 'in'),
    service('d', 's3.rgw', 'in', ['s3:ObjectRemoved:*']),
    service('e', 's3.rgw', 'inbox'),
  ];
  const names = (name: 'ObjectCreated:Put' | 'ObjectRemoved:Delete', key: string) =>
    servicesForExternalEvent(services, 's3.rgw', { name, bucket: 'b', key }).map((s) => s.name);
  assert.deepEqual(names('ObjectCreated:Put', 'in/x'), ['a', 'b']);
  assert.deepEqual(names('ObjectRemoved:Delete', 'in/x'), ['d']);
  assert.deepEqual(names('ObjectCreated:Put', 'inboxed'), ['b']);
});
