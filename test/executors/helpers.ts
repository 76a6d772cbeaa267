/**
 * @module test/executors/helpers
 * Builders for services and invocations, a per-test data directory, and process inspection, shared by the
 * executor and supervisor integration tests.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Invocation } from '../../src/executors/executor.js';
import type { ServiceSpec, StorageIoSpec } from '../../src/fdl/service-spec.js';

/** A resolved service with test defaults; build it by hand as the FDL parser would. */
export function makeService(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name: 'svc',
    image: '',
    script: 'true\n',
    cpu: 0.2,
    memoryBytes: 256 * 1024 * 1024,
    enableGpu: false,
    storageProviders: {},
    logLevel: 'INFO',
    variables: {},
    secrets: {},
    input: [],
    output: [],
    ephemeralStorageBytes: 0,
    timeoutMs: 0,
    maxConcurrency: 0,
    retry: { maxAttempts: 1, initialBackoffMs: 1000, maxBackoffMs: 60000 },
    executor: 'local',
    network: 'none',
    slurm: { partition: null, account: null, qos: null, gres: null, options: [] },
    executionMode: null,
    synchronous: { minScale: null, maxScale: null },
    visibility: 'private',
    allowedUsers: [],
    labels: {},
    annotations: {},
    ...overrides,
  };
}

/** An `output` entry for `path` (`bucket/folder…`) on the embedded store. */
export function makeOutput(
  path: string,
  filters: { prefixes?: string[]; suffixes?: string[] } = {},
): StorageIoSpec {
  const [bucket = '', ...rest] = path.split('/');
  return {
    provider: 'minio.default',
    path,
    bucket,
    folder: rest.filter((part) => part !== '').join('/'),
    prefixes: filters.prefixes ?? [],
    suffixes: filters.suffixes ?? [],
  };
}

/**
 * A data directory for one test, outside /tmp on purpose: the sandbox mounts a private /tmp, which would
 * hide a data directory under /tmp for the wrong reason and make the data-directory test meaningless.
 */
export class TestDataDir {
  private constructor(readonly root: string) {}

  static async create(): Promise<TestDataDir> {
    await mkdir('/var/tmp', { recursive: true });
    return new TestDataDir(await mkdtemp('/var/tmp/nubes-test-'));
  }

  /** Builds an invocation whose work folder and log live in this data directory (as the job runner does). */
  async invocation(
    service: ServiceSpec,
    options: {
      input?: { bucket: string; key: string; eventTimeIso?: string };
      body?: Buffer | string;
      event?: string;
      signal?: AbortSignal;
    } = {},
  ): Promise<Invocation> {
    const jobId = `${service.name}-${randomUUID()}`;
    const workDir = join(this.root, 'work', jobId);
    await mkdir(workDir, { recursive: true, mode: 0o700 });
    await mkdir(join(this.root, 'logs'), { recursive: true });
    let bodyPath: string | null = null;
    if (options.body !== undefined) {
      bodyPath = join(workDir, 'body');
      await writeFile(bodyPath, options.body);
    }
    const input =
      options.input === undefined
        ? null
        : { ...options.input, eventTimeIso: options.input.eventTimeIso ?? '2026-01-02T03:04:05.000Z' };
    return {
      jobId,
      service,
      kind: input === null ? 'http' : 'storage',
      event:
        options.event ??
        (input === null ? '' : JSON.stringify({ Records: [{ s3: { object: { key: input.key } } }] })),
      input,
      bodyPath,
      workDir,
      logPath: join(this.root, 'logs', `${jobId}.log`),
      signal: options.signal ?? new AbortController().signal,
    };
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Reads a job's log ('' when there is none). */
export function readLog(invocation: Invocation): Promise<string> {
  return readFile(invocation.logPath, 'utf8').catch(() => '');
}

/** Pids of live processes whose command line contains `marker` (zombies excluded). */
export async function processesWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      if (!cmdline.includes(marker)) continue;
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue;
      pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

/** Pids of live processes whose environment holds `entry` (`NAME=value`, zombies excluded). */
export async function processesWithEnv(entry: string): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
      if (!environ.includes(entry)) continue;
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue;
      pids.push(Number(pid));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}
