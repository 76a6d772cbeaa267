import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backendWarnings, validateServiceJson } from '../../src/fdl/index.js';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/index.js';
import { createLocalExecutor, type LocalExecutor } from '../../src/executors/index.js';
import { buildSyncResponse } from '../../src/supervisor/index.js';
import { MemoryObjectStore } from './memory-store.js';
import { TestDataDir, makeOutput, makeService, readLog } from './helpers.js';

void describe('local executor: staging, outputs, exit codes (real child processes, sandbox auto)', () => {
  let data: TestDataDir;
  let store: MemoryObjectStore;
  let executor: LocalExecutor;

  before(async () => {
    data = await TestDataDir.create();
    // Objects kept as files, like the embedded store: the input is bound (or cloned), never streamed.
    store = new MemoryObjectStore({ filesDir: join(data.root, 'objects') });
    for (const bucket of ['inbox', 'out', 'texts', 'all']) await store.createBucket(bucket);
    executor = await createLocalExecutor({
      dataDir: data.root,
      sandbox: 'auto',
      maxConcurrentJobs: 4,
      store,
      logger: silentLogger(),
    });
  });

  after(async () => {
    // When before() failed half-way executor is unset; the data directory must go anyway.
    try {
      await executor.close();
    } finally {
      await data.remove();
    }
  });

  void test('capabilities and deploy warnings describe what the local executor honours', async () => {
    assert.deepEqual(executor.capabilities, {
      sync: true,
      gpu: false,
      containers: false,
      maxConcurrency: 4,
      limits: { timeoutMs: 0, memoryBytes: 0 },
    });
    assert.equal(executor.name, 'local');
    // What the capabilities imply is said once, by the FDL's backendWarnings; deploy adds only server state.
    const json = validateServiceJson({
      name: 'gpu-job',
      image: 'ghcr.io/x/y:1',
      script: 'true',
      enable_gpu: true,
    });
    const warnings = [
      ...backendWarnings(json, executor.capabilities, executor.name),
      ...(await executor.deploy(makeService({ image: 'ghcr.io/x/y:1', enableGpu: true }))).warnings,
    ];
    assert.equal(warnings.filter((w) => w.includes('ghcr.io/x/y:1')).length, 1, warnings.join('\n'));
    assert.equal(warnings.filter((w) => w.includes('enable_gpu')).length, 1, warnings.join('\n'));
  });

  void test('a script writing two files: both uploaded to every matching output, keys and filters as OSCAR', async () => {
    await store.put('inbox', 'photos/red flower.txt', Buffer.from('hello input'));
    const service = makeService({
      script: [
        'set -e',
        'cat "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/copy.txt"',
        'mkdir -p "$TMP_OUTPUT_DIR/sub"',
        'echo data > "$TMP_OUTPUT_DIR/sub/result.csv"',
        'echo done',
      ].join('\n'),
      output: [
        makeOutput('out/results'),
        makeOutput('texts', { suffixes: ['.txt'] }),
        makeOutput('all/deep/er', { prefixes: ['sub/'] }),
      ],
    });
    const invocation = await data.invocation(service, {
      input: { bucket: 'inbox', key: 'photos/red flower.txt' },
    });
    const result = await executor.run(invocation);
    assert.equal(result.status, 'succeeded', await readLog(invocation));
    assert.equal(result.exitCode, 0);
    assert.equal(result.error, null);
    assert.deepEqual(result.outputFiles, ['copy.txt', 'sub/result.csv']);
    assert.deepEqual(result.outputs, [
      { provider: 'minio.default', bucket: 'out', key: 'results/copy.txt' },
      { provider: 'minio.default', bucket: 'texts', key: 'copy.txt' },
      { provider: 'minio.default', bucket: 'out', key: 'results/sub/result.csv' },
      { provider: 'minio.default', bucket: 'all', key: 'deep/er/sub/result.csv' },
    ]);
    assert.equal(store.bytes('out', 'results/copy.txt')?.toString(), 'hello input');
    assert.equal(store.bytes('out', 'results/sub/result.csv')?.toString(), 'data\n');
    assert.deepEqual(store.keys('texts'), ['copy.txt']);
    assert.deepEqual(store.keys('all'), ['deep/er/sub/result.csv']);
    assert.match(await readLog(invocation), /^done$/m);
    assert.ok(result.startedMs <= result.finishedMs);
  });

  void test('a failing script (exit 3): failed, exitCode 3, JOB_FAILED, stdout and stderr in the log, nothing uploaded', async () => {
    const service = makeService({
      script: 'echo "to stdout"\necho "to stderr" >&2\necho x > "$TMP_OUTPUT_DIR/partial.txt"\nexit 3\n',
      output: [makeOutput('out/failed')],
    });
    const invocation = await data.invocation(service, { body: '{"a":1}' });
    const result = await executor.run(invocation);
    assert.equal(result.status, 'failed');
    assert.equal(result.exitCode, 3);
    assert.equal(result.error?.code, 'JOB_FAILED');
    assert.equal(result.error?.retryable, false);
    const log = await readLog(invocation);
    assert.match(log, /to stdout\nto stderr\n/);
    assert.match(log, /\[nubes\] the script exited with code 3/);
    assert.deepEqual(
      store.keys('out').filter((k) => k.startsWith('failed/')),
      [],
    );
    assert.deepEqual(result.outputs, []);
    assert.deepEqual(result.outputFiles, ['partial.txt']);
  });

  void test('the OSCAR environment is set with the right values, and only it', async () => {
    await store.put('inbox', 'env/data.bin', Buffer.from('x'));
    const service = makeService({
      name: 'envsvc',
      variables: { GREETING: 'hi there', PATH: '/usr/bin:/bin', JOB_UUID: 'must-be-overridden' },
      secrets: { API_TOKEN: 's3cr3t' },
      script: 'env > "$TMP_OUTPUT_DIR/env.txt"\n',
    });
    const event = JSON.stringify({
      Records: [{ eventSource: 'minio:s3', s3: { object: { key: 'env%2Fdata.bin' } } }],
    });
    const invocation = await data.invocation(service, {
      input: { bucket: 'inbox', key: 'env/data.bin', eventTimeIso: '2026-05-06T07:08:09.000Z' },
      event,
    });
    const result = await executor.run(invocation);
    assert.equal(result.status, 'succeeded', await readLog(invocation));
    const env = parseEnv(execFileSync('cat', [join(result.outputDir, 'env.txt')], { encoding: 'utf8' }));
    const inputDir = join(invocation.workDir, 'input');
    assert.equal(env.INPUT_FILE_PATH, join(inputDir, 'data.bin'));
    assert.equal(env.TMP_INPUT_DIR, inputDir);
    assert.equal(env.TMP_OUTPUT_DIR, join(invocation.workDir, 'output'));
    assert.equal(env.STORAGE_OBJECT_KEY, 'env/data.bin');
    assert.equal(env.EVENT, event);
    assert.equal(env.EVENT_TIME, '2026-05-06T07:08:09.000Z');
    assert.equal(env.JOB_UUID, invocation.jobId);
    assert.equal(env.OSCAR_SERVICE_NAME, 'envsvc');
    assert.equal(env.GREETING, 'hi there');
    assert.equal(env.API_TOKEN, 's3cr3t');
    assert.equal(env.PATH, '/usr/bin:/bin');
    assert.equal(env.HOME, invocation.workDir);
    assert.equal(env.LANG, 'C.UTF-8');
    const allowed = new Set([
      ...['INPUT_FILE_PATH', 'TMP_INPUT_DIR', 'TMP_OUTPUT_DIR', 'STORAGE_OBJECT_KEY', 'EVENT', 'EVENT_TIME'],
      ...['JOB_UUID', 'OSCAR_SERVICE_NAME', 'GREETING', 'API_TOKEN', 'PATH', 'HOME', 'LANG'],
      'PWD', // set by the shell itself
    ]);
    assert.deepEqual(
      Object.keys(env).filter((name) => !allowed.has(name)),
      [],
      'no variable of the server reaches the script',
    );
  });

  void test('http invocations: the body is decoded by OSCAR rule into event-file-<uuid>', async () => {
    const service = makeService({ script: 'basename "$INPUT_FILE_PATH"; cat "$INPUT_FILE_PATH"\n' });
    const base64 = await data.invocation(service, { body: Buffer.from('plain bytes').toString('base64') });
    const result = await executor.run(base64);
    assert.equal(result.status, 'succeeded');
    assert.match(await readLog(base64), /^event-file-[0-9a-f-]{36}\nplain bytes$/);
    const json = await data.invocation(service, { body: '{"x": 1}' });
    await executor.run(json);
    assert.match(await readLog(json), /\{"x": 1\}$/);
  });

  void test('output traversal: a symlink to /etc/passwd is not uploaded, a link inside TMP_OUTPUT_DIR is', async () => {
    const service = makeService({
      script: [
        'cd "$TMP_OUTPUT_DIR"',
        'ln -s /etc/passwd passwd.txt',
        'ln -s / root-link',
        'echo ok > real.txt',
        'ln -s real.txt alias.txt',
        'mkfifo pipe.txt',
      ].join('\n'),
      output: [makeOutput('out/trav')],
    });
    const invocation = await data.invocation(service, { body: '' });
    const result = await executor.run(invocation);
    assert.equal(result.status, 'succeeded', await readLog(invocation));
    assert.deepEqual(result.outputFiles, ['alias.txt', 'real.txt']);
    assert.deepEqual(
      store.keys('out').filter((k) => k.startsWith('trav/')),
      ['trav/alias.txt', 'trav/real.txt'],
    );
    assert.equal(store.bytes('out', 'trav/alias.txt')?.toString(), 'ok\n');
    const log = await readLog(invocation);
    assert.match(log, /not uploaded: passwd\.txt/);
    assert.match(log, /not uploaded: pipe\.txt/);
  });

  void test('sync response rules: no file -> the log; one file -> its base64; two -> base64 of a zip', async () => {
    const none = await data.invocation(makeService({ script: 'echo just output\n' }), { body: '' });
    const noneResponse = await buildSyncResponse(await executor.run(none), await readLog(none));
    assert.equal(noneResponse.source, 'log');
    assert.equal(noneResponse.body.toString(), 'just output\n');

    const one = await data.invocation(
      makeService({ script: 'printf "\\001\\002" > "$TMP_OUTPUT_DIR/a.bin"\n' }),
      {
        body: '',
      },
    );
    const oneResult = await executor.run(one);
    const oneResponse = await buildSyncResponse(oneResult, await readLog(one));
    assert.equal(oneResponse.source, 'file');
    assert.equal(oneResponse.body.toString(), Buffer.from([1, 2]).toString('base64'));
    const oneRaw = await buildSyncResponse(oneResult, '', { raw: true });
    assert.deepEqual(oneRaw.body, Buffer.from([1, 2]));
    assert.equal(oneRaw.contentType, 'application/octet-stream');

    const two = await data.invocation(
      makeService({
        script:
          'echo 1 > "$TMP_OUTPUT_DIR/x.txt"; mkdir "$TMP_OUTPUT_DIR/d"; echo 2 > "$TMP_OUTPUT_DIR/d/y.txt"\n',
      }),
      { body: '' },
    );
    const twoResponse = await buildSyncResponse(await executor.run(two), await readLog(two));
    assert.equal(twoResponse.source, 'zip');
    const zip = Buffer.from(twoResponse.body.toString(), 'base64');
    const zipPath = join(data.root, 'answer.zip');
    await writeFile(zipPath, zip);
    const listing = execFileSync('unzip', ['-Z1', zipPath], { encoding: 'utf8' });
    assert.deepEqual(listing.trim().split('\n'), ['d/y.txt', 'x.txt']);
    assert.equal(execFileSync('unzip', ['-p', zipPath, 'd/y.txt'], { encoding: 'utf8' }), '2\n');
  });

  void test('an output on another provider fails the job before the script runs, with a clear message', async () => {
    const service = makeService({
      script: 'touch "$HOME/ran"\n',
      output: [{ ...makeOutput('bucket/x'), provider: 's3.aws' }],
    });
    const invocation = await data.invocation(service, { body: '' });
    const result = await executor.run(invocation);
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'VALIDATION_FAILED');
    assert.match(
      result.error?.message ?? '',
      /"s3\.aws", which the service's storage_providers do not define/,
    );
    assert.equal(result.exitCode, null);
  });

  void test('a missing input object fails the job with OBJECT_NOT_FOUND', async () => {
    const invocation = await data.invocation(makeService(), { input: { bucket: 'inbox', key: 'nope.txt' } });
    const result = await executor.run(invocation);
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'OBJECT_NOT_FOUND');
  });
});

function parseEnv(text: string): Record<string, string> {
  // `env` prints one NAME=value per line; EVENT is JSON on one line here.
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}
