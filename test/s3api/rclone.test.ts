/**
 * rclone (Debian package) against the S3 endpoint, configured by environment variables for an S3 remote:
 * `copy` (a file large enough for multipart), `sync` (uploads, replaces and deletes), `check` (which must
 * also notice a changed object), with contents and rclone's metadata verified on the store.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readAll } from '../storage/object-store.contract.js';
import { ACCESS_KEY_ID, REGION, SECRET_KEY, startS3Fixture, type S3Fixture } from './s3-fixture.js';
import { mustRun, runClient } from './run-client.js';

const RCLONE = '/usr/bin/rclone';
const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('hex');

describe(
  'rclone (Debian rclone) against the S3 endpoint',
  { skip: !existsSync(RCLONE) && 'rclone not installed' },
  () => {
    let fixture: S3Fixture;
    let work: string;
    let env: NodeJS.ProcessEnv;
    const rclone = (...args: string[]) => mustRun(RCLONE, args, env, work);

    before(async () => {
      fixture = await startS3Fixture();
      work = join(fixture.dir, 'work');
      await mkdir(join(work, 'tree', 'sub'), { recursive: true });
      env = {
        ...fixture.clientEnv,
        // No config file: the remote "nubes" is defined by these variables alone.
        RCLONE_CONFIG: join(fixture.dir, 'rclone.conf'),
        RCLONE_CONFIG_NUBES_TYPE: 's3',
        RCLONE_CONFIG_NUBES_PROVIDER: 'Other',
        RCLONE_CONFIG_NUBES_ENV_AUTH: 'false',
        RCLONE_CONFIG_NUBES_ACCESS_KEY_ID: ACCESS_KEY_ID,
        RCLONE_CONFIG_NUBES_SECRET_ACCESS_KEY: SECRET_KEY,
        RCLONE_CONFIG_NUBES_REGION: REGION,
        RCLONE_CONFIG_NUBES_ENDPOINT: fixture.url,
        RCLONE_CONFIG_NUBES_FORCE_PATH_STYLE: 'true',
        // Multipart from 5 MiB on, so that a modest file exercises it.
        RCLONE_S3_UPLOAD_CUTOFF: '5M',
        RCLONE_S3_CHUNK_SIZE: '5M',
      };
    });
    after(async () => {
      await fixture.close();
    });

    test('copy: a 12 MiB file goes up in parts, keeps its MD5 (as rclone metadata) and its mtime', async () => {
      const big = randomBytes(12 * 1024 * 1024 + 17);
      await writeFile(join(work, 'big.bin'), big);
      const mtime = new Date('2024-03-01T12:00:00Z');
      await utimes(join(work, 'big.bin'), mtime, mtime);
      await rclone('mkdir', 'nubes:rc-bucket');
      fixture.events.length = 0;
      await rclone('copy', 'big.bin', 'nubes:rc-bucket/data/');
      const info = await fixture.store.head('rc-bucket', 'data/big.bin');
      assert.match(info.etag, /^[0-9a-f]{32}-3$/, 'a multipart ETag of 3 parts');
      assert.equal(info.metadata.md5chksum, Buffer.from(md5(big), 'hex').toString('base64'));
      assert.equal(Number(info.metadata.mtime), mtime.getTime() / 1000);
      assert.deepEqual(
        fixture.events.map((event) => event.name),
        ['ObjectCreated:CompleteMultipartUpload'],
      );
      const stored = await readAll((await fixture.store.get('rc-bucket', 'data/big.bin')).body);
      assert.equal(md5(stored), md5(big));
      // rclone reads the MD5 back from the metadata, so a multipart object still has a hash to check.
      const hashes = await rclone('md5sum', 'nubes:rc-bucket/data/');
      assert.equal(hashes.trim(), `${md5(big)}  big.bin`);
      await rclone('copy', 'nubes:rc-bucket/data/big.bin', 'down/');
      assert.ok((await readFile(join(work, 'down', 'big.bin'))).equals(big));
    });

    test('sync mirrors a tree (new, changed, deleted), and check compares every file', async () => {
      await writeFile(join(work, 'tree', 'a.txt'), 'alpha\n');
      await writeFile(join(work, 'tree', 'sub', 'b.txt'), 'bravo\n');
      await writeFile(join(work, 'tree', 'gone.txt'), 'to be removed\n');
      await rclone('sync', 'tree', 'nubes:rc-bucket/tree');
      assert.deepEqual(
        (await fixture.store.list('rc-bucket', { prefix: 'tree/' })).objects.map((o) => o.key),
        ['tree/a.txt', 'tree/gone.txt', 'tree/sub/b.txt'],
      );
      await writeFile(join(work, 'tree', 'a.txt'), 'alpha, changed\n');
      await rm(join(work, 'tree', 'gone.txt'));
      await writeFile(join(work, 'tree', 'sub', 'c.txt'), 'charlie\n');
      fixture.events.length = 0;
      await rclone('sync', 'tree', 'nubes:rc-bucket/tree');
      const listing = (await fixture.store.list('rc-bucket', { prefix: 'tree/' })).objects;
      assert.deepEqual(
        listing.map((o) => [o.key, o.etag]),
        [
          ['tree/a.txt', md5('alpha, changed\n')],
          ['tree/sub/b.txt', md5('bravo\n')],
          ['tree/sub/c.txt', md5('charlie\n')],
        ],
      );
      assert.deepEqual(fixture.events.map((event) => [event.name, event.key]).sort(), [
        ['ObjectCreated:Put', 'tree/a.txt'],
        ['ObjectCreated:Put', 'tree/sub/c.txt'],
        ['ObjectRemoved:Delete', 'tree/gone.txt'],
      ]);
      const check = await runClient(RCLONE, ['check', 'tree', 'nubes:rc-bucket/tree'], env, work);
      assert.equal(check.code, 0, check.stderr);
      assert.match(check.stderr, /0 differences found/);
      assert.match(check.stderr, /3 matching files/);

      // Changed behind rclone's back: check must see it.
      await fixture.store.put('rc-bucket', 'tree/sub/b.txt', Buffer.from('tampered\n'));
      const mismatch = await runClient(RCLONE, ['check', 'tree', 'nubes:rc-bucket/tree'], env, work);
      assert.notEqual(mismatch.code, 0);
      assert.match(mismatch.stderr, /1 differences found/);
      assert.match(mismatch.stderr, /sub\/b\.txt/);
    });

    test('lsjson lists sizes and hashes; purge empties and removes the bucket', async () => {
      const entries = JSON.parse(await rclone('lsjson', '-R', '--hash', 'nubes:rc-bucket/tree')) as Array<{
        Path: string;
        Size: number;
        IsDir: boolean;
        Hashes?: { md5?: string };
      }>;
      const files = entries
        .filter((entry) => !entry.IsDir)
        .map((entry) => [entry.Path, entry.Size, entry.Hashes?.md5]);
      assert.deepEqual(files.sort(), [
        ['a.txt', 15, md5('alpha, changed\n')],
        ['sub/b.txt', 9, md5('tampered\n')],
        ['sub/c.txt', 8, md5('charlie\n')],
      ]);
      await rclone('purge', 'nubes:rc-bucket');
      assert.deepEqual(
        (await fixture.store.listBuckets()).map((bucket) => bucket.name),
        [],
      );
    });
  },
);
