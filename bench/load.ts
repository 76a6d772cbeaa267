/**
 * `npm run bench -- load`: the server under load, limited to its configured concurrency.
 *
 * For BENCH_SECONDS (default 60): 1,000 clients call `/run` on a trivial service back to back, and 100
 * clients upload 10 MiB objects through the S3 endpoint, at the same time. The server runs with
 * NUBES_MAX_CONCURRENT_JOBS=4, so most /run calls are turned away with the documented 429 + Retry-After;
 * clients honour Retry-After. Anything else is an error. The server's resident memory is sampled every
 * second. Beside it, the machine's limit: a bare node:http server answering the same 1,000 clients. The
 * table gives p99 latency of every answer and of the accepted ones alone, and the load average before and
 * after (the machine is shared).
 */
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer } from '../test/support/server-process.js';
import { s3For } from '../test/support/s3-client.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? '60');
const RUN_CLIENTS = 1000;
const UPLOAD_CLIENTS = 100;
const UPLOAD_BYTES = 10 * 1024 * 1024;
const CONCURRENCY = 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Tally {
  ok: number;
  tooMany: number;
  tooManyWithoutRetryAfter: number;
  errors: Map<string, number>;
  latenciesMs: number[];
  okLatenciesMs: number[];
}

const tally = (): Tally => ({
  ok: 0,
  tooMany: 0,
  tooManyWithoutRetryAfter: 0,
  errors: new Map(),
  latenciesMs: [],
  okLatenciesMs: [],
});
const error = (t: Tally, what: string) => t.errors.set(what, (t.errors.get(what) ?? 0) + 1);

/** `clients` loops calling `once` until `deadline`; a 429 waits its Retry-After. */
async function hammer(
  clients: number,
  deadline: number,
  t: Tally,
  once: () => Promise<{ status: number; retryAfter: string | null }>,
) {
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < deadline) {
        const started = performance.now();
        try {
          const { status, retryAfter } = await once();
          const ms = performance.now() - started;
          t.latenciesMs.push(ms);
          if (status >= 200 && status < 300) {
            t.ok++;
            t.okLatenciesMs.push(ms);
          } else if (status === 429) {
            t.tooMany++;
            if (retryAfter === null || !(Number(retryAfter) > 0)) t.tooManyWithoutRetryAfter++;
            await sleep(Math.max(1, Number(retryAfter ?? '1')) * 1000 * (0.5 + Math.random()));
          } else error(t, `HTTP ${status}`);
        } catch (e) {
          error(t, (e as Error).name || 'network');
          await sleep(200);
        }
      }
    }),
  );
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

