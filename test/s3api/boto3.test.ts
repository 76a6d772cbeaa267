import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readAll } from '../storage/object-store.contract.js';
import { BOTO3_SCRIPT } from './boto3-program.js';
import { startS3Fixture } from './s3-fixture.js';
import { mustRun, PYTHON, runClient } from './run-client.js';

const hasBoto3 =
  existsSync(PYTHON) && (await runClient(PYTHON, ['-c', 'import boto3'], process.env)).code === 0;

test(
  'boto3: put, get, ranges, listings, presigned URLs, multipart (list parts, part copy, ETag form), copies, conditionals, deletes, error codes',
  { skip: !hasBoto3 && 'python3-boto3 not installed' },
  async () => {
    const fixture = await startS3Fixture();
    try {
      const out = JSON.parse(
        await mustRun(PYTHON, ['-c', BOTO3_SCRIPT, fixture.url], fixture.clientEnv),
      ) as Record<string, unknown>;
      const dataKeys = Array.from({ length: 25 }, (_, i) => `data/${String(i).padStart(3, '0')}.txt`);
      const odd = 'data/sub dir/é ü ß+&=?#%.txt';
      assert.equal(out.get, 'item 7');
      assert.deepEqual(out.metadata, { index: '7' });
      assert.equal(out.range, 'item');
      assert.equal(out.odd, 'odd name');
      assert.deepEqual(out.v2_keys, [...dataKeys, odd]);
      assert.equal(out.v2_pages, 7);
      assert.deepEqual(out.v1_keys, dataKeys);
      assert.deepEqual(out.v1_prefixes, ['data/sub dir/']);
      assert.equal(out.presigned_get, 'odd name');
      assert.equal(out.presigned_put, 'via presigned put');
      assert.equal(out.deleted, 10);
      assert.equal(out.remaining, 15);
      assert.deepEqual(out.no_such_key, ['NoSuchKey', 404]);
      assert.deepEqual(out.no_such_bucket, ['NoSuchBucket', 404]);
      assert.deepEqual(out.not_empty, ['BucketNotEmpty', 409]);
      assert.deepEqual(out.head_missing, ['404', 404]);
      assert.equal(out.multipart_back, out.multipart_md5);
      // S3's multipart ETag, computed by the test program from the 5 MiB parts it sent.
      assert.match(String(out.multipart_etag), /^"[0-9a-f]{32}-3"$/);
      assert.equal(out.multipart_etag, out.multipart_etag_expected);
      assert.deepEqual(out.list_uploads, ['multipart/manual.bin']);
      const partEtags = out.part_etags as string[];
      assert.deepEqual(out.list_parts, [
        [1, 5 * 1024 * 1024, partEtags[0]],
        [2, 4, partEtags[1]],
      ]);
      assert.match(String(out.manual_etag), /^"[0-9a-f]{32}-2"$/);
      assert.deepEqual(out.manual_head, [5 * 1024 * 1024 + 4, 'application/x-manual', { by: 'hand' }]);
      assert.equal(out.manual_md5, out.manual_expected_md5);
      assert.deepEqual(out.copy_kept, [true, 'text/plain', 'inline', { a: '1' }]);
      assert.deepEqual(out.copy_replaced, ['text/x-new', null, { b: '2' }]);
      assert.deepEqual(out.copy_if_match_wrong, ['PreconditionFailed', 412]);
      assert.deepEqual(out.get_if_none_match, ['304', 304]);
      assert.deepEqual(out.get_if_match_wrong, ['PreconditionFailed', 412]);
      assert.deepEqual(out.put_if_none_match_star, ['PreconditionFailed', 412]);
      assert.deepEqual(out.versions, [
        ['copy/fresh.txt', 'null', true],
        ['copy/kept.txt', 'null', true],
        ['copy/replaced.txt', 'null', true],
        ['copy/src.txt', 'null', true],
      ]);
      assert.equal(out.presigned_typed, 'text/csv');
      assert.equal(out.presigned_wrong_type, 403);
      assert.deepEqual(out.presigned_override, ['application/x-override', 'a,b']);
      assert.deepEqual(out.aborted, ['NoSuchUpload', 404]);
      assert.equal((await readAll((await fixture.store.get('py-bucket', odd)).body)).toString(), 'odd name');
    } finally {
      await fixture.close();
    }
  },
);
