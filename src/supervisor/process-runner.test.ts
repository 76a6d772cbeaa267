import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlatformError } from '../core/index.js';
import { buildLaunchArgv } from './launch-argv.js';
import { runProcess, type ProcessRunOptions } from './process-runner.js';

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-process-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function options(dir: string, script: string, overrides: Partial<ProcessRunOptions> = {}): ProcessRunOptions {
  return {
    argv: buildLaunchArgv({
      cgroupProcsFiles: [],
      addressSpaceBytes: null,
      command: ['/bin/sh', '-c', script],
    }),
    env: { PATH: '/usr/bin:/bin' },
    cwd: dir,
    logPath: join(dir, 'job.log'),
    timeoutMs: 0,
    signal: new AbortController().signal,
    killGraceMs: 200,
    ...overrides,
  };
}

async function alive(marker: string): Promise<boolean> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const state = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (cmdline.includes(marker) && !/\) Z /.test(state)) return true;
  }
  return false;
}

void test('exit code, stdout and stderr in order in the log, appended to what was there', () =>
  withDir(async (dir) => {
    const first = await runProcess(options(dir, 'echo one; echo two >&2; echo three; exit 7'));
    assert.equal(first.reason, 'exited');
    assert.equal(first.exitCode, 7);
    assert.equal(first.termSignal, null);
    await runProcess(options(dir, 'echo again'));
    assert.equal(await readFile(join(dir, 'job.log'), 'utf8'), 'one\ntwo\nthree\nagain\n');
  }));

void test('the log is capped with one truncation note, and the writer is never blocked', () =>
  withDir(async (dir) => {
    const outcome = await runProcess(
      options(dir, 'head -c 200000 /dev/zero | tr "\\0" x; echo; echo end', { maxLogBytes: 1000 }),
    );
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.logTruncated, true);
    const log = await readFile(join(dir, 'job.log'), 'utf8');
    assert.equal(log.length < 1200, true);
    assert.match(log, /^x{1000}\n\[nubes\] log truncated: the job wrote more than 1000 bytes\n$/);
  }));

void test('a timeout stops the whole process group, background children included', () =>
  withDir(async (dir) => {
    const marker = `250.${process.pid}`;
    const started = Date.now();
    const outcome = await runProcess(options(dir, `sleep ${marker} & sleep ${marker}`, { timeoutMs: 200 }));
    assert.equal(outcome.reason, 'timeout');
    assert.equal(outcome.termSignal, 'SIGTERM');
    assert.ok(Date.now() - started < 3000);
    assert.equal(await alive(marker), false);
  }));

void test('a script that ignores SIGTERM is killed after the grace period', () =>
  withDir(async (dir) => {
    const outcome = await runProcess(
      options(dir, 'trap "" TERM; sleep 30 & wait; sleep 30', { timeoutMs: 100, killGraceMs: 200 }),
    );
    assert.equal(outcome.reason, 'timeout');
    assert.equal(outcome.termSignal, 'SIGKILL');
  }));

void test('aborting cancels; an already aborted signal starts nothing', () =>
  withDir(async (dir) => {
    const controller = new AbortController();
    const running = runProcess(options(dir, 'sleep 30', { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    assert.equal((await running).reason, 'cancelled');
    const before = await runProcess(options(dir, 'echo should-not-run', { signal: AbortSignal.abort() }));
    assert.equal(before.reason, 'cancelled');
    assert.doesNotMatch(await readFile(join(dir, 'job.log'), 'utf8').catch(() => ''), /should-not-run/);
  }));

void test('background processes left by a script that exited are killed, and the job does not hang on them', () =>
  withDir(async (dir) => {
    const marker = `251.${process.pid}`;
    const outcome = await runProcess(options(dir, `sleep ${marker} & echo bye`));
    assert.equal(outcome.exitCode, 0);
    assert.equal(await alive(marker), false);
  }));

void test('a command that cannot be started is SPAWN_FAILED', () =>
  withDir(async (dir) => {
    await assert.rejects(
      runProcess({ ...options(dir, ''), argv: ['/nonexistent/binary'] }),
      (error: unknown) => error instanceof PlatformError && error.code === 'SPAWN_FAILED',
    );
  }));
