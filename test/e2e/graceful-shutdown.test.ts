/**
 * Graceful shutdown of the real server process on SIGTERM: new requests (REST API and S3) are refused with
 * 503 UNAVAILABLE and Retry-After at once; a job that finishes within the grace period is recorded as it
 * ended; a job still running when the grace period ends is stopped and queued again without charging its
 * attempt; jobs never started stay queued; the process exits 0; after a restart every queued job runs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { listKeys, putText, s3For } from '../support/s3-client.js';

const GRACE_SECONDS = 4;
let server: ServerProcess;

before(async () => {
  server = await startServer({
    args: ['--shutdown-grace', String(GRACE_SECONDS), '--max-concurrent-jobs', '2'],
  });
});
after(async () => {
  await server.cleanup();
});

interface Job {
  status: string;
  input: string | null;
  attempts: number;
  finish_time: string | null;
}

async function jobsByInput(): Promise<Map<string, Job>> {
  const response = await server.api('/system/logs/sleepy');
  assert.equal(response.status, 200);
  const body = (await response.json()) as { jobs: Record<string, Job> };
  return new Map(Object.values(body.jobs).map((job) => [job.input ?? '', job]));
}

test('SIGTERM refuses new work with 503, lets running jobs finish within the grace period, requeues the rest, exits 0', async () => {
  const created = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'sleepy',
      image: 'busybox',
      // Each input names how many seconds its job takes.
      script:
        'sleep "$(cat "$INPUT_FILE_PATH")"\ncp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/$(basename "$STORAGE_OBJECT_KEY")"\n',
      memory: '64Mi',
      input: [{ storage_provider: 'minio.default', path: 'sleepy/in' }],
      output: [{ storage_provider: 'minio.default', path: 'sleepy/out' }],
    }),
  });
  assert.equal(created.status, 201, await created.text());
  const s3 = await s3For(server);
  await putText(s3, 'sleepy', 'in/quick', '2');
  await putText(s3, 'sleepy', 'in/long', '12');
  await waitFor(async () => {
    const jobs = await jobsByInput();
    return jobs.get('sleepy/in/quick')?.status === 'Running' &&
      jobs.get('sleepy/in/long')?.status === 'Running'
      ? true
      : undefined;
  });
  // Two job slots, both busy: this one waits in the queue.
  await putText(s3, 'sleepy', 'in/waiting', '1');

  const exited = new Promise<{ code: number | null; ms: number }>((resolve) => {
    const started = Date.now();
    server.child.once('exit', (code) => resolve({ code, ms: Date.now() - started }));
  });
  server.child.kill('SIGTERM');

  const health = await waitFor(
    async () => {
      const response = await fetch(`${server.apiUrl}/health`);
      return response.status === 503 ? response : undefined;
    },
    5000,
    '/health to answer 503',
  );
  assert.equal(health.headers.get('retry-after'), '5');
  assert.equal(((await health.json()) as { error: { code: string } }).error.code, 'UNAVAILABLE');

  const info = await server.api('/system/info');
  assert.equal(info.status, 503);
  assert.ok(info.headers.get('retry-after'));
  assert.equal(((await info.json()) as { error: { code: string } }).error.code, 'UNAVAILABLE');

  const once = await s3For(server, { maxAttempts: 1 });
  await assert.rejects(
    once.send(new PutObjectCommand({ Bucket: 'sleepy', Key: 'in/late', Body: '1' })),
    (error: { name?: string; $metadata?: { httpStatusCode?: number } }) =>
      error.$metadata?.httpStatusCode === 503 && error.name === 'ServiceUnavailable',
  );

  const { code, ms } = await exited;
  assert.equal(code, 0, server.output());
  // The long job held the shutdown for the whole grace period, no (much) longer.
  assert.ok(ms >= GRACE_SECONDS * 1000 - 500, `exited after ${ms} ms`);
  assert.ok(ms < GRACE_SECONDS * 1000 + 20_000, `exited after ${ms} ms`);

  await server.restart();
  const before = await jobsByInput();
  const quick = before.get('sleepy/in/quick');
  assert.equal(quick?.status, 'Succeeded', 'the job that ended within the grace period kept its outcome');
  assert.equal(quick?.attempts, 1);
  assert.equal(before.has('sleepy/in/late'), false, 'the refused upload caused nothing');

  const final = await waitFor(
    async () => {
      const jobs = await jobsByInput();
      return [...jobs.values()].every((job) => job.status === 'Succeeded') ? jobs : undefined;
    },
    60_000,
    'the requeued and the waiting job to run after the restart',
  );
  assert.deepEqual([...final.keys()].sort(), ['sleepy/in/long', 'sleepy/in/quick', 'sleepy/in/waiting']);
  // The interrupted attempt was not charged: the requeued job ran once to completion, on its first attempt.
  assert.equal(final.get('sleepy/in/long')?.attempts, 1);
  assert.equal(final.get('sleepy/in/waiting')?.attempts, 1);
  const s3After = await s3For(server);
  assert.deepEqual((await listKeys(s3After, 'sleepy', 'out/')).sort(), [
    'out/long',
    'out/quick',
    'out/waiting',
  ]);
  assert.deepEqual((await listKeys(s3After, 'sleepy', 'in/')).sort(), ['in/long', 'in/quick', 'in/waiting']);
});
