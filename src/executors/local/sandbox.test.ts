import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { buildBwrapArgv, probeBwrap, DEFAULT_BWRAP_PATH } from './sandbox.js';

const base = {
  bwrapPath: '/usr/bin/bwrap',
  hiddenDirs: ['/srv/nubes'],
  workDir: '/srv/nubes/work/job-1',
  readOnlyBinds: [{ source: '/srv/nubes/objects/ab/cd', target: '/srv/nubes/work/job-1/input/photo.png' }],
  command: ['/bin/sh', '/srv/nubes/work/job-1/script.sh'],
};

void test('the argv: read-only root, private /tmp, hidden data dir, work dir bound back, input bound read-only', () => {
  const argv = buildBwrapArgv(base);
  const joined = argv.join(' ');
  assert.equal(argv[0], '/usr/bin/bwrap');
  assert.ok(
    joined.startsWith('/usr/bin/bwrap --ro-bind / / --dev /dev --proc /proc --ro-bind /proc/sys /proc/sys'),
  );
  const hide = joined.indexOf('--tmpfs /srv/nubes ');
  const bindWork = joined.indexOf('--bind /srv/nubes/work/job-1 /srv/nubes/work/job-1');
  const bindInput = joined.indexOf(
    '--ro-bind /srv/nubes/objects/ab/cd /srv/nubes/work/job-1/input/photo.png',
  );
  assert.ok(
    hide > 0 && bindWork > hide && bindInput > bindWork,
    'binds come after the tmpfs that hides their parent',
  );
  for (const flag of [
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--die-with-parent',
    '--new-session',
  ]) {
    assert.ok(argv.includes(flag), flag);
  }
  assert.ok(joined.includes('--cap-drop ALL'));
  assert.ok(!argv.includes('--unshare-net') && !argv.includes('--unshare-all'), 'network is kept');
  assert.ok(!argv.includes('--setenv'), 'secrets never go into the (world-readable) argv');
  assert.deepEqual(argv.slice(argv.indexOf('--') + 1), base.command);
});

void test('relative paths and hiding / are refused', () => {
  assert.throws(() => buildBwrapArgv({ ...base, workDir: 'work/job' }), /absolute/);
  assert.throws(() => buildBwrapArgv({ ...base, hiddenDirs: ['/'] }), /cannot hide/);
});

void test('the probe reports a missing binary as unavailable, with the reason', async () => {
  const missing = await probeBwrap('/nonexistent/bwrap');
  assert.equal(missing.available, false);
  assert.match(missing.reason ?? '', /ENOENT|not found|No such file/);
});

void test('the probe succeeds where bubblewrap is installed and usable', async (t) => {
  const installed = await access(DEFAULT_BWRAP_PATH).then(
    () => true,
    () => false,
  );
  if (!installed) {
    t.skip(`${DEFAULT_BWRAP_PATH} is not installed here`);
    return;
  }
  const probe = await probeBwrap();
  assert.equal(probe.available, true, probe.reason ?? '');
});
