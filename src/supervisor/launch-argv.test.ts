import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLaunchArgv, WRAPPER_SETUP_FAILED_EXIT } from './launch-argv.js';

function run(argv: string[]): Promise<{ code: number; stdout: string }> {
  const [file, ...args] = argv as [string, ...string[]];
  return new Promise((resolve) => {
    execFile(file, args, (error, stdout) => {
      resolve({ code: error === null ? 0 : Number((error as { code?: number }).code ?? 1), stdout });
    });
  });
}

void test('the wrapper writes its pid into every procs file before exec, and the pid is the command pid', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-launch-'));
  try {
    const files = [join(dir, 'a.procs'), join(dir, 'b.procs')];
    await Promise.all(files.map((file) => writeFile(file, '')));
    const result = await run(
      buildLaunchArgv({
        cgroupProcsFiles: files,
        addressSpaceBytes: null,
        command: ['/bin/sh', '-c', 'echo $$; echo err >&2'],
      }),
    );
    assert.equal(result.code, 0);
    const [pid, err] = result.stdout.trim().split('\n');
    assert.equal(err, 'err', 'stderr is merged into stdout');
    for (const file of files) assert.equal((await readFile(file, 'utf8')).trim(), pid);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('a procs file that cannot be written stops the job before the command runs', async () => {
  const result = await run(
    buildLaunchArgv({
      cgroupProcsFiles: ['/nonexistent/cgroup.procs'],
      addressSpaceBytes: null,
      command: ['/bin/echo', 'ran'],
    }),
  );
  assert.equal(result.code, WRAPPER_SETUP_FAILED_EXIT);
  assert.doesNotMatch(result.stdout, /ran/);
});

void test('the address-space limit is applied in KiB, and arguments are passed through untouched', async () => {
  const result = await run(
    buildLaunchArgv({
      cgroupProcsFiles: [],
      addressSpaceBytes: 100 * 1024 * 1024,
      command: ['/bin/sh', '-c', 'ulimit -v; printf "%s|" "$@"', 'sh', '$(id)', 'a b', '--'],
    }),
  );
  assert.equal(result.stdout, '102400\n$(id)|a b|--|');
});
