import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlatformError } from '../core/index.js';
import { checkOutputProviders, listOutputFiles, matchesOutput, outputKey } from './stage-out.js';

void test('listing: recursive, sorted, `/` separators; links followed only to files inside the folder', async () => {
  const root = await mkdtemp(join(tmpdir(), 'nubes-stage-out-'));
  const out = join(root, 'output');
  try {
    await mkdir(join(out, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(out, 'b.txt'), 'b');
    await writeFile(join(out, 'sub', 'deeper', 'c.csv'), 'c');
    await writeFile(join(root, 'outside.txt'), 'secret');
    await symlink('/etc/passwd', join(out, 'passwd'));
    await symlink(join(root, 'outside.txt'), join(out, 'outside-link'));
    await symlink('../b.txt', join(out, 'sub', 'inside-link'));
    await symlink('sub', join(out, 'dir-link'));
    await symlink('missing', join(out, 'broken'));
    execFileSync('mkfifo', [join(out, 'fifo')]);

    const listing = await listOutputFiles(out);
    assert.deepEqual(
      listing.files.map((f) => f.name),
      ['b.txt', 'sub/deeper/c.csv', 'sub/inside-link'],
    );
    assert.equal(
      listing.files.find((f) => f.name === 'sub/inside-link')?.path,
      join(await realpath(out), 'b.txt'),
    );
    const skipped = listing.skipped.map((s) => s.split(':')[0]).sort();
    assert.deepEqual(skipped, ['broken', 'dir-link', 'fifo', 'outside-link', 'passwd']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

void test("OSCAR's filters: any prefix and any suffix must match; empty lists match everything", () => {
  const filters = { prefixes: ['img/', 'thumb'], suffixes: ['.png', '.jpg'] };
  assert.equal(matchesOutput('img/a.png', filters), true);
  assert.equal(matchesOutput('thumb-a.jpg', filters), true);
  assert.equal(matchesOutput('img/a.gif', filters), false);
  assert.equal(matchesOutput('other/a.png', filters), false);
  assert.equal(matchesOutput('anything', { prefixes: [], suffixes: [] }), true);
});

void test('output keys: <folder>/<relative name>, or the bare name for a whole bucket', () => {
  assert.equal(outputKey({ folder: 'results/v1' }, 'sub/a.txt'), 'results/v1/sub/a.txt');
  assert.equal(outputKey({ folder: '' }, 'a.txt'), 'a.txt');
});

void test('outputs on providers the service does not define are refused with a clear, final error', () => {
  const output = { provider: 's3.aws', path: 'b/x', bucket: 'b', folder: 'x', prefixes: [], suffixes: [] };
  const none = { has: () => false };
  assert.throws(
    () => checkOutputProviders([output], none),
    (error: unknown) =>
      error instanceof PlatformError &&
      error.code === 'VALIDATION_FAILED' &&
      !error.retryable &&
      /s3\.aws/.test(error.message),
  );
  checkOutputProviders([{ ...output, provider: 'minio.default' }], none);
  checkOutputProviders([output], { has: (id: string) => id === 's3.aws' });
});
