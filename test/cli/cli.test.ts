/**
 * The real `nubes` command, spawned as a user runs it (node bin/nubes.js …): help, usage errors, FDL
 * validation on fixture files, and what happens when the server is not there. Needs no server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../src/cli/testing/temp-dir.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'nubes.js');
const FIXTURES = join(ROOT, 'test', 'cli', 'fixtures');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An environment with no Nubes variables and a fresh HOME, so no personal config leaks in. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: tempDir('nubes-cli-home-'),
  };
  return { ...env, ...extra };
}

function nubes(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: options.env ?? cleanEnv(),
      cwd: options.cwd ?? ROOT,
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

/** A port nothing listens on (taken, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

void test('nubes --help lists the commands and exits 0; nubes service logs --help too', async () => {
  const root = await nubes(['--help']);
  assert.equal(root.code, 0, root.stderr);
  assert.match(root.stdout, /Usage: nubes/);
  for (const command of ['server', 'apply', 'delete', 'fdl', 'cluster', 'service'])
    assert.match(root.stdout, new RegExp(`\\n  ${command}\\b`));
  const logs = await nubes(['service', 'logs', '--help']);
  assert.equal(logs.code, 0);
  assert.match(logs.stdout, /list\|ls/);
});

void test('an unknown flag exits 1 with one clear line and no stack trace', async () => {
  const result = await nubes(['service', 'list', '--bogus']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: unknown option '--bogus'\n/);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
  assert.equal(result.stdout, '');
});

void test('fdl validate: a good file exits 0 with a summary; a bad one exits 1 with file:line:col for each error', async () => {
  const good = await nubes(['fdl', 'validate', 'test/cli/fixtures/good.yaml']);
  assert.equal(good.code, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /✓ 1 file valid \(2 services\)/);

  const bad = await nubes([
    'fdl',
    'validate',
    'test/cli/fixtures/bad.yaml',
    'test/cli/fixtures/warning.yaml',
  ]);
  assert.equal(bad.code, 1);
  assert.match(
    bad.stdout,
    /^test\/cli\/fixtures\/bad\.yaml:8:9: error: unknown key "memroy"; did you mean "memory"\?/m,
  );
  assert.match(bad.stdout, /^test\/cli\/fixtures\/bad\.yaml:9:14: error: "lots" is not a CPU quantity/m);
  assert.match(bad.stdout, /^test\/cli\/fixtures\/warning\.yaml:4:7: warning: no script/m);
  assert.match(bad.stdout, /✗ 2 errors, 1 warning in 1 of 2 files/);

  const fromElsewhere = await nubes(['fdl', 'validate', join(FIXTURES, 'good.yaml')], { cwd: tmpdir() });
  assert.equal(fromElsewhere.code, 0, fromElsewhere.stdout);
});

void test('talking to a server that is not running exits 2 with the `npm start` hint; --debug adds the stack', async () => {
  const port = await closedPort();
  const cwd = tempDir('nubes-cli-project-');
  const env = cleanEnv({ NUBES_PORT: String(port) });
  const list = await nubes(['service', 'list'], { env, cwd });
  assert.equal(list.code, 2);
  assert.equal(
    list.stderr.split('\n')[0],
    `error: cannot reach Nubes at http://127.0.0.1:${port}: connection refused`,
  );
  assert.match(list.stderr, /\nhint: is `npm start` running/);
  assert.doesNotMatch(list.stderr, /\n\s+at /);

  const apply = await nubes(['apply', join(FIXTURES, 'good.yaml'), '--debug'], { env, cwd });
  assert.equal(apply.code, 2);
  assert.match(apply.stderr, /code: UNAVAILABLE/);
  assert.match(apply.stderr, /\n\s+at /);
  assert.match(apply.stderr, /caused by: Error: connect ECONNREFUSED/);
});

void test('a configured cluster that cannot be reached names the cluster in the hint', async () => {
  const port = await closedPort();
  const env = cleanEnv();
  const added = await nubes(['cluster', 'add', 'lab', `http://127.0.0.1:${port}`, 'admin', 'pw'], { env });
  assert.equal(added.code, 0, added.stderr);
  const info = await nubes(['cluster', 'info'], { env });
  assert.equal(info.code, 2);
  assert.match(info.stderr, /hint: is the server up\? check the endpoint of cluster "lab"/);
});

/** Starts `nubes server` on free ports, waits for its banner, sends `signal`, and returns what it printed. */
async function serveOnce(dataDir: string, signal: NodeJS.Signals): Promise<Result> {
  const child = spawn(
    process.execPath,
    [BIN, 'server', '--data-dir', dataDir, '--port', '0', '--s3-port', '0'],
    {
      env: cleanEnv({ NUBES_LOG_LEVEL: 'warn' }),
      cwd: ROOT,
      stdio: 'pipe',
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('Press Ctrl-C to stop.')) child.kill(signal);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

void test('nubes server prints its banner (credentials only on the first start) and exits 0 on SIGINT and SIGTERM', async () => {
  const dataDir = tempDir('nubes-cli-server-');
  const first = await serveOnce(dataDir, 'SIGINT');
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(
    first.stdout,
    /API {8}http:\/\/127\.0\.0\.1:\d+\n {2}Dashboard {2}http:\/\/127\.0\.0\.1:\d+\/ui\n {2}S3 {9}http:\/\/127\.0\.0\.1:\d+\n/,
  );
  assert.match(
    first.stdout,
    new RegExp(`stored in ${join(dataDir, 'credentials.json').replaceAll('.', '\\.')}`),
  );
  assert.match(first.stdout, /admin password {2}\S+/);
  assert.match(first.stdout, /npx nubes apply examples\/hello\.yaml/);
  assert.match(first.stderr, /SIGINT: shutting down/);

  const second = await serveOnce(dataDir, 'SIGTERM');
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.doesNotMatch(second.stdout, /admin password/);
});

void test('nubes server with a taken port exits 1 with a hint', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const address = blocker.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    const dataDir = tempDir('nubes-cli-server-');
    const result = await nubes(['server', '--data-dir', dataDir, '--port', String(port), '--s3-port', '0'], {
      env: cleanEnv({ NUBES_LOG_LEVEL: 'silent' }),
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`error: port ${port} on 127\\.0\\.0\\.1 is already in use`));
    assert.match(result.stderr, /hint: another Nubes server may be running/);
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
});
