/**
 * The S3 features real clients rely on, driven by the official AWS SDK v3 in process: multipart (ETag form,
 * ListParts, ListMultipartUploads, UploadPartCopy), CopyObject and its directives, conditional requests,
 * representation headers, ListObjectVersions, virtual-hosted addressing, bucket visibility and CORS.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
  ListBucketsCommand,
} from '@aws-sdk/client-s3';
import { Agent } from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readAll } from '../storage/object-store.contract.js';
import { ACCESS_KEY_ID, REGION, SECRET_KEY, USERS, startS3Fixture, type S3Fixture } from './s3-fixture.js';

const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('hex');

function client(fixture: S3Fixture, accessKeyId = ACCESS_KEY_ID, secretAccessKey = SECRET_KEY): S3Client {
  return new S3Client({
    endpoint: fixture.url,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

async function codeOf(promise: Promise<unknown>): Promise<[string, number | undefined]> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof S3ServiceException, String(error));
    return [error.name, error.$metadata.httpStatusCode];
  }
  assert.fail('expected the request to fail');
}

describe('S3 features for real clients (AWS SDK v3)', () => {
  let fixture: S3Fixture;
  let s3: S3Client;
  before(async () => {
    fixture = await startS3Fixture();
    s3 = client(fixture);
    await fixture.store.createBucket('feat', { owner: 'test-user' });
  });
  after(async () => {
    s3.destroy();
    await fixture.close();
  });

  test('multipart: ListParts, ListMultipartUploads, UploadPartCopy, md5-of-md5s-N ETag, one event', async () => {
    const source = randomBytes(6 * 1024 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: 'feat', Key: 'src.bin', Body: source }));
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: 'feat',
        Key: 'assembled.bin',
        ContentType: 'application/x-parts',
        ContentDisposition: 'attachment; filename="a.bin"',
        Metadata: { stage: 'raw' },
      }),
    );
    assert.ok(UploadId);
    const other = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'feat', Key: 'other.bin' }));
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'feat' }));
    assert.deepEqual(
      listed.Uploads?.map((upload) => [upload.Key, upload.UploadId]),
      [
        ['assembled.bin', UploadId],
        ['other.bin', other.UploadId],
      ],
    );
    const tail = randomBytes(1000);
    const part1 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: 'feat',
        Key: 'assembled.bin',
        UploadId,
        PartNumber: 1,
        CopySource: 'feat/src.bin',
        CopySourceRange: `bytes=0-${5 * 1024 * 1024 - 1}`,
      }),
    );
    const part2 = await s3.send(
      new UploadPartCommand({ Bucket: 'feat', Key: 'assembled.bin', UploadId, PartNumber: 2, Body: tail }),
    );
    const first = source.subarray(0, 5 * 1024 * 1024);
    assert.equal(part1.CopyPartResult?.ETag, `"${md5(first)}"`);
    const parts = await s3.send(new ListPartsCommand({ Bucket: 'feat', Key: 'assembled.bin', UploadId }));
    assert.deepEqual(
      parts.Parts?.map((part) => [part.PartNumber, part.Size, part.ETag]),
      [
        [1, first.length, `"${md5(first)}"`],
        [2, tail.length, `"${md5(tail)}"`],
      ],
    );
    const paged = await s3.send(
      new ListPartsCommand({ Bucket: 'feat', Key: 'assembled.bin', UploadId, MaxParts: 1 }),
    );
    assert.equal(paged.IsTruncated, true);
    assert.equal(paged.NextPartNumberMarker, '1');

    fixture.events.length = 0;
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'feat',
        Key: 'assembled.bin',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: part1.CopyPartResult?.ETag },
            { PartNumber: 2, ETag: part2.ETag },
          ],
        },
      }),
    );
    const expectedEtag = `${createHash('md5')
      .update(
        Buffer.concat([createHash('md5').update(first).digest(), createHash('md5').update(tail).digest()]),
      )
      .digest('hex')}-2`;
    assert.equal(done.ETag, `"${expectedEtag}"`);
    assert.deepEqual(
      fixture.events.map((event) => [event.name, event.key, event.size, event.etag]),
      [['ObjectCreated:CompleteMultipartUpload', 'assembled.bin', first.length + tail.length, expectedEtag]],
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'feat', Key: 'assembled.bin' }));
    assert.equal(head.ETag, `"${expectedEtag}"`);
    assert.equal(head.ContentType, 'application/x-parts');
    assert.equal(head.ContentDisposition, 'attachment; filename="a.bin"');
    assert.deepEqual(head.Metadata, { stage: 'raw' });
    const body = await readAll((await fixture.store.get('feat', 'assembled.bin')).body);
    assert.ok(body.equals(Buffer.concat([first, tail])));
    const remaining = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'feat' }));
    assert.deepEqual(
      remaining.Uploads?.map((upload) => upload.Key),
      ['other.bin'],
    );
  });

  test('CopyObject keeps or replaces metadata, reports ObjectCreated:Copy, honours copy-source conditions', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: 'feat',
        Key: 'orig.txt',
        Body: 'original',
        ContentType: 'text/plain',
        ContentEncoding: 'identity',
        CacheControl: 'max-age=60',
        ContentLanguage: 'en',
        Metadata: { color: 'blue' },
      }),
    );
    const orig = await s3.send(new HeadObjectCommand({ Bucket: 'feat', Key: 'orig.txt' }));
    assert.equal(orig.CacheControl, 'max-age=60');
    assert.equal(orig.ContentEncoding, 'identity');
    assert.equal(orig.ContentLanguage, 'en');
    fixture.events.length = 0;
    const copied = await s3.send(
      new CopyObjectCommand({ Bucket: 'feat', Key: 'copy.txt', CopySource: 'feat/orig.txt' }),
    );
    assert.equal(copied.CopyObjectResult?.ETag, `"${md5('original')}"`);
    const kept = await s3.send(new HeadObjectCommand({ Bucket: 'feat', Key: 'copy.txt' }));
    assert.deepEqual(
      [kept.ContentType, kept.CacheControl, kept.Metadata],
      ['text/plain', 'max-age=60', { color: 'blue' }],
    );
    assert.deepEqual(
      fixture.events.map((event) => [event.name, event.key, event.etag]),
      [['ObjectCreated:Copy', 'copy.txt', md5('original')]],
    );
    await s3.send(
      new CopyObjectCommand({
        Bucket: 'feat',
        Key: 'orig.txt',
        CopySource: 'feat/orig.txt',
        MetadataDirective: 'REPLACE',
        ContentType: 'text/markdown',
        Metadata: { color: 'red' },
      }),
    );
    const replaced = await s3.send(new GetObjectCommand({ Bucket: 'feat', Key: 'orig.txt' }));
    assert.equal(await replaced.Body?.transformToString(), 'original');
    assert.deepEqual(
      [replaced.ContentType, replaced.CacheControl, replaced.Metadata],
      ['text/markdown', undefined, { color: 'red' }],
    );
    assert.deepEqual(
      await codeOf(
        s3.send(new CopyObjectCommand({ Bucket: 'feat', Key: 'orig.txt', CopySource: 'feat/orig.txt' })),
      ),
      ['InvalidRequest', 400],
    );
    const past = new Date(Date.now() - 3600_000);
    for (const condition of [
      { CopySourceIfMatch: '"0123456789abcdef0123456789abcdef"' },
      { CopySourceIfNoneMatch: `"${md5('original')}"` },
      { CopySourceIfUnmodifiedSince: past },
    ]) {
      assert.deepEqual(
        await codeOf(
          s3.send(
            new CopyObjectCommand({
              Bucket: 'feat',
              Key: 'never.txt',
              CopySource: 'feat/orig.txt',
              ...condition,
            }),
          ),
        ),
        ['PreconditionFailed', 412],
        JSON.stringify(condition),
      );
    }
    await s3.send(
      new CopyObjectCommand({
        Bucket: 'feat',
        Key: 'conditional.txt',
        CopySource: 'feat/orig.txt',
        CopySourceIfMatch: `"${md5('original')}"`,
        CopySourceIfModifiedSince: past,
      }),
    );
    assert.equal((await fixture.store.head('feat', 'conditional.txt')).etag, md5('original'));
    await assert.rejects(fixture.store.head('feat', 'never.txt'));
  });

  test('conditional GET/HEAD (304, 412) and conditional PUT (If-None-Match: *, If-Match)', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'feat', Key: 'cond.txt', Body: 'v1' }));
    assert.equal(
      (
        await codeOf(
          s3.send(new HeadObjectCommand({ Bucket: 'feat', Key: 'cond.txt', IfNoneMatch: put.ETag })),
        )
      )[1],
      304,
    );
    assert.deepEqual(
      await codeOf(s3.send(new GetObjectCommand({ Bucket: 'feat', Key: 'cond.txt', IfMatch: '"nope"' }))),
      ['PreconditionFailed', 412],
    );
    const future = new Date(Date.now() + 3600_000);
    assert.equal(
      (
        await codeOf(
          s3.send(new GetObjectCommand({ Bucket: 'feat', Key: 'cond.txt', IfModifiedSince: future })),
        )
      )[1],
      304,
    );
    const got = await s3.send(
      new GetObjectCommand({ Bucket: 'feat', Key: 'cond.txt', IfMatch: put.ETag, IfUnmodifiedSince: future }),
    );
    assert.equal(await got.Body?.transformToString(), 'v1');
    assert.deepEqual(
      await codeOf(
        s3.send(new PutObjectCommand({ Bucket: 'feat', Key: 'cond.txt', Body: 'v2', IfNoneMatch: '*' })),
      ),
      ['PreconditionFailed', 412],
    );
    assert.deepEqual(
      await codeOf(
        s3.send(new PutObjectCommand({ Bucket: 'feat', Key: 'cond.txt', Body: 'v2', IfMatch: '"nope"' })),
      ),
      ['PreconditionFailed', 412],
    );
    await s3.send(new PutObjectCommand({ Bucket: 'feat', Key: 'cond.txt', Body: 'v2', IfMatch: put.ETag }));
    await s3.send(new PutObjectCommand({ Bucket: 'feat', Key: 'fresh.txt', Body: 'new', IfNoneMatch: '*' }));
    assert.equal((await fixture.store.head('feat', 'cond.txt')).etag, md5('v2'));
    assert.equal((await fixture.store.head('feat', 'fresh.txt')).etag, md5('new'));
  });

  test('ListObjectVersions answers each object once, as its current "null" version', async () => {
    const answer = await s3.send(new ListObjectVersionsCommand({ Bucket: 'feat', Prefix: 'co' }));
    assert.deepEqual(
      answer.Versions?.map((version) => [version.Key, version.VersionId, version.IsLatest]),
      [
        ['cond.txt', 'null', true],
        ['conditional.txt', 'null', true],
        ['copy.txt', 'null', true],
      ],
    );
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: 'feat', Prefix: 'co', MaxKeys: 1 }));
    assert.equal(page.IsTruncated, true);
    assert.equal(page.NextKeyMarker, 'cond.txt');
    const next = await s3.send(
      new ListObjectVersionsCommand({ Bucket: 'feat', Prefix: 'co', KeyMarker: page.NextKeyMarker }),
    );
    assert.deepEqual(
      next.Versions?.map((version) => version.Key),
      ['conditional.txt', 'copy.txt'],
    );
  });

  test('virtual-hosted style: the bucket in the Host header', async () => {
    // `feat.localhost` does not resolve here: every name is looked up as loopback instead.
    const agent = new Agent({
      lookup: (_hostname, options, callback) => {
        if ((options as { all?: boolean }).all) {
          (callback as (error: null, addresses: Array<{ address: string; family: number }>) => void)(null, [
            { address: '127.0.0.1', family: 4 },
          ]);
        } else callback(null, '127.0.0.1', 4);
      },
    });
    const virtual = new S3Client({
      endpoint: `http://localhost:${fixture.port}`,
      region: REGION,
      forcePathStyle: false,
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_KEY },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpAgent: agent }),
    });
    const seenHosts: string[] = [];
    virtual.middlewareStack.add(
      (next) => async (args) => {
        seenHosts.push((args.request as { headers: Record<string, string> }).headers.host ?? '');
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordHost' },
    );
    try {
      await virtual.send(new PutObjectCommand({ Bucket: 'feat', Key: 'vhost/a.txt', Body: 'virtual' }));
      const got = await virtual.send(new GetObjectCommand({ Bucket: 'feat', Key: 'vhost/a.txt' }));
      assert.equal(await got.Body?.transformToString(), 'virtual');
      assert.deepEqual(seenHosts, [`feat.localhost:${fixture.port}`, `feat.localhost:${fixture.port}`]);
    } finally {
      virtual.destroy();
      agent.destroy();
    }
    assert.equal(
      (await readAll((await fixture.store.get('feat', 'vhost/a.txt')).body)).toString(),
      'virtual',
    );
  });

  test("visibility: public readable anonymously, private its owner's, restricted its listed users'", async () => {
    const aliceKey = 'ALICEACCESSKEY000001';
    const bobKey = 'BOBACCESSKEY00000001';
    const alice = client(fixture, aliceKey, USERS[aliceKey].secretKey);
    const bob = client(fixture, bobKey, USERS[bobKey].secretKey);
    try {
      await fixture.store.createBucket('pub', { owner: 'alice', visibility: 'public' });
      await fixture.store.createBucket('priv', { owner: 'alice', visibility: 'private' });
      await fixture.store.createBucket('team', {
        owner: 'alice',
        visibility: 'restricted',
        allowedUsers: ['bob'],
      });
      for (const bucket of ['pub', 'priv', 'team']) {
        await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'f.txt', Body: bucket }));
      }
      const anonymous = await fetch(`${fixture.url}/pub/f.txt`);
      assert.equal(anonymous.status, 200);
      assert.equal(await anonymous.text(), 'pub');
      assert.equal((await fetch(`${fixture.url}/pub?list-type=2`)).status, 200);
      const anonymousPrivate = await fetch(`${fixture.url}/priv/f.txt`);
      assert.equal(anonymousPrivate.status, 403);
      assert.match(await anonymousPrivate.text(), /AccessDenied/);
      assert.equal((await fetch(`${fixture.url}/pub/x.txt`, { method: 'PUT', body: 'x' })).status, 403);

      assert.deepEqual(await codeOf(bob.send(new GetObjectCommand({ Bucket: 'priv', Key: 'f.txt' }))), [
        'AccessDenied',
        403,
      ]);
      const team = await bob.send(new GetObjectCommand({ Bucket: 'team', Key: 'f.txt' }));
      assert.equal(await team.Body?.transformToString(), 'team');
      await bob.send(new PutObjectCommand({ Bucket: 'team', Key: 'bob.txt', Body: 'from bob' }));
      await bob.send(new PutObjectCommand({ Bucket: 'pub', Key: 'bob.txt', Body: 'from bob' }));
      assert.deepEqual(
        await codeOf(
          bob.send(new CopyObjectCommand({ Bucket: 'team', Key: 'stolen', CopySource: 'priv/f.txt' })),
        ),
        ['AccessDenied', 403],
      );
      const bobsBuckets = await bob.send(new ListBucketsCommand({}));
      assert.deepEqual(bobsBuckets.Buckets?.map((bucket) => bucket.Name).sort(), ['pub', 'team']);

      await fixture.store.updateBucket('team', { visibility: 'private' });
      assert.deepEqual(await codeOf(bob.send(new GetObjectCommand({ Bucket: 'team', Key: 'f.txt' }))), [
        'AccessDenied',
        403,
      ]);
    } finally {
      alice.destroy();
      bob.destroy();
    }
  });

  test('CORS: preflight allowed for a browser upload, replies carry Access-Control headers', async () => {
    const preflight = await fetch(`${fixture.url}/feat/upload.bin`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://dashboard.example',
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'content-type,x-amz-date,authorization',
      },
    });
    assert.equal(preflight.status, 200);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /PUT/);
    assert.equal(
      preflight.headers.get('access-control-allow-headers'),
      'content-type,x-amz-date,authorization',
    );
    const reply = await fetch(`${fixture.url}/pub/f.txt`, {
      headers: { Origin: 'http://dashboard.example' },
    });
    assert.equal(reply.headers.get('access-control-allow-origin'), '*');
    assert.match(reply.headers.get('access-control-expose-headers') ?? '', /ETag/);
    const bad = await fetch(`${fixture.url}/feat/x`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://dashboard.example', 'Access-Control-Request-Method': 'PATCH' },
    });
    assert.equal(bad.status, 403);
  });

  test('every mutation reports its event: Put, Copy, CompleteMultipartUpload, ObjectRemoved:Delete', async () => {
    fixture.events.length = 0;
    await s3.send(new PutObjectCommand({ Bucket: 'feat', Key: 'ev/a', Body: 'a' }));
    await s3.send(new CopyObjectCommand({ Bucket: 'feat', Key: 'ev/b', CopySource: 'feat/ev/a' }));
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    await s3.send(new DeleteObjectCommand({ Bucket: 'feat', Key: 'ev/a' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'feat', Key: 'ev/never-existed' }));
    assert.deepEqual(
      fixture.events.map((event) => [event.name, event.key]),
      [
        ['ObjectCreated:Put', 'ev/a'],
        ['ObjectCreated:Copy', 'ev/b'],
        ['ObjectRemoved:Delete', 'ev/a'],
      ],
    );
  });
});
