/**
 * @module test/support/crash-kit
 * What the SIGKILL tests share: a seeded random source (the seed is printed, and NUBES_CRASH_SEED replays
 * it), the state store's integrity check on the killed server's files, the check that no orphan file
 * survives a restart, and "receipts": services whose every completed run leaves one uniquely named object,
 * so that runs to completion can be counted per input.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { S3Client } from '@aws-sdk/client-s3';
import { listKeys } from './s3-client.js';
import type { ServerProcess } from './server-process.js';

/** A seeded generator (mulberry32) with the seed printed, so that a failing run can be replayed. */
export function seededRandom(name: string): {
  seed: number;
  next: () => number;
  between: (a: number, b: number) => number;
} {
  const given = process.env['NUBES_CRASH_SEED'];
  const seed =
    given !== undefined && given !== '' ? Number(given) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  console.log(`${name}: crash seed ${seed} (replay with NUBES_CRASH_SEED=${seed})`);
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, between: (a, b) => a + Math.floor(next() * (b - a + 1)) };
}

/** Kills the server with SIGKILL and waits for it to be gone. */
export async function killHard(server: ServerProcess): Promise<void> {
  await server.stop('SIGKILL');
}

/** `PRAGMA integrity_check` on the state store of a stopped server (as the kill left it). */
export function assertIntegrity(dataDir: string): void {
  const db = new Database(join(dataDir, 'nubes.db'));
  try {
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    assert.deepEqual(
      rows.map((row) => row.integrity_check),
      ['ok'],
      'the state store passes its integrity check',
    );
  } finally {
    db.close();
  }
}

function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * After a restart (and once the scenario's traffic is over): the store's folders hold exactly one file per
 * listed object, no unfinished upload, no multipart part left behind, no job work folder.
 */
export async function assertNoOrphans(server: ServerProcess, s3: S3Client, buckets: string[]): Promise<void> {
  const objects = join(server.dataDir, 'objects');
  assert.deepEqual(filesUnder(join(objects, '.tmp')), [], 'no unfinished upload in the store');
  for (const bucket of buckets) {
    const listed = await listKeys(s3, bucket, '');
    assert.equal(
      filesUnder(join(objects, bucket)).length,
      listed.length,
      `bucket ${bucket}: one data file per object (${listed.length} objects)`,
    );
  }
  assert.deepEqual(filesUnder(join(server.dataDir, 'multipart')), [], 'no multipart upload left behind');
  assert.deepEqual(filesUnder(join(server.dataDir, 'work')), [], 'no job work folder left behind');
}

/**
 * A script that copies its input to `<name>.txt` (the real output) and leaves `<name>.<random>.receipt`:
 * one receipt per run that reached its outputs.
 */
export const RECEIPT_SCRIPT = [
  'sleep 0.2',
  'base=$(basename "$STORAGE_OBJECT_KEY" .txt)',
  'cp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/$base.txt"',
  'nonce=$(od -An -N8 -tx8 /dev/urandom | tr -d " \\n")',
  'echo "$JOB_UUID" > "$TMP_OUTPUT_DIR/$base.$nonce.receipt"',
  '',
].join('\n');

/** A service running RECEIPT_SCRIPT on `<bucket>/<input>`, writing `.txt` outputs and receipts. */
export function receiptService(
  name: string,
  input: string,
  output: string,
  receipts: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    image: 'busybox',
    script: RECEIPT_SCRIPT,
    memory: '64Mi',
    input: [{ storage_provider: 'minio.default', path: input, suffix: ['.txt'] }],
    output: [
      { storage_provider: 'minio.default', path: output, suffix: ['.txt'] },
      { storage_provider: 'minio.default', path: receipts, suffix: ['.receipt'] },
    ],
    ...extra,
  };
}

export interface JobView {
  status: string;
  input: string | null;
  attempts: number;
  max_attempts: number;
}

/** Every job of a service, by id. */
export async function allJobs(server: ServerProcess, service: string): Promise<Map<string, JobView>> {
  const jobs = new Map<string, JobView>();
  let page = '0';
  do {
    const response = await server.api(`/system/logs/${service}?page=${page}`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { jobs: Record<string, JobView>; next_page: string };
    for (const [id, job] of Object.entries(body.jobs)) jobs.set(id, job);
    page = body.next_page;
  } while (page !== '');
  return jobs;
}

/** Waits until no job of the services is pending or running, and returns their jobs. */
export async function settledJobs(
  server: ServerProcess,
  services: string[],
  timeoutMs = 90_000,
): Promise<Map<string, JobView>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = new Map<string, JobView>();
    for (const service of services) for (const [id, job] of await allJobs(server, service)) jobs.set(id, job);
    const busy = [...jobs.values()].filter((job) => job.status === 'Pending' || job.status === 'Running');
    if (busy.length === 0) return jobs;
    if (Date.now() > deadline) throw new Error(`${busy.length} jobs still pending or running`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Receipts in `<bucket>/<prefix>` counted per base name (`x.1234.receipt` -> x). */
export async function receiptsByBase(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const key of await listKeys(s3, bucket, prefix)) {
    const base = key.slice(prefix.length).replace(/\.[0-9a-f]+\.receipt$/, '');
    counts.set(base, (counts.get(base) ?? 0) + 1);
  }
  return counts;
}

/**
 * Each input's job ran to completion once, or more only as its retry policy allowed: receipts (completed
 * runs) at least 1 and at most the job's attempts; and exactly one job per input.
 */
export function assertRunsWithinPolicy(
  jobs: Iterable<JobView>,
  receipts: Map<string, number>,
  baseOf: (input: string) => string,
): void {
  const jobsPerInput = new Map<string, JobView[]>();
  for (const job of jobs) {
    const list = jobsPerInput.get(job.input ?? '') ?? [];
    list.push(job);
    jobsPerInput.set(job.input ?? '', list);
  }
  for (const [input, list] of jobsPerInput) {
    assert.equal(list.length, 1, `one job for ${input}`);
    const job = list[0]!;
    assert.equal(job.status, 'Succeeded', `the job of ${input} succeeded`);
    const runs = receipts.get(baseOf(input)) ?? 0;
    assert.ok(runs >= 1, `the job of ${input} completed`);
    assert.ok(
      runs <= job.attempts,
      `the job of ${input} completed ${runs} times in ${job.attempts} attempts (max ${job.max_attempts})`,
    );
  }
}
