import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  CreateBucketCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { readAll } from '../storage/object-store.contract.js';
import { ACCESS_KEY_ID, REGION, SECRET_KEY, startS3Fixture, type S3Fixture } from './s3-fixture.js';

/** An SDK client with DEFAULT checksum settings, recording the headers of every request it sends. */
function sdkClient(
  fixture: S3Fixture,
  sent: Array<Record<string, string>>,
  secretAccessKey = SECRET_KEY,
  accessKeyId = ACCESS_KEY_ID,
): S3Client {
  const client = new S3Client({
    endpoint: fixture.url,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      sent.push({ ...((args.request as { headers?: Record<string, string> }).headers ?? {}) });
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'recordHeaders' },
  );
  return client;
}

async function s3ErrorOf(promise: Promise<unknown>): Promise<[string, number | undefined]> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof S3ServiceException, String(error));
    return [error.name, error.$metadata.httpStatusCode];
  }
  assert.fail('expected an S3 error');
}

describe('AWS SDK for JavaScript v3 (default checksums) against the S3 endpoint', () => {
  let fixture: S3Fixture;
  let client: S3Client;
  const sent: Array<Record<string, string>> = [];
  before(async () => {
    fixture = await startS3Fixture();
    client = sdkClient(fixture, sent);
    await client.send(new CreateBucketCommand({ Bucket: 'sdk-bucket' }));
  });
  after(async () => {
    client.destroy();
    await fixture.close();
  });

  test('a streamed PutObject travels as STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer and is stored whole', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    sent.length = 0;
    const parts = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) =>
      data.subarray(i * 65536, (i + 1) * 65536),
    );
    await client.send(
      new PutObjectCommand({
        Bucket: 'sdk-bucket',
        Key: 'stream/data.bin',
        Body: Readable.from(parts),
        ContentLength: data.length,
      }),
    );
    const headers = sent.at(-1) ?? {};
    assert.equal(headers['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    assert.match(headers['content-encoding'] ?? '', /aws-chunked/);
    assert.equal(headers['x-amz-trailer'], 'x-amz-checksum-crc32');
    const stored = await fixture.store.get('sdk-bucket', 'stream/data.bin');
    assert.ok((await readAll(stored.body)).equals(data));
    assert.equal(stored.info.etag, createHash('md5').update(data).digest('hex'));
  });

  test('a buffered PutObject carries an x-amz-checksum-crc32 header that is verified', async () => {
    sent.length = 0;
    await client.send(
      new PutObjectCommand({
        Bucket: 'sdk-bucket',
        Key: 'buffer.txt',
        Body: Buffer.from('buffered body'),
        ContentType: 'text/plain',
        Metadata: { Owner: 'sdk' },
      }),
    );
    assert.ok(sent.at(-1)?.['x-amz-checksum-crc32'], JSON.stringify(sent.at(-1)));
    const head = await client.send(new HeadObjectCommand({ Bucket: 'sdk-bucket', Key: 'buffer.txt' }));
    assert.equal(head.ContentLength, 13);
    assert.equal(head.ContentType, 'text/plain');
    assert.deepEqual(head.Metadata, { owner: 'sdk' });
    const got = await client.send(
      new GetObjectCommand({ Bucket: 'sdk-bucket', Key: 'buffer.txt', Range: 'bytes=-4' }),
    );
    assert.equal(got.ContentRange, 'bytes 9-12/13');
    assert.equal(await got.Body?.transformToString(), 'body');
  });

  test('paginated ListObjectsV2, and DeleteObjects with the checksum the SDK computes', async () => {
    for (let i = 0; i < 12; i++) {
      await client.send(new PutObjectCommand({ Bucket: 'sdk-bucket', Key: `many/${i}`, Body: `n${i}` }));
    }
    const keys: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2(
      { client, pageSize: 5 },
      { Bucket: 'sdk-bucket', Prefix: 'many/' },
    )) {
      pages++;
      keys.push(...(page.Contents ?? []).map((item) => item.Key ?? ''));
    }
    assert.equal(pages, 3);
    assert.equal(keys.length, 12);
    sent.length = 0;
    const deleted = await client.send(
      new DeleteObjectsCommand({ Bucket: 'sdk-bucket', Delete: { Objects: keys.map((Key) => ({ Key })) } }),
    );
    assert.equal(deleted.Deleted?.length, 12);
    const headers = sent.at(-1) ?? {};
    assert.ok(headers['x-amz-checksum-crc32'] ?? headers['content-md5'], JSON.stringify(headers));
    assert.deepEqual((await fixture.store.list('sdk-bucket', { prefix: 'many/' })).objects, []);
  });

  test('errors arrive as the SDK exceptions S3 would raise', async () => {
    assert.deepEqual(
      await s3ErrorOf(client.send(new GetObjectCommand({ Bucket: 'sdk-bucket', Key: 'nope' }))),
      ['NoSuchKey', 404],
    );
    assert.deepEqual(await s3ErrorOf(client.send(new DeleteBucketCommand({ Bucket: 'sdk-bucket' }))), [
      'BucketNotEmpty',
      409,
    ]);
    assert.deepEqual(await s3ErrorOf(client.send(new CreateBucketCommand({ Bucket: 'sdk-bucket' }))), [
      'BucketAlreadyOwnedByYou',
      409,
    ]);
    const wrongSecret = sdkClient(fixture, [], 'not-the-secret');
    const unknownKey = sdkClient(fixture, [], SECRET_KEY, 'AKIDUNKNOWNUNKNOWN00');
    try {
      assert.deepEqual(await s3ErrorOf(wrongSecret.send(new ListBucketsCommand({}))), [
        'SignatureDoesNotMatch',
        403,
      ]);
      assert.deepEqual(await s3ErrorOf(unknownKey.send(new ListBucketsCommand({}))), [
        'InvalidAccessKeyId',
        403,
      ]);
    } finally {
      wrongSecret.destroy();
      unknownKey.destroy();
    }
  });
});
