import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/core/index.js';
import { loadStandaloneConfig, runStandalone, type StandaloneIo } from '../../src/supervisor/index.js';
import { MemoryObjectStore } from './memory-store.js';
import { makeOutput, makeService } from './helpers.js';

function functionConfig(service: object): string {
  return Buffer.from(JSON.stringify(service)).toString('base64');
}

function io(
  stdin: string,
  env: Record<string, string>,
): StandaloneIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return {
    stdin: Readable.from([Buffer.from(stdin)]),
    stdout,
    stderr,
    env,
    logger: silentLogger(),
    out: () => out,
    err: () => err,
  };
}

void describe('standalone supervisor (runStandalone with an injected store)', () => {
  let store: MemoryObjectStore;
  const s3Env = {
    NUBES_S3_ENDPOINT: 'http://127.0.0.1:9',
    NUBES_S3_ACCESS_KEY: 'ak',
    NUBES_S3_SECRET_KEY: 'sk',
  };

  before(async () => {
    store = new MemoryObjectStore();
    await store.createBucket('images');
    await store.createBucket('results');
  });

  after(() => store.close());

  void test('a storage event: the object is fetched, outputs uploaded, the one output file printed in base64', async () => {
    await store.put('images', 'in/cat.txt', Buffer.from('meow'));
    const service = makeService({
      name: 'upper',
      script: 'tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/cat.txt"; echo working\n',
      output: [makeOutput('results/out')],
    });
    const event = JSON.stringify({
      Records: [
        { eventSource: 'minio:s3', s3: { bucket: { name: 'images' }, object: { key: 'in%2Fcat.txt' } } },
      ],
    });
    const streams = io(event, { FUNCTION_CONFIG: functionConfig(service), ...s3Env });
    let settings: unknown = null;
    const code = await runStandalone(streams, (s3) => {
      settings = s3;
      return Promise.resolve(store);
    });
    assert.equal(code, 0);
    assert.deepEqual(settings, {
      endpoint: 'http://127.0.0.1:9',
      accessKeyId: 'ak',
      secretAccessKey: 'sk',
      region: 'us-east-1',
    });
    assert.equal(store.bytes('results', 'out/cat.txt')?.toString(), 'MEOW');
    assert.equal(Buffer.from(streams.out(), 'base64').toString(), 'MEOW');
    assert.equal(streams.err(), 'working\n', 'the script output is echoed to stderr as it comes');
  });

  void test("a failing script: nothing on stdout, the script's exit code", async () => {
    const service = makeService({ script: 'echo bad; exit 5\n' });
    const streams = io('{"x":1}', { FUNCTION_CONFIG: functionConfig(service), ...s3Env });
    assert.equal(await runStandalone(streams, () => Promise.resolve(store)), 5);
    assert.equal(streams.out(), '');
  });

  void test('a bad FUNCTION_CONFIG exits 1 without running anything', async () => {
    const streams = io('', { FUNCTION_CONFIG: 'not base64 json' });
    assert.equal(await runStandalone(streams, () => Promise.resolve(store)), 1);
  });

  void test('the sandbox settings: folders to hide, one a line, must be absolute, without ..', () => {
    const base = { FUNCTION_CONFIG: functionConfig(makeService({ script: 'true' })) };
    const config = loadStandaloneConfig({
      ...base,
      NUBES_SANDBOX_LANDLOCK: '/opt/nubes/dist/native/nubes-landlock',
      NUBES_SANDBOX_BWRAP: '/usr/bin/bwrap',
      NUBES_SANDBOX_HIDE: '/srv/spool\n/var/lib/nubes:2',
      NUBES_SANDBOX_REQUIRED: '1',
    });
    assert.deepEqual(config.sandbox, {
      landlockPath: '/opt/nubes/dist/native/nubes-landlock',
      bwrapPath: '/usr/bin/bwrap',
      hiddenDirs: ['/srv/spool', '/var/lib/nubes:2'],
      required: true,
    });
    assert.deepEqual(loadStandaloneConfig({ ...base, NUBES_SANDBOX_BWRAP: '/usr/bin/bwrap' }).sandbox, {
      landlockPath: null,
      bwrapPath: '/usr/bin/bwrap',
      hiddenDirs: [],
      required: false,
    });
    assert.equal(loadStandaloneConfig(base).sandbox, null);
    for (const hide of ['relative/spool', '/srv/../etc', '/srv/spool\n']) {
      assert.throws(
        () =>
          loadStandaloneConfig({ ...base, NUBES_SANDBOX_BWRAP: '/usr/bin/bwrap', NUBES_SANDBOX_HIDE: hide }),
        (error: unknown) =>
          (error as { code?: string }).code === 'CONFIG_INVALID' && /NUBES_SANDBOX_HIDE/.test(String(error)),
        hide,
      );
    }
  });
});

void test('main.js as a process: http body in, script output out, no S3 needed', async () => {
  const main = fileURLToPath(new URL('../../src/supervisor/main.js', import.meta.url));
  const service = makeService({ script: 'cat "$INPUT_FILE_PATH"; echo " seen"\n' });
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [main],
      { env: { FUNCTION_CONFIG: functionConfig(service), PATH: process.env.PATH ?? '' } },
      (error, out) => resolve({ code: error === null ? 0 : Number(error.code), stdout: out }),
    );
    child.stdin?.end(Buffer.from('hello').toString('base64'));
  });
  assert.equal(code, 0);
  assert.equal(stdout, 'hello seen\n');
});

void test('main.js stopped with SIGTERM (scancel): the script is killed and the job folder removed', async () => {
  const main = fileURLToPath(new URL('../../src/supervisor/main.js', import.meta.url));
  const workRoot = await mkdtemp(join(tmpdir(), 'nubes-standalone-stop-'));
  try {
    const service = makeService({ script: 'echo started; exec sleep 60\n' });
    const child = spawn(process.execPath, [main], {
      env: {
        FUNCTION_CONFIG: functionConfig(service),
        NUBES_WORK_DIR: workRoot,
        PATH: process.env.PATH ?? '',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdin.end(Buffer.from('{}').toString('base64'));
    for (let waited = 0; !stderr.includes('started'); waited++) {
      assert.ok(waited < 200, `the script did not start: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal((await readdir(workRoot)).length, 1, 'the job folder exists while it runs');
    const stoppedAt = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    assert.ok(Date.now() - stoppedAt < 10_000, 'it stopped without waiting for the script');
    assert.notEqual(code, 0);
    assert.deepEqual(await readdir(workRoot), [], 'the job folder is gone');
  } finally {
    await rm(workRoot, { recursive: true, force: true });
  }
});