const server = await startServer({
  env: { NUBES_MAX_CONCURRENT_JOBS: String(CONCURRENCY), NUBES_LOG_LEVEL: 'error' },
});
try {
  const created = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'echo', image: 'busybox', memory: '64Mi', script: 'echo ok\n', input: [] }),
  });
  if (created.status !== 201) throw new Error(`deploy: ${created.status} ${await created.text()}`);
  const token = ((await created.json()) as { token: string }).token;
  const bucket = await server.api('/system/buckets', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ bucket_name: 'load' }),
  });
  if (bucket.status !== 201) throw new Error(`bucket: ${bucket.status}`);
  const s3 = await s3For(server);
  const payload = Buffer.alloc(UPLOAD_BYTES, 7);

  const loadBefore = loadavg();
  const pid = server.child.pid ?? 0;
  const rssSamples: number[] = [rssBytes(pid)];
  const sampler = setInterval(() => rssSamples.push(rssBytes(pid)), 1000);
  const runs = tally();
  const uploads = tally();
  let uploadSeq = 0;
  const started = Date.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all([
    hammer(RUN_CLIENTS, deadline, runs, async () => {
      const response = await fetch(`${server.apiUrl}/run/echo`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: 'x',
      });
      await response.arrayBuffer();
      return { status: response.status, retryAfter: response.headers.get('retry-after') };
    }),
    hammer(UPLOAD_CLIENTS, deadline, uploads, async () => {
      // Keys cycle so that the disk holds at most a few GiB.
      await s3.send(new PutObjectCommand({ Bucket: 'load', Key: `obj-${uploadSeq++ % 300}`, Body: payload }));
      return { status: 200, retryAfter: null };
    }),
  ]);
  const elapsedS = (Date.now() - started) / 1000;
  const loadAfter = loadavg();
  clearInterval(sampler);

  // The machine's limit: a bare node:http server reading the same request and answering it.
  const bare = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('b2s='));
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const barePort = (bare.address() as AddressInfo).port;
  const baseline = tally();
  await hammer(RUN_CLIENTS, Date.now() + Math.min(SECONDS, 15) * 1000, baseline, async () => {
    const response = await fetch(`http://127.0.0.1:${barePort}/run/echo`, { method: 'POST', body: 'x' });
    await response.arrayBuffer();
    return { status: response.status, retryAfter: null };
  });
  bare.closeAllConnections();
  bare.close();

  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
  const errorsOf = (t: Tally) => [...t.errors.values()].reduce((a, b) => a + b, 0);
  const rows = [
    {
      load: `/run × ${RUN_CLIENTS} clients`,
      answered: runs.latenciesMs.length,
      ok: runs.ok,
      '429': runs.tooMany,
      errors: errorsOf(runs),
      'p50 ms': percentile(runs.latenciesMs, 50).toFixed(1),
      'p99 ms': percentile(runs.latenciesMs, 99).toFixed(1),
      'p99 ok ms': percentile(runs.okLatenciesMs, 99).toFixed(1),
    },
    {
      load: `10 MiB PUT × ${UPLOAD_CLIENTS} clients`,
      answered: uploads.latenciesMs.length,
      ok: uploads.ok,
      '429': uploads.tooMany,
      errors: errorsOf(uploads),
      'p50 ms': percentile(uploads.latenciesMs, 50).toFixed(1),
      'p99 ms': percentile(uploads.latenciesMs, 99).toFixed(1),
      'p99 ok ms': percentile(uploads.okLatenciesMs, 99).toFixed(1),
    },
    {
      load: `bare node:http × ${RUN_CLIENTS} (machine limit)`,
      answered: baseline.latenciesMs.length,
      ok: baseline.ok,
      '429': 0,
      errors: errorsOf(baseline),
      'p50 ms': percentile(baseline.latenciesMs, 50).toFixed(1),
      'p99 ms': percentile(baseline.latenciesMs, 99).toFixed(1),
      'p99 ok ms': percentile(baseline.okLatenciesMs, 99).toFixed(1),
    },
  ];
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');
  console.log(
    `\nload for ${SECONDS} s (${elapsedS.toFixed(0)} s until the last request under way was answered), ` +
      `server limited to ${CONCURRENCY} concurrent jobs; load average before ${load(loadBefore)}, after ${load(loadAfter)}`,
  );
  console.table(rows);
  const maxRss = Math.max(...rssSamples);
  console.log(
    `server RSS: start ${mib(rssSamples[0] ?? 0)} MiB, max ${mib(maxRss)} MiB, end ${mib(rssSamples.at(-1) ?? 0)} MiB; ` +
      `uploads ${((uploads.ok * UPLOAD_BYTES) / 1024 / 1024 / elapsedS).toFixed(1)} MiB/s`,
  );
  console.log(
    `429s without Retry-After: ${runs.tooManyWithoutRetryAfter}; errors: ${JSON.stringify(Object.fromEntries([...runs.errors, ...uploads.errors]))}`,
  );

  const resultsDir = new URL('../../bench/results/', import.meta.url).pathname;
  await mkdir(resultsDir, { recursive: true });
  await writeFile(
    join(resultsDir, 'load.json'),
    JSON.stringify(
      {
        seconds: SECONDS,
        elapsedSeconds: elapsedS,
        concurrency: CONCURRENCY,
        loadAverage: { before: loadBefore, after: loadAfter },
        rows,
        rss: { startBytes: rssSamples[0], maxBytes: maxRss, endBytes: rssSamples.at(-1) },
        tooManyWithoutRetryAfter: runs.tooManyWithoutRetryAfter,
        errors: Object.fromEntries([...runs.errors, ...uploads.errors]),
      },
      null,
      2,
    ) + '\n',
  );
  console.log('written to bench/results/load.json');
} finally {
  await server.cleanup();
}
