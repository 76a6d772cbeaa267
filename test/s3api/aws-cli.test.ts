import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readAll } from '../storage/object-store.contract.js';
import { startS3Fixture, type S3Fixture } from './s3-fixture.js';
import { AWS_CLI, mustRun, runClient } from './run-client.js';

const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('hex');

function multipartEtag(data: Buffer, partSize: number): string {
  const digests: Buffer[] = [];
  for (let at = 0; at < data.length; at += partSize) {
    digests.push(
      createHash('md5')
        .update(data.subarray(at, at + partSize))
        .digest(),
    );
  }
  return `${md5(Buffer.concat(digests))}-${digests.length}`;
}

const TREE: Record<string, string> = {
  'a.txt': 'alpha\n',
  'sub/b.csv': 'x,y\n1,2\n',
  'sub/deeper/c d.txt': 'spaces in names\n',
  'sub/ünï cødé+plus.txt': 'unicode and plus\n',
};

describe(
  'aws cli (Debian awscli) against the S3 endpoint',
  { skip: !existsSync(AWS_CLI) && 'aws cli not installed' },
  () => {
    let fixture: S3Fixture;
    let work: string;
    const aws = (...args: string[]) =>
      mustRun(AWS_CLI, ['--endpoint-url', fixture.url, ...args], fixture.clientEnv, work);

    before(async () => {
      fixture = await startS3Fixture();
      work = join(fixture.dir, 'work');
      await mkdir(join(work, 'tree'), { recursive: true });
      for (const [path, content] of Object.entries(TREE)) {
        await mkdir(join(work, 'tree', path, '..'), { recursive: true });
        await writeFile(join(work, 'tree', path), content);
      }
    });
    after(async () => {
      await fixture.close();
    });

    test('s3 mb, cp up with metadata, ls, cp down (a 5 MiB file, MD5 intact)', async () => {
      await aws('s3', 'mb', 's3://cli-bucket');
      const big = randomBytes(5 * 1024 * 1024);
      await writeFile(join(work, 'big.bin'), big);
      await aws(
        's3',
        'cp',
        'big.bin',
        's3://cli-bucket/data/big.bin',
        '--metadata',
        'origin=cli',
        '--content-type',
        'application/x-test',
      );
      const head = await fixture.store.head('cli-bucket', 'data/big.bin');
      assert.equal(head.etag, createHash('md5').update(big).digest('hex'));
      assert.equal(head.contentType, 'application/x-test');
      assert.deepEqual(head.metadata, { origin: 'cli' });
      assert.match(await aws('s3', 'ls', 's3://cli-bucket/data/'), /5242880 big\.bin/);
      await aws('s3', 'cp', 's3://cli-bucket/data/big.bin', 'big-copy.bin');
      assert.ok((await readFile(join(work, 'big-copy.bin'))).equals(big));
      assert.match(await aws('s3', 'ls'), /cli-bucket/);
    });

    test('s3 cp --recursive both ways keeps every name and byte; ls --recursive lists them', async () => {
      await aws('s3', 'cp', '--recursive', 'tree', 's3://cli-bucket/tree/');
      for (const [path, content] of Object.entries(TREE)) {
        const got = await fixture.store.get('cli-bucket', `tree/${path}`);
        assert.equal((await readAll(got.body)).toString(), content, path);
      }
      const listing = await aws('s3', 'ls', '--recursive', 's3://cli-bucket/tree/');
      for (const path of Object.keys(TREE))
        assert.ok(listing.includes(`tree/${path}`), `${path} in\n${listing}`);
      const top = await aws('s3', 'ls', 's3://cli-bucket/tree/');
      assert.match(top, /PRE sub\//);
      await aws('s3', 'cp', '--recursive', 's3://cli-bucket/tree/', 'back');
      for (const [path, content] of Object.entries(TREE))
        assert.equal(await readFile(join(work, 'back', path), 'utf8'), content, path);
    });

    test('a 20 MiB file goes up as a multipart upload and comes down in ranged parts, MD5 intact', async () => {
      const big = randomBytes(20 * 1024 * 1024 + 123);
      await writeFile(join(work, 'multi.bin'), big);
      fixture.events.length = 0;
      await aws('s3', 'cp', 'multi.bin', 's3://cli-bucket/data/multi.bin', '--metadata', 'kind=multipart');
      const head = await fixture.store.head('cli-bucket', 'data/multi.bin');
      // The aws cli sends 8 MiB parts: S3's multipart ETag is the MD5 of their MD5s, then their count.
      assert.equal(head.etag, multipartEtag(big, 8 * 1024 * 1024));
      assert.deepEqual(head.metadata, { kind: 'multipart' });
      const stored = await readAll((await fixture.store.get('cli-bucket', 'data/multi.bin')).body);
      assert.equal(md5(stored), md5(big));
      assert.deepEqual(
        fixture.events.map((event) => [event.name, event.size]),
        [['ObjectCreated:CompleteMultipartUpload', big.length]],
      );
      await aws('s3', 'cp', 's3://cli-bucket/data/multi.bin', 'multi-copy.bin');
      assert.ok((await readFile(join(work, 'multi-copy.bin'))).equals(big));
      assert.deepEqual(await readdir(join(fixture.dir, 'multipart')), []);
    });

    test('s3api get-object --range and head-object', async () => {
      await writeFile(join(work, 'digits.txt'), '0123456789');
      await aws('s3', 'cp', 'digits.txt', 's3://cli-bucket/digits.txt');
      const answer = JSON.parse(
        await aws(
          's3api',
          'get-object',
          '--bucket',
          'cli-bucket',
          '--key',
          'digits.txt',
          '--range',
          'bytes=2-5',
          'part.txt',
        ),
      ) as { ContentRange: string; ContentLength: number };
      assert.equal(answer.ContentRange, 'bytes 2-5/10');
      assert.equal(answer.ContentLength, 4);
      assert.equal(await readFile(join(work, 'part.txt'), 'utf8'), '2345');
      const head = JSON.parse(
        await aws('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'digits.txt'),
      ) as {
        ContentLength: number;
        ETag: string;
      };
      assert.equal(head.ContentLength, 10);
      assert.equal(head.ETag, `"${createHash('md5').update('0123456789').digest('hex')}"`);
      const missing = await runClient(
        AWS_CLI,
        ['--endpoint-url', fixture.url, 's3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'nope'],
        fixture.clientEnv,
      );
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /404/);
    });

    test('s3 sync uploads new and changed files, --delete removes the others, and syncs back down', async () => {
      await aws('s3', 'sync', 'tree', 's3://cli-bucket/synced/');
      fixture.events.length = 0;
      await writeFile(join(work, 'tree', 'a.txt'), 'alpha, second edition\n');
      await writeFile(join(work, 'tree', 'new.txt'), 'brand new\n');
      await rm(join(work, 'tree', 'sub', 'b.csv'));
      const output = await aws('s3', 'sync', '--delete', 'tree', 's3://cli-bucket/synced/');
      assert.match(output, /upload: tree\/a\.txt/);
      assert.match(output, /delete: s3:\/\/cli-bucket\/synced\/sub\/b\.csv/);
      assert.doesNotMatch(output, /c d\.txt/, 'unchanged files are not sent again');
      const keys = (await fixture.store.list('cli-bucket', { prefix: 'synced/' })).objects.map((o) => [
        o.key,
        o.etag,
      ]);
      assert.deepEqual(keys, [
        ['synced/a.txt', md5('alpha, second edition\n')],
        ['synced/new.txt', md5('brand new\n')],
        ['synced/sub/deeper/c d.txt', md5('spaces in names\n')],
        ['synced/sub/ünï cødé+plus.txt', md5('unicode and plus\n')],
      ]);
      assert.deepEqual(fixture.events.map((event) => [event.name, event.key]).sort(), [
        ['ObjectCreated:Put', 'synced/a.txt'],
        ['ObjectCreated:Put', 'synced/new.txt'],
        ['ObjectRemoved:Delete', 'synced/sub/b.csv'],
      ]);
      await aws('s3', 'sync', 's3://cli-bucket/synced/', 'synced-back');
      assert.equal(await readFile(join(work, 'synced-back', 'a.txt'), 'utf8'), 'alpha, second edition\n');
      assert.equal(
        await readFile(join(work, 'synced-back', 'sub', 'deeper', 'c d.txt'), 'utf8'),
        'spaces in names\n',
      );
    });

    test('s3api copy-object (COPY and REPLACE directives) and head-object metadata and headers', async () => {
      await writeFile(join(work, 'meta.txt'), 'with metadata');
      await aws(
        's3api',
        'put-object',
        '--bucket',
        'cli-bucket',
        '--key',
        'meta/orig.txt',
        '--body',
        'meta.txt',
        '--content-type',
        'text/x-meta',
        '--content-disposition',
        'attachment; filename="orig.txt"',
        '--cache-control',
        'no-cache',
        '--content-language',
        'es',
        '--metadata',
        'origin=cli,step=1',
      );
      const head = JSON.parse(
        await aws('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'meta/orig.txt'),
      ) as Record<string, unknown>;
      assert.equal(head.ContentType, 'text/x-meta');
      assert.equal(head.ContentDisposition, 'attachment; filename="orig.txt"');
      assert.equal(head.CacheControl, 'no-cache');
      assert.equal(head.ContentLanguage, 'es');
      assert.deepEqual(head.Metadata, { origin: 'cli', step: '1' });

      const copied = JSON.parse(
        await aws(
          's3api',
          'copy-object',
          '--bucket',
          'cli-bucket',
          '--key',
          'meta/copy.txt',
          '--copy-source',
          'cli-bucket/meta/orig.txt',
        ),
      ) as { CopyObjectResult: { ETag: string } };
      assert.equal(copied.CopyObjectResult.ETag, `"${md5('with metadata')}"`);
      const kept = JSON.parse(
        await aws('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'meta/copy.txt'),
      ) as Record<string, unknown>;
      assert.deepEqual(
        [kept.ContentType, kept.CacheControl, kept.Metadata],
        ['text/x-meta', 'no-cache', { origin: 'cli', step: '1' }],
      );
      await aws(
        's3api',
        'copy-object',
        '--bucket',
        'cli-bucket',
        '--key',
        'meta/replaced.txt',
        '--copy-source',
        'cli-bucket/meta/orig.txt',
        '--metadata-directive',
        'REPLACE',
        '--content-type',
        'application/x-replaced',
        '--metadata',
        'step=2',
      );
      const replaced = await fixture.store.head('cli-bucket', 'meta/replaced.txt');
      assert.deepEqual(
        [replaced.contentType, replaced.metadata, replaced.contentHeaders?.cacheControl],
        ['application/x-replaced', { step: '2' }, undefined],
      );
      const refused = await runClient(
        AWS_CLI,
        [
          '--endpoint-url',
          fixture.url,
          's3api',
          'copy-object',
          '--bucket',
          'cli-bucket',
          '--key',
          'meta/never.txt',
          '--copy-source',
          'cli-bucket/meta/orig.txt',
          '--copy-source-if-none-match',
          `"${md5('with metadata')}"`,
        ],
        fixture.clientEnv,
      );
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /PreconditionFailed/);
    });

    test('s3api multipart by hand: create, upload-part, list-parts, list-multipart-uploads, complete', async () => {
      const upload = JSON.parse(
        await aws('s3api', 'create-multipart-upload', '--bucket', 'cli-bucket', '--key', 'manual/obj.bin'),
      ) as { UploadId: string };
      const first = randomBytes(5 * 1024 * 1024);
      const second = randomBytes(1234);
      await writeFile(join(work, 'p1.bin'), first);
      await writeFile(join(work, 'p2.bin'), second);
      const etags: string[] = [];
      for (const [number, file] of [
        ['1', 'p1.bin'],
        ['2', 'p2.bin'],
      ] as const) {
        const part = JSON.parse(
          await aws(
            's3api',
            'upload-part',
            '--bucket',
            'cli-bucket',
            '--key',
            'manual/obj.bin',
            '--upload-id',
            upload.UploadId,
            '--part-number',
            number,
            '--body',
            file,
          ),
        ) as { ETag: string };
        etags.push(part.ETag);
      }
      const parts = JSON.parse(
        await aws(
          's3api',
          'list-parts',
          '--bucket',
          'cli-bucket',
          '--key',
          'manual/obj.bin',
          '--upload-id',
          upload.UploadId,
        ),
      ) as { Parts: Array<{ PartNumber: number; Size: number; ETag: string }> };
      assert.deepEqual(
        parts.Parts.map((part) => [part.PartNumber, part.Size, part.ETag]),
        [
          [1, first.length, `"${md5(first)}"`],
          [2, second.length, `"${md5(second)}"`],
        ],
      );
      const uploads = JSON.parse(await aws('s3api', 'list-multipart-uploads', '--bucket', 'cli-bucket')) as {
        Uploads: Array<{ Key: string; UploadId: string }>;
      };
      assert.deepEqual(
        uploads.Uploads.map((entry) => [entry.Key, entry.UploadId]),
        [['manual/obj.bin', upload.UploadId]],
      );
      await writeFile(
        join(work, 'parts.json'),
        JSON.stringify({ Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) }),
      );
      const done = JSON.parse(
        await aws(
          's3api',
          'complete-multipart-upload',
          '--bucket',
          'cli-bucket',
          '--key',
          'manual/obj.bin',
          '--upload-id',
          upload.UploadId,
          '--multipart-upload',
          'file://parts.json',
        ),
      ) as { ETag: string };
      assert.equal(done.ETag, `"${multipartEtag(Buffer.concat([first, second]), 5 * 1024 * 1024)}"`);
      const stored = await readAll((await fixture.store.get('cli-bucket', 'manual/obj.bin')).body);
      assert.ok(stored.equals(Buffer.concat([first, second])));
    });

    test('s3 presign gives a URL that plain HTTP can fetch', async () => {
      const url = (await aws('s3', 'presign', 's3://cli-bucket/digits.txt', '--expires-in', '60')).trim();
      const reply = await fetch(url);
      assert.equal(reply.status, 200);
      assert.equal(await reply.text(), '0123456789');
    });

    test('s3 rm --recursive (DeleteObjects) empties a folder, s3 rb removes the bucket', async () => {
      const output = await aws('s3', 'rm', '--recursive', 's3://cli-bucket/tree/');
      assert.equal(output.match(/^delete: /gm)?.length, Object.keys(TREE).length);
      assert.deepEqual((await fixture.store.list('cli-bucket', { prefix: 'tree/' })).objects, []);
      await aws('s3', 'rb', '--force', 's3://cli-bucket');
      assert.deepEqual(await fixture.store.listBuckets(), []);
    });

    test('a wrong secret is SignatureDoesNotMatch, an unknown key InvalidAccessKeyId', async () => {
      const wrongSecret = await runClient(AWS_CLI, ['--endpoint-url', fixture.url, 's3', 'ls'], {
        ...fixture.clientEnv,
        AWS_SECRET_ACCESS_KEY: 'not-the-secret',
      });
      assert.notEqual(wrongSecret.code, 0);
      assert.match(wrongSecret.stderr, /SignatureDoesNotMatch/);
      const unknownKey = await runClient(AWS_CLI, ['--endpoint-url', fixture.url, 's3', 'ls'], {
        ...fixture.clientEnv,
        AWS_ACCESS_KEY_ID: 'AKIDUNKNOWNUNKNOWN00',
      });
      assert.match(unknownKey.stderr, /InvalidAccessKeyId/);
    });
  },
);
