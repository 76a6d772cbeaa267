#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with node's test runner and ends with one line
// `N passed, N failed`. Arguments filter the files by substring: `node scripts/run-tests.mjs fdl s3api`.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = walk(join(root, 'dist'), [])
  .map((file) => relative(root, file))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  console.log('0 passed, 0 failed');
  process.exit(1);
}

// A file that has not finished within FILE_TIMEOUT_MS fails (the runner stops it), and a file whose tests are
// done exits even when something it started is still running: a hung file fails the run, it never holds it.
const FILE_TIMEOUT_MS = Number(process.env.NUBES_TEST_FILE_TIMEOUT_MS ?? 600_000);
// The whole run is stopped after RUN_TIMEOUT_MS, well inside CI's limit, and counts as failed.
const RUN_TIMEOUT_MS = Number(process.env.NUBES_TEST_RUN_TIMEOUT_MS ?? 45 * 60_000);

const child = spawn(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    `--test-timeout=${FILE_TIMEOUT_MS}`,
    '--test-force-exit',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    ...files,
  ],
  {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NUBES_TEST: '1' },
    detached: true,
  },
);
let timedOut = false;
const stopAll = (signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
};
// The runner leads its own process group (to stop every file at once): pass on a Ctrl-C or a kill.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(signal));
const watchdog = setTimeout(() => {
  timedOut = true;
  console.error(`the test run did not finish within ${RUN_TIMEOUT_MS / 60_000} min: stopped`);
  stopAll('SIGKILL');
  setTimeout(() => finish(1), 5_000).unref();
}, RUN_TIMEOUT_MS);
// The totals are the runner's last `ℹ pass N` (…) lines, kept as they stream by: the failures' details
// printed after them can be long.
const totals = new Map();
let partial = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const lines = (partial + chunk.toString()).split('\n');
  partial = lines.pop() ?? '';
  for (const line of lines) {
    const total = /^ℹ (\w+) (\d+)$/.exec(line);
    if (total) totals.set(total[1], Number(total[2]));
  }
});
let finished = false;
function finish(code) {
  if (finished) return;
  finished = true;
  clearTimeout(watchdog);
  const count = (label) => totals.get(label) ?? 0;
  const passed = count('pass');
  const failed = count('fail') + count('cancelled') + (timedOut ? 1 : 0);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code === 0 && failed === 0 && passed > 0 ? 0 : 1);
}
child.on('close', finish);
