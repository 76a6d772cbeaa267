import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MultipartStaging, type UploadDescription } from './multipart-staging.js';

const description = (key: string): UploadDescription => ({
  bucket: 'b',
  key,
  contentType: 'text/plain',
  metadata: {},
  contentHeaders: {},
  principal: 'admin',
  createdMs: 1,
});

void test('start-up recovery removes partial parts, undescribed uploads and uploads already stored', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-mp-'));
  try {
    const staging = new MultipartStaging(dir);
    const stored = await staging.create(description('stored'));
    await staging.writePart(stored, 1, Readable.from([Buffer.from('done')]));
    const pending = await staging.create(description('pending'));
    const part = await staging.writePart(pending, 1, Readable.from([Buffer.from('kept')]));
    // A part whose request died with the process, and an upload killed before its description was written.
    await writeFile(join(dir, pending, 'part-00002.0d1c.tmp'), 'partial');
    const undescribed = 'f'.repeat(32);
    await mkdir(join(dir, undescribed));

    const asked: string[] = [];
    const removed = await staging.recover(async (upload, etags) => {
      asked.push(`${upload.key}:${etags.length}`);
      return upload.key === 'stored';
    });
    assert.equal(removed, 2);
    assert.deepEqual(asked.sort(), ['pending:1', 'stored:1']);
    assert.deepEqual((await readdir(dir)).sort(), [pending]);
    assert.deepEqual((await readdir(join(dir, pending))).sort(), [
      'part-00001',
      'part-00001.json',
      'upload.json',
    ]);
    assert.deepEqual([...(await staging.parts(pending)).values()], [part]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
