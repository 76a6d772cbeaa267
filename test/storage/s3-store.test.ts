import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { createS3ObjectStore, type StorageEvent } from '../../src/storage/index.js';
import { ACCESS_KEY_ID, REGION, SECRET_KEY, startS3Fixture } from '../s3api/s3-fixture.js';
import { rejectsWith, runObjectStoreContract } from './object-store.contract.js';

// The S3 store, through the AWS SDK, against Nubes' own S3 endpoint (embedded store behind it).
runObjectStoreContract('s3 (AWS SDK -> Nubes S3 endpoint)', async () => {
  const fixture = await startS3Fixture();
  const events: StorageEvent[] = [];
  const store = await createS3ObjectStore({
    endpoint: fixture.url,
    region: REGION,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_KEY,
    forcePathStyle: true,
    onEvent: (event) => events.push(event),
  });
  return {
    store,
    events,
    async cleanup() {
      await store.close();
      await fixture.close();
    },
  };
});

test('an S3 endpoint that does not answer is STORAGE_UNREACHABLE, retryable', async () => {
  // A port that was free a moment ago: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
  const store = await createS3ObjectStore({
    endpoint: `http://127.0.0.1:${port}`,
    region: REGION,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_KEY,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  try {
    await rejectsWith(() => store.head('some-bucket', 'k'), 'STORAGE_UNREACHABLE');
    await store
      .head('some-bucket', 'k')
      .catch((error: { retryable?: boolean }) => assert.equal(error.retryable, true));
  } finally {
    await store.close();
  }
});

test('wrong credentials are UNAUTHENTICATED', async () => {
  const fixture = await startS3Fixture();
  const store = await createS3ObjectStore({
    endpoint: fixture.url,
    region: REGION,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: 'not-the-secret',
    forcePathStyle: true,
  });
  try {
    await rejectsWith(() => store.listBuckets(), 'UNAUTHENTICATED');
  } finally {
    await store.close();
    await fixture.close();
  }
});
