/**
 * The scheduler end to end: a real server, real `nubes worker` site agents on loopback running real Python
 * partitions (Monte Carlo pi with a point fixed per (partition, iteration), so the job's total is exact),
 * the legacy RUPER-LB text protocol over HTTP with curl, the CLI, and job files uploaded to the watched bucket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN, ROOT, runCli, startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { piHits } from '../support/pi-reference.js';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { getText, putText, s3For } from '../support/s3-client.js';

let server: ServerProcess;
let scratch: string;
const workers: ChildProcess[] = [];

before(async () => {
  server = await startServer();
  scratch = await mkdtemp(join(tmpdir(), 'nubes-sched-'));
});
after(async () => {
  for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
  await server.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  assert.ok(response.ok, `${response.status} ${text}`);
  return JSON.parse(text) as T;
}

async function adminPost<T>(path: string, body: unknown): Promise<T> {
  return json<T>(
    await server.api(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

function tenantFetch(token: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.apiUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
}

function startWorker(site: string, token: string, slots: number): ChildProcess {
  const child = spawn(
    process.execPath,
    [BIN, 'worker', '--api', server.apiUrl, '--site', site, '--slots', String(slots), '--poll-ms', '100'],
    {
      env: { ...process.env, NUBES_SITE_TOKEN: token, PYTHONPATH: join(ROOT, 'clients', 'python') },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  workers.push(child);
  return child;
}

test('Monte Carlo pi over two real worker sites: exact total, a crashed partition retried elsewhere', async () => {
  const tenant = await adminPost<{ token: string }>('/system/scheduler/tenants', { name: 'lab' });
  const siteA = await adminPost<{ token: string }>('/system/scheduler/sites', { name: 'site-a' });
  const siteB = await adminPost<{ token: string }>('/system/scheduler/sites', { name: 'site-b' });
  const iterations = 240_000;
  const submitted = await json<{ id: string; state: string }>(
    await tenantFetch(tenant.token, '/system/scheduler/jobs', {
      method: 'POST',
      body: JSON.stringify({
        name: 'pi',
        iterations,
        partitions: 4,
        reportIntervalSec: 0.5,
        command: ['python3', join(ROOT, 'test', 'fixtures', 'scheduler', 'pi.py')],
        resultReducer: 'sum',
        input: { failFirstAttemptOf: 1 },
      }),
    }),
  );
  assert.equal(submitted.state, 'pending');
  startWorker('site-a', siteA.token, 2);
  startWorker('site-b', siteB.token, 2);
  try {
    await checkPiJob(tenant.token, submitted.id, iterations);
  } finally {
    for (const worker of workers) worker.kill('SIGTERM');
  }
});

async function checkPiJob(token: string, jobId: string, iterations: number): Promise<void> {
  type Results = {
    state: string;
    done: number;
    result: { samples: number; hits: number };
    partitions: { index: number; attempt: number; done: number; site: string; timeline: unknown[] }[];
    error: unknown;
  };
  const results = await waitFor(
    async () => {
      const answer = await json<Results>(await tenantFetch(token, `/system/scheduler/jobs/${jobId}/results`));
      return ['succeeded', 'failed'].includes(answer.state) ? answer : undefined;
    },
    120_000,
    'the pi job to end',
  );
  assert.equal(results.state, 'succeeded', JSON.stringify(results.error));
  const summary = JSON.stringify({
    ...results,
    partitions: results.partitions.map(({ timeline, ...rest }) => ({ ...rest, samples: timeline.length })),
  });
  assert.equal(results.result.samples, iterations, `every iteration computed exactly once: ${summary}`);
  const expected = results.partitions.reduce((sum, part) => sum + piHits(part.index, part.done), 0);
  assert.equal(results.result.hits, expected);
  assert.ok(Math.abs((4 * results.result.hits) / iterations - Math.PI) < 0.02);
  const crashed = results.partitions.find((part) => part.index === 1);
  assert.ok(crashed && crashed.attempt >= 1, 'partition 1 crashed once and ran again');
  assert.ok(
    results.partitions.every((part) => part.timeline.length >= 1),
    'speed timelines recorded',
  );

  // Another tenant does not see the job.
  const other = await adminPost<{ token: string }>('/system/scheduler/tenants', { name: 'other' });
  const hidden = await tenantFetch(other.token, `/system/scheduler/jobs/${jobId}`);
  assert.equal(hidden.status, 404);
}

test('the legacy TaScaaS text protocol round-trips with curl', async () => {
  const site = await adminPost<{ token: string }>('/system/scheduler/sites', { name: 'legacy' });
  const job = await adminPost<{ id: string }>('/system/scheduler/jobs', {
    iterations: 1000,
    partitions: 2,
    reportIntervalSec: 60,
    command: ['true'],
  });
  const leased = await json<{ partitions: { index: number; lbPath: string }[] }>(
    await fetch(`${server.apiUrl}/system/scheduler/sites/legacy/lease`, {
      method: 'POST',
      headers: { authorization: `Bearer ${site.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ slots: 2 }),
    }),
  );
  const [first, second] = leased.partitions;
  assert.ok(first && second);
  const curl = async (url: string) => (await promisify(execFile)('curl', ['-s', url])).stdout;
  const base = (part: { lbPath: string }) => `${server.apiUrl}${part.lbPath}`;
  assert.equal(await curl(`${base(first)}/start?worker=${first.index}&dt=0`), '0 \n Assigned: 500\n ETA: 0');
  assert.match(
    await curl(`${base(second)}/start?worker=${second.index}&dt=0`),
    /^0 \n Assigned: 500\n ETA: \d+$/,
  );
  // TaScaaS's prime example reads the count with grep and cut.
  const { stdout } = await promisify(execFile)('bash', [
    '-c',
    `curl -s "${base(first)}/report?worker=${first.index}&nIter=100&dt=1" | grep "Assigned:" | cut -d ":" -f2`,
  ]);
  assert.match(stdout.trim(), /^\d+$/);
  assert.match(
    await curl(`${base(first)}/report?worker=${first.index}&nIter=200&dt=2`),
    /^0\n Assigned: \d+\n ETA: \d+$/,
  );
  assert.equal(await curl(`${base(first)}/finish?worker=${first.index}&nIter=500&dt=5`), '0');
  assert.equal(await curl(`${base(second)}/finish?worker=${second.index}&nIter=500&dt=5`), '0');
  const done = await json<{ state: string; done: number }>(
    await server.api(`/system/scheduler/jobs/${job.id}`),
  );
  assert.deepEqual([done.state, done.done], ['succeeded', 1000]);
  // Errors as TaScaaS answered them.
  const missing = await fetch(`${base(first)}/report?worker=${first.index}&dt=2`);
  assert.deepEqual([missing.status, await missing.text()], [400, 'missing iterations done']);
  const wrongToken = await fetch(`${server.apiUrl}/lb/${job.id}.nope/report?worker=0&nIter=1&dt=1`);
  assert.equal(wrongToken.status, 403);
  assert.equal(await curl(`${base(first)}/report?worker=9&nIter=1&dt=1`), '1 3');
});

test('jobs submitted with the CLI and by uploading a job file to the watched bucket', async () => {
  const file = join(scratch, 'count.json');
  await writeFile(file, JSON.stringify({ iterations: 10, partitions: 1, command: ['true'] }));
  const submit = await runCli(['jobs', 'submit', file], server.cliEnv());
  assert.equal(submit.code, 0, submit.stderr);
  const id = submit.stdout.trim();
  assert.match(id, /^sj-/);
  const list = await runCli(['jobs', 'list'], server.cliEnv());
  assert.match(list.stdout, new RegExp(id));
  const cancel = await runCli(['jobs', 'cancel', id], server.cliEnv());
  assert.equal(cancel.stdout.trim(), `${id} cancelled`);
  const bad = await runCli(['jobs', 'submit', file, '--token', 'nbt_wrong'], server.cliEnv());
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown tenant token/);

  const s3 = await s3For(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'scheduler-jobs' }));
  await putText(
    s3,
    'scheduler-jobs',
    'lab/sweep.job.json',
    JSON.stringify({ iterations: 5, command: ['true'] }),
  );
  const status = await waitFor(
    async () => getText(s3, 'scheduler-jobs', 'lab/sweep.job.json.status.json'),
    20_000,
    'the status file',
  );
  const { jobId } = JSON.parse(status) as { jobId: string };
  const job = await json<{ tenant: string; iterations: number }>(
    await server.api(`/system/scheduler/jobs/${jobId}`),
  );
  assert.deepEqual([job.tenant, job.iterations], ['lab', 5]);
  await putText(s3, 'scheduler-jobs', 'broken.job.json', '{"iterations": -1}');
  const error = await waitFor(
    async () => getText(s3, 'scheduler-jobs', 'broken.job.json.status.json'),
    20_000,
    'the error file',
  );
  assert.match(error, /VALIDATION_FAILED/);
});
