import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InvocationResult } from '../executors/executor.js';
import { buildSyncResponse } from './sync-response.js';

function result(
  outputDir: string,
  outputFiles: string[],
  overrides: Partial<InvocationResult> = {},
): InvocationResult {
  return {
    status: 'succeeded',
    exitCode: 0,
    termSignal: null,
    error: null,
    outputs: [],
    outputFiles,
    outputDir,
    startedMs: 0,
    finishedMs: 1,
    ...overrides,
  };
}

void test('OSCAR rules and the raw mode, for 0, 1 and 2 output files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-sync-'));
  try {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'image.png'), Buffer.from([137, 80, 78, 71]));
    await writeFile(join(dir, 'sub', 'data.csv'), 'a,b\n');

    const none = await buildSyncResponse(result(dir, []), 'the log\n');
    assert.deepEqual(
      [none.source, none.body.toString(), none.contentType],
      ['log', 'the log\n', 'text/plain; charset=utf-8'],
    );

    const one = await buildSyncResponse(result(dir, ['image.png']), 'log');
    assert.equal(one.source, 'file');
    assert.equal(one.body.toString(), Buffer.from([137, 80, 78, 71]).toString('base64'));
    const oneRaw = await buildSyncResponse(result(dir, ['image.png']), 'log', { raw: true });
    assert.deepEqual(oneRaw.body, Buffer.from([137, 80, 78, 71]));
    assert.equal(oneRaw.contentType, 'image/png');

    const two = await buildSyncResponse(result(dir, ['image.png', 'sub/data.csv']), 'log');
    assert.equal(two.source, 'zip');
    const twoRaw = await buildSyncResponse(result(dir, ['image.png', 'sub/data.csv']), 'log', { raw: true });
    assert.equal(twoRaw.contentType, 'application/zip');
    assert.deepEqual(Buffer.from(two.body.toString(), 'base64'), twoRaw.body);
    const zipPath = join(dir, 'answer.zip');
    await writeFile(zipPath, twoRaw.body);
    assert.deepEqual(execFileSync('unzip', ['-Z1', zipPath], { encoding: 'utf8' }).trim().split('\n'), [
      'image.png',
      'sub/data.csv',
    ]);
    assert.equal(execFileSync('unzip', ['-p', zipPath, 'sub/data.csv'], { encoding: 'utf8' }), 'a,b\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('a failed job answers its log and carries the error, exit code and log for the caller', async () => {
  const error = { code: 'JOB_FAILED' as const, message: 'the script exited with code 2', retryable: false };
  const answer = await buildSyncResponse(
    result('/nonexistent', ['ignored.txt'], { status: 'failed', exitCode: 2, error }),
    'boom\n',
  );
  assert.equal(answer.failed, true);
  assert.equal(answer.exitCode, 2);
  assert.deepEqual(answer.error, error);
  assert.equal(answer.log, 'boom\n');
  assert.equal(answer.source, 'log');
});
