/**
 * Starts the real `nubes server` as a child process on free ports with a fresh data directory, and runs
 * the real CLI against it. Tests use this to exercise the platform exactly as a user does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onProcessExit } from './exit-hooks.js';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const BIN = join(ROOT, 'bin', 'nubes.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Credentials {
  adminUser: string;
  adminPassword: string;
  s3AccessKey: string;
  s3SecretKey: string;
}

export interface ServerProcess {
  dataDir: string;
  apiUrl: string;
  s3Url: string;
  port: number;
  s3Port: number;
  child: ChildProcess;
  output: () => string;
  credentials: () => Promise<Credentials>;
  /** Environment for CLI child processes that points at this server. */
  cliEnv: () => NodeJS.ProcessEnv;
  /** `GET`/`POST`… on the API as the admin. */
  api: (path: string, init?: RequestInit) => Promise<Response>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
  restart: () => Promise<void>;
  cleanup: () => Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  args?: string[];
  /** The S3 endpoint's port, when the environment must name it before the start (a free one otherwise). */
  s3Port?: number;
}

function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env))
    if (name.startsWith('NUBES_') || name.startsWith('AWS_')) delete env[name];
  return env;
}

export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'nubes-e2e-')));
  const port = await freePort();
  const s3Port = options.s3Port ?? (await freePort());
  let child!: ChildProcess;
  let output = '';

  const launch = async () => {
    output = '';
    child = spawn(
      process.execPath,
      [
        BIN,
        'server',
        '--data-dir',
        dataDir,
        '--port',
        String(port),
        '--s3-port',
        String(s3Port),
        ...(options.args ?? []),
      ],
      { env: { ...baseEnv(), NUBES_LOG_LEVEL: 'warn', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
      try {
        const response = await fetch(`http://127.0.0.1:${port}/health`);
        if (response.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`server did not answer /health:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  // A test file that ends without cleanup() (a hook timed out, or the runner forced its exit) must not leave
  // the server running.
  const killServer = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const forgetExit = onProcessExit(killServer);
  await launch().catch((error: unknown) => {
    forgetExit();
    killServer();
    throw error;
  });

  const credentials = async (): Promise<Credentials> =>
    JSON.parse(await readFile(join(dataDir, 'credentials.json'), 'utf8')) as Credentials;

  const server: ServerProcess = {
    dataDir,
    apiUrl: `http://127.0.0.1:${port}`,
    s3Url: `http://127.0.0.1:${s3Port}`,
    port,
    s3Port,
    get child() {
      return child;
    },
    output: () => output,
    credentials,
    cliEnv: () => ({ ...baseEnv(), NUBES_DATA_DIR: dataDir, NUBES_PORT: String(port), ...options.env }),
    api: async (path, init = {}) => {
      const creds = await credentials();
      const auth = Buffer.from(`${creds.adminUser}:${creds.adminPassword}`).toString('base64');
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Basic ${auth}`);
      return fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers });
    },
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
    restart: launch,
    cleanup: async () => {
      forgetExit();
      await server.stop('SIGKILL');
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `nubes ARGS…` as a user would. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { cwd?: string; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: options.cwd ?? ROOT, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Creates a service through the API (`POST /system/services`, OSCAR's JSON); fails unless it answers 201. */
export async function createService(server: ServerProcess, service: Record<string, unknown>): Promise<void> {
  const created = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(service),
  });
  if (created.status !== 201)
    throw new Error(`service not created (${created.status}): ${await created.text()}`);
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
