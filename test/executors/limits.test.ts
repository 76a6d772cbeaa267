import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, rmdir } from 'node:fs/promises';
import { silentLogger } from '../../src/core/index.js';
import { createLocalExecutor, type LocalExecutor } from '../../src/executors/index.js';
import { MemoryObjectStore } from './memory-store.js';
import { TestDataDir, makeService, processesWith, readLog, waitFor } from './helpers.js';

const MiB = 1024 * 1024;

/** A parent cgroup of our own, so that parallel test files can check for leftovers without seeing each other's jobs. */
const cgroupGroup = `nubes-test-${randomBytes(4).toString('hex')}`;

void describe('local executor limits: timeouts, cancellation, memory, leftovers (real processes, real cgroups)', () => {
  let data: TestDataDir;
  let executor: LocalExecutor;

  before(async () => {
    data = await TestDataDir.create();
    executor = await createLocalExecutor({
      dataDir: data.root,
      sandbox: 'auto',
      maxConcurrentJobs: 4,
      store: new MemoryObjectStore(),
      logger: silentLogger(),
      killGraceMs: 300,
      cgroupGroup,
    });
  });

  after(async () => {
    // When before() failed half-way executor is unset; the data directory must go anyway.
    try {
      await executor.close();
    } finally {
      await data.remove();
    }
    for (const controller of ['memory', 'pids']) {
      await rmdir(`/sys/fs/cgroup/${controller}/${cgroupGroup}`).catch(() => undefined);
    }
  });

  void test('a script past its timeout that started a background child: both killed, JOB_TIMEOUT', async () => {
    const marker = `300.${randomBytes(3).readUIntBE(0, 3)}`;
    const service = makeService({
      // Long enough for both sleeps to start inside the sandbox on a loaded machine.
      timeoutMs: 2500,
      script: `sleep ${marker} &\nsleep ${marker}\n`,
    });
    const invocation = await data.invocation(service, { body: '' });
    const running = executor.run(invocation);
    assert.ok(await waitFor(async () => (await processesWith(marker)).length === 2), 'both sleeps started');
    const result = await running;
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'JOB_TIMEOUT');
    assert.equal(result.error?.retryable, true);
    assert.deepEqual(await processesWith(marker), [], 'no process of the job survives it');
    assert.match(await readLog(invocation), /\[nubes\] the job exceeded its time limit of 2\.5 s/);
  });

  void test('aborting the signal cancels the job and kills its process tree: JOB_CANCELLED', async () => {
    const marker = `301.${randomBytes(3).readUIntBE(0, 3)}`;
    const controller = new AbortController();
    const invocation = await data.invocation(makeService({ script: `sleep ${marker} & wait\n` }), {
      body: '',
      signal: controller.signal,
    });
    const running = executor.run(invocation);
    assert.ok(await waitFor(async () => (await processesWith(marker)).length === 1));
    controller.abort();
    const result = await running;
    assert.equal(result.error?.code, 'JOB_CANCELLED');
    assert.deepEqual(await processesWith(marker), []);
  });

  void test('a timeout sends SIGTERM first, so the script can clean up, inside the sandbox too', async () => {
    const service = makeService({
      timeoutMs: 300,
      script: "trap 'echo got-term; exit 0' TERM\nsleep 300 &\nwait\n",
    });
    const invocation = await data.invocation(service, { body: '' });
    const result = await executor.run(invocation);
    assert.equal(result.error?.code, 'JOB_TIMEOUT');
    assert.match(await readLog(invocation), /^got-term$/m);
  });

  void test('close() cancels running jobs and kills them; run() afterwards is refused', async () => {
    const own = await createLocalExecutor({
      dataDir: data.root,
      sandbox: 'auto',
      maxConcurrentJobs: 1,
      store: new MemoryObjectStore(),
      logger: silentLogger(),
      cgroupGroup,
    });
    const marker = `304.${randomBytes(3).readUIntBE(0, 3)}`;
    const invocation = await data.invocation(makeService({ script: `sleep ${marker}\n` }), { body: '' });
    const running = own.run(invocation);
    assert.ok(await waitFor(async () => (await processesWith(marker)).length === 1));
    await own.close();
    assert.equal((await running).error?.code, 'JOB_CANCELLED');
    assert.deepEqual(await processesWith(marker), []);
    await assert.rejects(own.run(invocation), /closed/);
  });

  void test('processes left behind by a script that exited, even after setsid, are killed with the job', async () => {
    const marker = `302.${randomBytes(3).readUIntBE(0, 3)}`;
    const invocation = await data.invocation(
      makeService({ script: `setsid sleep ${marker} > /dev/null 2>&1 < /dev/null &\nsleep 0.2\nexit 0\n` }),
      { body: '' },
    );
    const result = await executor.run(invocation);
    assert.equal(result.status, 'succeeded', await readLog(invocation));
    if (executor.isolation.memoryLimit === 'rlimit' && executor.isolation.sandbox === 'none') {
      // Documented limit: without a cgroup or a pid namespace, a setsid()ed process escapes the process group.
      for (const pid of await processesWith(marker)) process.kill(pid, 'SIGKILL');
      return;
    }
    assert.deepEqual(await processesWith(marker), []);
  });

  void test('a memory hog over a 64 MiB limit fails with JOB_OUT_OF_MEMORY', async () => {
    const service = makeService({ memoryBytes: 64 * MiB, script: 'head -c 600M /dev/zero | tail\n' });
    const invocation = await data.invocation(service, { body: '' });
    const result = await executor.run(invocation);
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'JOB_OUT_OF_MEMORY', await readLog(invocation));
    assert.match(await readLog(invocation), /exceeded its memory limit of 64 MiB/);
  });

  void test('the probe picked the host memory mechanism, and job cgroups are removed after the job', async () => {
    // Our machines are hybrid (v1 memory/pids writable as root): the probe must find v1 there.
    const hasV1 = await readdir('/sys/fs/cgroup/memory').then(
      () => true,
      () => false,
    );
    const hasV2 = await readdir('/sys/fs/cgroup').then((names) => names.includes('cgroup.controllers'));
    if (process.getuid?.() === 0 && hasV1 && !hasV2)
      assert.equal(executor.isolation.memoryLimit, 'cgroup-v1');
    if (executor.isolation.memoryLimit === 'cgroup-v1') {
      const children = (
        await readdir(`/sys/fs/cgroup/memory/${cgroupGroup}`, { withFileTypes: true })
      ).filter((entry) => entry.isDirectory());
      assert.deepEqual(children, [], 'no job cgroup left behind');
    } else {
      assert.ok(
        executor.isolation.warnings.some((w) => w.includes('RLIMIT_AS')) ||
          executor.isolation.memoryLimit === 'cgroup-v2',
      );
    }
  });

  void test('a fork bomb is stopped by pids.max and the job still ends', { timeout: 30_000 }, async (t) => {
    if (executor.isolation.memoryLimit === 'rlimit') {
      t.skip('no pids cgroup on this host (documented: RLIMIT_AS only limits memory)');
      return;
    }
    const small = await createLocalExecutor({
      dataDir: data.root,
      sandbox: 'auto',
      maxConcurrentJobs: 1,
      store: new MemoryObjectStore(),
      logger: silentLogger(),
      pidsMax: 32,
      cgroupGroup,
    });
    try {
      const invocation = await data.invocation(
        makeService({
          timeoutMs: 3000,
          script: 'i=0; while [ $i -lt 200 ]; do sleep 5 & i=$((i+1)); done; wait\n',
        }),
        { body: '' },
      );
      const result = await small.run(invocation);
      assert.equal(result.status, 'failed');
      assert.match(await readLog(invocation), /fork|Resource temporarily unavailable|Cannot fork/i);
    } finally {
      await small.close();
    }
  });
});

