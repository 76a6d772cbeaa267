/**
 * `npm run bench -- core`: the core platform against this machine's own limits, in one run.
 *
 * 1. upload -> script start latency at a steady 100 uploads/s (p50, p99), measured from the PUT's
 *    acknowledgement to the first line of the script (bash's $EPOCHREALTIME);
 * 2. async throughput of a trivial script against the raw rate at which this machine spawns `/bin/sh -c true`
 *    with the same parallelism;
 * 3. `/run` overhead: the p50 of a sync call minus the p50 of running the same script directly.
 * Each is measured with the bubblewrap sandbox (the default) and without it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, type ServerProcess } from '../test/support/server-process.js';
import { s3For } from '../test/support/s3-client.js';

const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function deploy(server: ServerProcess, service: Record<string, unknown>): Promise<string> {
  const response = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image: 'busybox', memory: '64Mi', ...service }),
  });
  if (response.status !== 201) throw new Error(`deploy failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

interface JobEntry {
  status: string;
  input: string | null;
}

async function jobsOf(server: ServerProcess, service: string): Promise<Record<string, JobEntry>> {
  const jobs: Record<string, JobEntry> = {};
  let page = '0';
  do {
    const body = (await (await server.api(`/system/logs/${service}?page=${page}`)).json()) as {
      jobs: Record<string, JobEntry>;
      next_page: string;
    };
    Object.assign(jobs, body.jobs);
    page = body.next_page;
  } while (page !== '');
  return jobs;
}

async function waitAllDone(
  server: ServerProcess,
  service: string,
  count: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = (await (await server.api(`/system/services/${service}`)).json()) as {
      nubes_jobs: { queued: number; running: number; succeeded: number; failed: number };
    };
    const { queued, running, succeeded, failed } = body.nubes_jobs;
    if (queued === 0 && running === 0 && succeeded + failed >= count) return;
    if (Date.now() > deadline) throw new Error(`${service}: jobs did not finish in time`);
    await sleep(20);
  }
}

async function latency(server: ServerProcess, seconds: number, ratePerSecond: number) {
  const name = `probe-${ratePerSecond}`;
  await deploy(server, {
    name,
    script: '#!/bin/bash\necho "START $EPOCHREALTIME"\n',
    input: [{ storage_provider: 'minio.default', path: `bench/in-${ratePerSecond}` }],
  });
  const s3 = await s3For(server);
  const acked = new Map<string, number>();
  const total = seconds * ratePerSecond;
  const start = nowMs();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / ratePerSecond;
    const wait = due - nowMs();
    if (wait > 0) await sleep(wait);
    const key = `in-${ratePerSecond}/obj-${i}`;
    inflight.push(
      s3.send(new PutObjectCommand({ Bucket: 'bench', Key: key, Body: 'x' })).then(() => {
        acked.set(`bench/${key}`, nowMs());
      }),
    );
  }
  await Promise.all(inflight);
  await waitAllDone(server, name, total, 60_000);
  const jobs = await jobsOf(server, name);
  const samples: number[] = [];
  for (const [id, job] of Object.entries(jobs)) {
    const log = await (await server.api(`/system/logs/${name}/${id}`)).text();
    const match = /START (\d+)[.,](\d+)/.exec(log);
    const ackedAt = job.input ? acked.get(job.input) : undefined;
    if (!match || ackedAt === undefined) continue;
    const startedAt = Number(match[1]) * 1000 + Number(`0.${match[2]}`) * 1000;
    samples.push(startedAt - ackedAt);
  }
  return { samples: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

async function rawSpawnRate(count: number, parallel: number): Promise<number> {
  let next = 0;
  const started = nowMs();
  const worker = async () => {
    while (next < count) {
      next++;
      await new Promise<void>((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', 'true'], { stdio: 'ignore' });
        child.on('error', reject);
        child.on('exit', () => resolve());
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return count / ((nowMs() - started) / 1000);
}

async function throughput(server: ServerProcess, count: number): Promise<number> {
  const token = await deploy(server, { name: 'noop', script: 'true\n' });
  const started = nowMs();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const response = await fetch(`${server.apiUrl}/job/noop`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: 'x',
      });
      if (response.status !== 201) throw new Error(`POST /job: ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await waitAllDone(server, 'noop', count, 120_000);
  return count / ((nowMs() - started) / 1000);
}

async function runOverhead(server: ServerProcess, count: number) {
  const script = 'cat "$INPUT_FILE_PATH"\n';
  const token = await deploy(server, { name: 'echo', script });
  const body = Buffer.from('{"hello":"world"}');
  const viaApi: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = nowMs();
    const response = await fetch(`${server.apiUrl}/run/echo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body,
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`/run: ${response.status}`);
    viaApi.push(nowMs() - t0);
  }
  const dir = await mkdtemp(join(tmpdir(), 'nubes-bench-direct-'));
  await writeFile(join(dir, 'script.sh'), script);
  await writeFile(join(dir, 'input'), body);
  const direct: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = nowMs();
    await new Promise<void>((resolve, reject) => {
      const child = spawn('/bin/sh', [join(dir, 'script.sh')], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: '/usr/bin:/bin', INPUT_FILE_PATH: join(dir, 'input') },
      });
      child.stdout.resume();
      child.on('error', reject);
      child.on('exit', () => resolve());
    });
    direct.push(nowMs() - t0);
  }
  await rm(dir, { recursive: true, force: true });
  return {
    run: percentile(viaApi, 50),
    direct: percentile(direct, 50),
    overhead: percentile(viaApi, 50) - percentile(direct, 50),
  };
}

async function measure(sandbox: 'auto' | 'none') {
  const server = await startServer({ args: ['--sandbox', sandbox] });
  try {
    const lat = await latency(server, 5, 100);
    // The same at a quarter of the rate: the latency of an unsaturated server.
    const latQuarter = await latency(server, 5, 25);
    const parallel = availableParallelism() * 2;
    const raw = await rawSpawnRate(1000, parallel);
    const jobsPerSecond = await throughput(server, 1000);
    const run = await runOverhead(server, 200);
    return { sandbox: sandbox === 'auto' ? 'bwrap' : 'none', lat, latQuarter, raw, jobsPerSecond, run };
  } finally {
    await server.cleanup();
  }
}

const rows = [];
for (const sandbox of ['auto', 'none'] as const) rows.push(await measure(sandbox));

const f = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
console.log(
  '\ncore benchmark (targets: latency p50 < 10 ms, throughput >= 0.5 x raw spawn rate, /run overhead p50 < 5 ms)\n',
);
console.log(
  '| sandbox | upload->start p50 ms at 100/s | p99 ms | p50 ms at 25/s | async jobs/s | raw sh spawns/s | ratio | /run p50 ms | direct p50 ms | /run overhead ms |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const row of rows) {
  console.log(
    `| ${row.sandbox} | ${f(row.lat.p50)} | ${f(row.lat.p99)} | ${f(row.latQuarter.p50)} | ${f(row.jobsPerSecond)} | ${f(row.raw)} | ${f(row.jobsPerSecond / row.raw)} | ${f(row.run.run)} | ${f(row.run.direct)} | ${f(row.run.overhead)} |`,
  );
}
const resultsDir = new URL('../../bench/results/', import.meta.url).pathname;
await mkdir(resultsDir, { recursive: true });
await writeFile(
  join(resultsDir, 'core.json'),
  JSON.stringify({ date: new Date().toISOString(), cpus: availableParallelism(), rows }, null, 2) + '\n',
);
console.log(`\nwritten to bench/results/core.json`);
