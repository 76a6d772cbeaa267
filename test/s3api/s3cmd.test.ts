/**
 * s3cmd (Debian package) against the S3 endpoint with a temporary config file: `mb`, `put` (plain and
 * multipart, with a MIME type and headers), `ls`, `info`, `get`, `cp`, `del`, `rb`, checked on the store.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readAll } from '../storage/object-store.contract.js';
import { ACCESS_KEY_ID, REGION, SECRET_KEY, startS3Fixture, type S3Fixture } from './s3-fixture.js';
import { mustRun, runClient } from './run-client.js';

const S3CMD = '/usr/bin/s3cmd';
const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('hex');

describe(
  's3cmd (Debian s3cmd) against the S3 endpoint',
  { skip: !existsSync(S3CMD) && 's3cmd not installed' },
  () => {
    let fixture: S3Fixture;
    let work: string;
    let config: string;
    const s3cmd = (...args: string[]) => mustRun(S3CMD, ['-c', config, ...args], fixture.clientEnv, work);

    before(async () => {
      fixture = await startS3Fixture();
      work = join(fixture.dir, 'work');
      await mkdir(work, { recursive: true });
      config = join(fixture.dir, 's3cfg');
      const host = `127.0.0.1:${fixture.port}`;
      // host_bucket without %(bucket)s: path-style requests.
      await writeFile(
        config,
        [
          '[default]',
          `access_key = ${ACCESS_KEY_ID}`,
          `secret_key = ${SECRET_KEY}`,
          `host_base = ${host}`,
          `host_bucket = ${host}`,
          `bucket_location = ${REGION}`,
          'use_https = False',
          'signature_v2 = False',
          'check_ssl_certificate = False',
          'guess_mime_type = True',
          'multipart_chunk_size_mb = 5',
          '',
        ].join('\n'),
      );
    });
    after(async () => {
      await fixture.close();
    });

    test('mb, put with MIME type and headers, ls, info, get', async () => {
      await s3cmd('mb', 's3://cmd-bucket');
      assert.equal((await fixture.store.headBucket('cmd-bucket')).name, 'cmd-bucket');
      await writeFile(join(work, 'notes.txt'), 'some notes\n');
      await s3cmd(
        'put',
        '--mime-type=text/x-notes',
        '--add-header=Cache-Control:max-age=300',
        '--add-header=x-amz-meta-project:nubes',
        'notes.txt',
        's3://cmd-bucket/docs/notes.txt',
      );
      const info = await fixture.store.head('cmd-bucket', 'docs/notes.txt');
      assert.equal(info.etag, md5('some notes\n'));
      assert.equal(info.contentType, 'text/x-notes');
      assert.equal(info.contentHeaders?.cacheControl, 'max-age=300');
      assert.equal(info.metadata.project, 'nubes');
      // s3cmd keeps the file's attributes (mode, times, md5) in its own metadata field.
      assert.match(info.metadata['s3cmd-attrs'] ?? '', new RegExp(`md5:${md5('some notes\n')}`));

      const listing = await s3cmd('ls', '-r', 's3://cmd-bucket');
      assert.match(listing, /\s11\s+s3:\/\/cmd-bucket\/docs\/notes\.txt/);
      const described = await s3cmd('info', 's3://cmd-bucket/docs/notes.txt');
      assert.match(described, new RegExp(`MD5 sum:\\s+${md5('some notes\n')}`));
      assert.match(described, /MIME type:\s+text\/x-notes/);
      await s3cmd('get', 's3://cmd-bucket/docs/notes.txt', 'notes-back.txt');
      assert.equal(await readFile(join(work, 'notes-back.txt'), 'utf8'), 'some notes\n');
    });

    test('a 12 MiB put goes up in 5 MiB parts and comes back byte for byte; cp copies server-side', async () => {
      const big = randomBytes(12 * 1024 * 1024 + 3);
      await writeFile(join(work, 'big.bin'), big);
      fixture.events.length = 0;
      const output = await s3cmd('put', '--multipart-chunk-size-mb=5', 'big.bin', 's3://cmd-bucket/big.bin');
      assert.match(output, /12582915 bytes/);
      const info = await fixture.store.head('cmd-bucket', 'big.bin');
      assert.match(info.etag, /^[0-9a-f]{32}-3$/);
      assert.equal(md5(await readAll((await fixture.store.get('cmd-bucket', 'big.bin')).body)), md5(big));
      assert.deepEqual(
        fixture.events.map((event) => [event.name, event.size]),
        [['ObjectCreated:CompleteMultipartUpload', big.length]],
      );
      await s3cmd('get', '--force', 's3://cmd-bucket/big.bin', 'big-back.bin');
      assert.ok((await readFile(join(work, 'big-back.bin'))).equals(big));

      await s3cmd('cp', 's3://cmd-bucket/big.bin', 's3://cmd-bucket/copies/big.bin');
      const copy = await fixture.store.head('cmd-bucket', 'copies/big.bin');
      assert.equal(copy.etag, info.etag);
      assert.equal(fixture.events.at(-1)?.name, 'ObjectCreated:Copy');
    });

    test('del removes objects (ObjectRemoved:Delete), rb refuses a full bucket then removes an empty one', async () => {
      fixture.events.length = 0;
      await s3cmd('del', 's3://cmd-bucket/big.bin');
      await assert.rejects(fixture.store.head('cmd-bucket', 'big.bin'), { code: 'OBJECT_NOT_FOUND' });
      assert.deepEqual(
        fixture.events.map((event) => [event.name, event.key]),
        [['ObjectRemoved:Delete', 'big.bin']],
      );
      const full = await runClient(S3CMD, ['-c', config, 'rb', 's3://cmd-bucket'], fixture.clientEnv, work);
      assert.notEqual(full.code, 0);
      assert.match(full.stderr, /BucketNotEmpty/);
      await s3cmd('del', '--recursive', '--force', 's3://cmd-bucket');
      assert.deepEqual((await fixture.store.list('cmd-bucket')).objects, []);
      await s3cmd('rb', 's3://cmd-bucket');
      assert.deepEqual(await fixture.store.listBuckets(), []);
    });
  },
);