void describe('local executor without cgroups (memoryLimit: rlimit), the documented fallback', () => {
  let data: TestDataDir;
  let executor: LocalExecutor;

  before(async () => {
    data = await TestDataDir.create();
    executor = await createLocalExecutor({
      dataDir: data.root,
      sandbox: 'auto',
      maxConcurrentJobs: 1,
      store: new MemoryObjectStore(),
      logger: silentLogger(),
      memoryLimit: 'rlimit',
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

  void test('RLIMIT_AS: an allocation past the limit fails and is reported as JOB_OUT_OF_MEMORY from its message', async () => {
    assert.equal(executor.isolation.memoryLimit, 'rlimit');
    const service = makeService({
      memoryBytes: 256 * MiB,
      script: 'python3 -c "x = bytearray(600 * 1024 * 1024)"\n',
    });
    const invocation = await data.invocation(service, { body: '' });
    const result = await executor.run(invocation);
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'JOB_OUT_OF_MEMORY', await readLog(invocation));
    assert.match(await readLog(invocation), /MemoryError/);
  });

  void test('RLIMIT_AS: a script within its limit runs normally', async () => {
    const invocation = await data.invocation(
      makeService({ memoryBytes: 256 * MiB, script: 'python3 -c "x = bytearray(50 * 1024 * 1024)"\n' }),
      { body: '' },
    );
    const result = await executor.run(invocation);
    assert.equal(result.status, 'succeeded', await readLog(invocation));
  });

  void test('RLIMIT_AS: a timeout still kills the whole process group', async () => {
    const marker = `303.${randomBytes(3).readUIntBE(0, 3)}`;
    const invocation = await data.invocation(
      makeService({ timeoutMs: 300, script: `sleep ${marker} &\nwait\n` }),
      {
        body: '',
      },
    );
    const result = await executor.run(invocation);
    assert.equal(result.error?.code, 'JOB_TIMEOUT');
    assert.ok(await waitFor(async () => (await processesWith(marker)).length === 0, 3000));
  });
});
