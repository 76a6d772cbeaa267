import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, readFile, access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { silentLogger } from '../../src/core/index.js';
import { PlatformError } from '../../src/core/index.js';
import { createLocalExecutor, type LocalExecutor } from '../../src/executors/index.js';
import { probeBwrap } from '../../src/executors/local/index.js';
import { MemoryObjectStore } from './memory-store.js';
import { TestDataDir, makeService, readLog } from './helpers.js';

const SECRET = 'sandbox-test-secret-4d1f0c';

void describe('sandbox: what a script can see and touch (real bubblewrap)', () => {
  let data: TestDataDir;
  let store: MemoryObjectStore;
  let executor: LocalExecutor;
  let bwrapWorks: boolean;
  const previousSecret = process.env.NUBES_S3_SECRET_KEY;

  before(async () => {
    process.env.NUBES_S3_SECRET_KEY = SECRET;
    data = await TestDataDir.create();
    await writeFile(join(data.root, 'credentials.json'), JSON.stringify({ s3SecretKey: SECRET }));
    store = new MemoryObjectStore({ filesDir: join(data.root, 'objects') });
    await store.createBucket('inbox');
    bwrapWorks = (await probeBwrap()).available;
    executor = await createLocalExecutor({
      dataDir: data.root,
      sandbox: 'auto',
      maxConcurrentJobs: 2,
      store,
      logger: silentLogger(),
    });
  });

  after(async () => {
    if (previousSecret === undefined) delete process.env.NUBES_S3_SECRET_KEY;
    else process.env.NUBES_S3_SECRET_KEY = previousSecret;
    // When before() failed half-way executor is unset; the data directory must go anyway.
    try {
      await executor.close();
    } finally {
      await data.remove();
    }
  });

  void test('auto mode uses bwrap exactly when the probe says it works, and warns once otherwise', () => {
    assert.equal(executor.isolation.sandbox, bwrapWorks ? 'bwrap' : 'none');
    const sandboxWarnings = executor.isolation.warnings.filter((w) => w.includes('WITHOUT a sandbox'));
    assert.equal(sandboxWarnings.length, bwrapWorks ? 0 : 1);
  });

  void test('the data directory is hidden: credentials.json is not found and the folder looks empty', async () => {
    const script = [
      `cat ${data.root}/credentials.json; echo "cat=$?"`,
      `ls -A ${data.root} | tr '\\n' ' '; echo "<ls"`,
      `ls ${data.root}/objects; echo "objects=$?"`,
    ].join('\n');
    const invocation = await data.invocation(makeService({ script }), { body: '' });
    const result = await executor.run(invocation);
    const log = await readLog(invocation);
    if (!bwrapWorks) {
      // Documented fallback: without bwrap, scripts see everything; the executor said so at start-up.
      assert.ok(executor.isolation.warnings.some((w) => w.includes('WITHOUT a sandbox')));
      return;
    }
    assert.equal(result.status, 'succeeded', log);
    assert.doesNotMatch(log, new RegExp(SECRET));
    assert.match(log, /No such file or directory/);
    assert.match(log, /cat=1/);
    // Only the path down to this job's work folder exists inside the hidden folder.
    assert.match(log, /^work <ls$/m);
    assert.match(log, /objects=2/);
  });

  void test("the server's environment does not reach the script, not even through /proc", async () => {
    const script = [
      'echo "var=[${NUBES_S3_SECRET_KEY:-}]"',
      `grep -l ${SECRET} /proc/*/environ 2>/dev/null | wc -l | sed 's/^/environ-hits=/'`,
    ].join('\n');
    const invocation = await data.invocation(makeService({ script }), { body: '' });
    const result = await executor.run(invocation);
    const log = await readLog(invocation);
    assert.equal(result.status, 'succeeded', log);
    assert.match(log, /^var=\[\]$/m);
    if (bwrapWorks) assert.match(log, /^environ-hits=0$/m);
  });

  void test('writes outside the work folder fail; the input object is read-only and stays intact', async () => {
    await store.put('inbox', 'ro/data.txt', Buffer.from('original'));
    const script = [
      'echo changed > "$INPUT_FILE_PATH"; echo "input=$?"',
      'touch /usr/nubes-sandbox-probe; echo "usr=$?"',
      `touch ${data.root}/planted; echo "data=$?"`,
      'echo fine > "$TMP_OUTPUT_DIR/ok.txt"; echo "output=$?"',
      'echo fine > /tmp/private; echo "tmp=$?"',
    ].join('\n');
    const invocation = await data.invocation(makeService({ script }), {
      input: { bucket: 'inbox', key: 'ro/data.txt' },
    });
    const result = await executor.run(invocation);
    const log = await readLog(invocation);
    // Without a sandbox the script really writes into /usr (documented fallback): leave no probe behind.
    if (!bwrapWorks) await rm('/usr/nubes-sandbox-probe', { force: true });
    assert.equal(result.status, 'succeeded', log);
    assert.match(log, /^output=0$/m);
    assert.match(log, /^tmp=0$/m);
    assert.equal(store.bytes('inbox', 'ro/data.txt')?.toString(), 'original');
    const localFile = await store.localPath('inbox', 'ro/data.txt');
    assert.ok(localFile);
    assert.equal(await readFile(localFile, 'utf8'), 'original', 'the stored file is untouched');
    if (!bwrapWorks) return;
    assert.match(log, /^input=[12]$/m);
    assert.match(log, /^usr=1$/m);
    // Inside, the data directory is a private tmpfs: a write may succeed there but never reaches the host.
    await assert.rejects(access('/usr/nubes-sandbox-probe'));
    await assert.rejects(access(join(data.root, 'planted')));
  });

  void test('kernel settings under /proc/sys cannot be changed and no capability is kept', async (t) => {
    if (!bwrapWorks) {
      t.skip('bwrap unavailable: no sandbox to test');
      return;
    }
    const script = [
      'echo 3 > /proc/sys/vm/drop_caches; echo "sysctl=$?"',
      "grep CapEff /proc/self/status | tr -d '\\t'",
    ].join('\n');
    const invocation = await data.invocation(makeService({ script }), { body: '' });
    await executor.run(invocation);
    const log = await readLog(invocation);
    assert.match(log, /^sysctl=[12]$/m);
    assert.match(log, /^CapEff:0000000000000000$/m);
  });
});

