import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cgroupName, probeCgroups } from './cgroups.js';

void test('cgroup names are safe path segments, unique per call', () => {
  const a = cgroupName('svc-1/../x y');
  assert.match(a, /^svc-1_\.\._x_y\.[0-9a-z]+\.[0-9a-f]{8}$/);
  assert.notEqual(cgroupName('j'), cgroupName('j'));
});

void test('no memory controller anywhere: mode none with a reason', async () => {
  const root = await mkdtemp(join(tmpdir(), 'nubes-cg-none-'));
  try {
    const support = await probeCgroups({ root });
    assert.equal(support.mode, 'none');
    assert.match(support.reason ?? '', /no cgroup memory controller/);
    await assert.rejects(support.create('j', { memoryBytes: 1, pidsMax: 1 }));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

void test('cgroup v2 layout (a fake tree standing in for a v2 host): controllers enabled, limits written', async () => {
  const root = await mkdtemp(join(tmpdir(), 'nubes-cg-v2-'));
  try {
    await writeFile(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
    const support = await probeCgroups({ root, group: 'nubes' });
    assert.equal(support.mode, 'v2');
    assert.equal(await readFile(join(root, 'cgroup.subtree_control'), 'utf8'), '+memory +pids');
    assert.equal(await readFile(join(root, 'nubes', 'cgroup.subtree_control'), 'utf8'), '+memory +pids');
    const job = await support.create('job-1', { memoryBytes: 64 * 1024 * 1024, pidsMax: 100 });
    assert.equal(job.procsFiles.length, 1);
    const dir = join(job.procsFiles[0]!, '..');
    assert.equal(await readFile(join(dir, 'memory.max'), 'utf8'), String(64 * 1024 * 1024));
    assert.equal(await readFile(join(dir, 'pids.max'), 'utf8'), '100');
    await writeFile(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    assert.equal(await job.oomKilled(), true);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

void test('cgroup v2 without the memory controller is not used', async () => {
  const root = await mkdtemp(join(tmpdir(), 'nubes-cg-v2h-'));
  try {
    await writeFile(join(root, 'cgroup.controllers'), 'hugetlb\n');
    const support = await probeCgroups({ root });
    assert.equal(support.mode, 'none');
    assert.match(support.reason ?? '', /without the memory controller/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

void test('cgroup v1 on this host (real): limits, join, OOM kill detected, kill-all, removal', async (t) => {
  const group = `nubes-unit-${randomBytes(4).toString('hex')}`;
  const support = await probeCgroups({ group });
  if (support.mode !== 'v1') {
    t.skip(`this host offers ${support.mode} (${support.reason ?? 'v2'}), not v1`);
    return;
  }
  try {
    const job = await support.create('unit-job', { memoryBytes: 32 * 1024 * 1024, pidsMax: 50 });
    const memoryDir = join(job.procsFiles[0]!, '..');
    assert.equal(await readFile(join(memoryDir, 'memory.limit_in_bytes'), 'utf8'), `${32 * 1024 * 1024}\n`);
    if (support.limitsSwap) {
      assert.equal(
        await readFile(join(memoryDir, 'memory.memsw.limit_in_bytes'), 'utf8'),
        `${32 * 1024 * 1024}\n`,
      );
    }
    // A process joins first, then allocates 200 MB: the kernel kills it inside the cgroup.
    const child = spawn('/bin/sh', [
      '-c',
      `for f in ${job.procsFiles.join(' ')}; do echo $$ > $f; done; exec python3 -c "x = bytearray(200_000_000)"`,
    ]);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('exit', (c, s) => resolve([c, s])),
    );
    assert.equal(signal, 'SIGKILL', `exit ${code}`);
    assert.equal(await job.oomKilled(), true);

    const sleeper = spawn('/bin/sh', [
      '-c',
      `for f in ${job.procsFiles.join(' ')}; do echo $$ > $f; done; exec sleep 60`,
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok((await readFile(job.procsFiles[0]!, 'utf8')).includes(String(sleeper.pid)));
    await job.killAll();
    assert.equal((await readFile(job.procsFiles[0]!, 'utf8')).trim(), '');
    await job.remove();
    const left = await readdir(join(memoryDir, '..'), { withFileTypes: true });
    assert.deepEqual(
      left.filter((e) => e.isDirectory()).map((e) => e.name),
      [],
    );
  } finally {
    for (const controller of ['memory', 'pids'])
      await rmdir(`/sys/fs/cgroup/${controller}/${group}`).catch(() => undefined);
  }
});

void test('a v1 tree that cannot be written is reported as none, not as a crash', async () => {
  const root = await mkdtemp(join(tmpdir(), 'nubes-cg-v1ro-'));
  try {
    await mkdir(join(root, 'memory'));
    await writeFile(join(root, 'memory', 'memory.limit_in_bytes'), '9223372036854771712\n');
    await writeFile(join(root, 'memory', 'nubes'), 'a file where the group folder should go');
    const support = await probeCgroups({ root, group: 'nubes' });
    assert.equal(support.mode, 'none');
    assert.match(support.reason ?? '', /not writable/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

void test('start-up sweep (real v1): empty job cgroups left by a crash are removed, busy ones kept', async (t) => {
  const group = `nubes-sweep-${randomBytes(4).toString('hex')}`;
  const first = await probeCgroups({ group });
  if (first.mode !== 'v1') {
    t.skip(`this host offers ${first.mode}, not v1`);
    return;
  }
  const parent = `/sys/fs/cgroup/memory/${group}`;
  let sleeper: ReturnType<typeof spawn> | null = null;
  const fresh = cgroupName('fresh-job');
  try {
    // Empty: made by an earlier version (no time in the name), made two minutes ago, made just now (kept:
    // another server sharing the group may be about to use it).
    await mkdir(join(parent, 'crashed-job'));
    await mkdir(join(parent, `old-job.${(Date.now() - 120_000).toString(36)}.0a0b0c0d`));
    await mkdir(join(parent, fresh));
    await mkdir(join(parent, 'running-job'));
    sleeper = spawn('/bin/sh', [
      '-c',
      `echo $$ > ${join(parent, 'running-job', 'cgroup.procs')}; exec sleep 60`,
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await probeCgroups({ group, staleAfterMs: 60_000 });
    const left = (await readdir(parent, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    assert.deepEqual(left, [fresh, 'running-job']);
  } finally {
    sleeper?.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await rmdir(join(parent, 'running-job')).catch(() => undefined);
    await rmdir(join(parent, fresh)).catch(() => undefined);
    for (const controller of ['memory', 'pids'])
      await rmdir(`/sys/fs/cgroup/${controller}/${group}`).catch(() => undefined);
  }
});
