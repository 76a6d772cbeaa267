/**
 * @module test/s3api/scoped-keys.test
 * A job's scoped key against the real S3 endpoint with the AWS SDK: it reads its input and nothing else,
 * writes under its output prefixes and nowhere else, cannot list, delete or copy, and stops working when
 * revoked or expired.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { ScopedKeys } from '../../src/s3api/index.js';
import { ACCESS_KEY_ID, PRINCIPAL, SECRET_KEY, startS3Fixture, type S3Fixture } from './s3-fixture.js';

void describe('scoped job keys on the S3 endpoint', () => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const keys = new ScopedKeys({ now: () => now });
  let s3: S3Fixture;

  before(async () => {
    s3 = await startS3Fixture({
      resolveSecret: (id) => {
        if (id === ACCESS_KEY_ID) return { secretKey: SECRET_KEY, principal: PRINCIPAL, admin: true };
        const scoped = keys.resolve(id);
        return scoped === null ? null : { secretKey: scoped.secretKey, principal: `job:${id}` };
      },
      scopeOf: (id) => keys.resolve(id)?.scope ?? null,
      // SigV4 checks the request time against the clock: the fixture's clock must be the real one.
    });
    await s3.store.ensureBucket('data');
    await s3.store.ensureBucket('other');
    await s3.store.put('data', 'in/mine.txt', Buffer.from('mine'));
    await s3.store.put('data', 'in/theirs.txt', Buffer.from('theirs'));
    await s3.store.put('other', 'secret.txt', Buffer.from('secret'));
  });
  after(async () => {
    await s3?.close();
  });

  const clientFor = (accessKeyId: string, secretAccessKey: string) =>
    new S3Client({
      endpoint: s3.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });
  const outcome = (promise: Promise<unknown>): Promise<string> =>
    promise.then(
      () => 'allowed',
      (error: { name?: string }) => error.name ?? 'error',
    );

  test('reads its input only, writes under its outputs only, nothing else', async () => {
    const key = keys.issue(
      { read: [{ bucket: 'data', key: 'in/mine.txt' }], write: [{ bucket: 'data', prefix: 'out/' }] },
      60_000,
    );
    const client = clientFor(key.accessKeyId, key.secretAccessKey);
    const got = await client.send(new GetObjectCommand({ Bucket: 'data', Key: 'in/mine.txt' }));
    assert.equal(await got.Body?.transformToString(), 'mine');
    assert.equal(
      await outcome(client.send(new GetObjectCommand({ Bucket: 'data', Key: 'in/theirs.txt' }))),
      'AccessDenied',
    );
    assert.equal(
      await outcome(client.send(new GetObjectCommand({ Bucket: 'other', Key: 'secret.txt' }))),
      'AccessDenied',
    );
    assert.equal(
      await outcome(client.send(new PutObjectCommand({ Bucket: 'data', Key: 'out/r.txt', Body: 'r' }))),
      'allowed',
    );
    assert.equal(
      await outcome(client.send(new PutObjectCommand({ Bucket: 'data', Key: 'in/evil.txt', Body: 'e' }))),
      'AccessDenied',
    );
    assert.equal(
      await outcome(client.send(new PutObjectCommand({ Bucket: 'data', Key: 'outside.txt', Body: 'e' }))),
      'AccessDenied',
    );
    assert.equal(await outcome(client.send(new ListObjectsV2Command({ Bucket: 'data' }))), 'AccessDenied');
    assert.equal(
      await outcome(client.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'out/r.txt' }))),
      'AccessDenied',
    );
    assert.equal(
      await outcome(
        client.send(
          new CopyObjectCommand({ Bucket: 'data', Key: 'out/copy.txt', CopySource: 'other/secret.txt' }),
        ),
      ),
      'AccessDenied',
    );
    assert.equal((await s3.store.head('data', 'out/r.txt')).size, 1);
    await assert.rejects(s3.store.head('data', 'in/evil.txt'), { code: 'OBJECT_NOT_FOUND' });
  });

  test('a revoked or expired key is refused', async () => {
    const scope = { read: [{ bucket: 'data', key: 'in/mine.txt' }], write: [] };
    const revoked = keys.issue(scope, 60_000);
    keys.revoke(revoked.accessKeyId);
    const get = (id: string, secret: string) =>
      outcome(clientFor(id, secret).send(new GetObjectCommand({ Bucket: 'data', Key: 'in/mine.txt' })));
    assert.equal(await get(revoked.accessKeyId, revoked.secretAccessKey), 'InvalidAccessKeyId');
    const expiring = keys.issue(scope, 60_000);
    assert.equal(await get(expiring.accessKeyId, expiring.secretAccessKey), 'allowed');
    now += 60_001;
    assert.equal(await get(expiring.accessKeyId, expiring.secretAccessKey), 'InvalidAccessKeyId');
    assert.equal(keys.size, 0);
  });
});
