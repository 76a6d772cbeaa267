import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/index.js';
import { createPlainRunner, runSupervised, type ScriptRunner } from '../../src/supervisor/index.js';
import { MemoryObjectStore } from './memory-store.js';
import { TestDataDir, makeOutput, makeService, readLog } from './helpers.js';

void describe('supervisor with the plain runner (no sandbox): staging paths', () => {
  let data: TestDataDir;
  const runner: ScriptRunner = createPlainRunner({ killGraceMs: 200 });

  before(async () => {
    data = await TestDataDir.create();
  });

  after(async () => {
    await data.remove();
  });

  void test('a store without local files (remote S3): the input is streamed in', async () => {
    const store = new MemoryObjectStore();
    await store.createBucket('remote');
    await store.put('remote', 'deep/key/file.dat', Buffer.from('streamed bytes'));
    const invocation = await data.invocation(makeService({ script: 'cat "$INPUT_FILE_PATH"\n' }), {
      input: { bucket: 'remote', key: 'deep/key/file.dat' },
    });
    const result = await runSupervised(invocation, { store, runScript: runner, logger: silentLogger() });
    assert.equal(result.status, 'succeeded');
    assert.equal(await readLog(invocation), 'streamed bytes');
  });

  void test('a store with local files but no sandbox: the file is cloned, so the script cannot alter the object', async () => {
    const store = new MemoryObjectStore({ filesDir: join(data.root, 'objects') });
    await store.createBucket('local');
    await store.put('local', 'a.txt', Buffer.from('stored'));
    const invocation = await data.invocation(
      makeService({ script: 'echo tampered > "$INPUT_FILE_PATH"\n' }),
      {
        input: { bucket: 'local', key: 'a.txt' },
      },
    );
    const result = await runSupervised(invocation, { store, runScript: runner, logger: silentLogger() });
    assert.equal(result.status, 'succeeded');
    const file = await store.localPath('local', 'a.txt');
    assert.equal(await readFile(file ?? '', 'utf8'), 'stored');
  });

  void test('an upload to a missing bucket fails the job with BUCKET_NOT_FOUND, after the script ran', async () => {
    const store = new MemoryObjectStore();
    const invocation = await data.invocation(
      makeService({ script: 'echo r > "$TMP_OUTPUT_DIR/r.txt"\n', output: [makeOutput('missing-bucket/x')] }),
      { body: '' },
    );
    const result = await runSupervised(invocation, { store, runScript: runner, logger: silentLogger() });
    assert.equal(result.status, 'failed');
    assert.equal(result.exitCode, 0);
    assert.equal(result.error?.code, 'BUCKET_NOT_FOUND');
    assert.match(await readLog(invocation), /\[nubes\] job failed: no bucket "missing-bucket"/);
  });

  void test('a script with a shebang is run directly', async () => {
    const store = new MemoryObjectStore();
    const invocation = await data.invocation(
      makeService({
        script: '#!/usr/bin/env python3\nimport os\nprint("py", os.environ["OSCAR_SERVICE_NAME"])\n',
      }),
      { body: '' },
    );
    const result = await runSupervised(invocation, { store, runScript: runner, logger: silentLogger() });
    assert.equal(result.status, 'succeeded', await readLog(invocation));
    assert.equal(await readLog(invocation), 'py svc\n');
  });
});