void describe('sandbox modes when bubblewrap is missing', () => {
  void test("sandbox 'bwrap' refuses to start with SANDBOX_UNAVAILABLE; 'auto' runs unsandboxed with one warning", async () => {
    const data = await TestDataDir.create();
    try {
      const base = {
        dataDir: data.root,
        maxConcurrentJobs: 1,
        store: new MemoryObjectStore(),
        logger: silentLogger(),
        bwrapPath: '/nonexistent/bwrap',
      };
      await assert.rejects(
        createLocalExecutor({ ...base, sandbox: 'bwrap' }),
        (error: unknown) => error instanceof PlatformError && error.code === 'SANDBOX_UNAVAILABLE',
      );
      const warned: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => void warned.push(line) });
      const auto = await createLocalExecutor({ ...base, logger, sandbox: 'auto' });
      assert.equal(auto.isolation.sandbox, 'none');
      assert.equal(warned.filter((w) => w.includes('WITHOUT a sandbox')).length, 1);
      const invocation = await data.invocation(makeService({ script: 'echo unsandboxed\n' }), { body: '' });
      assert.equal((await auto.run(invocation)).status, 'succeeded');
      await auto.close();
      const none = await createLocalExecutor({ ...base, sandbox: 'none' });
      assert.equal(none.isolation.sandbox, 'none');
      assert.equal(none.isolation.warnings.filter((w) => w.includes('sandbox')).length, 0);
      await none.close();
    } finally {
      await data.remove();
    }
  });
});
