/**
 * Two Nubes servers on loopback play two sites: a service on server A reads its input from and writes its
 * outputs to server B's S3 endpoint (`minio.siteb` in its storage_providers), with B's keys, which A never
 * shows. A provider that cannot be reached fails the job with STORAGE_UNREACHABLE, retried by the queue.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { freePort, startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { getText, putText, s3For } from '../support/s3-client.js';

let siteA: ServerProcess;
let siteB: ServerProcess;
let s3B: S3Client;

before(async () => {
  [siteA, siteB] = await Promise.all([startServer(), startServer()]);
  s3B = await s3For(siteB);
  await s3B.send(new CreateBucketCommand({ Bucket: 'siteb' }));
});
after(async () => {
  s3B?.destroy();
  await Promise.all([siteA?.cleanup(), siteB?.cleanup()]);
});

async function deploy(
  server: ServerProcess,
  service: Record<string, unknown>,
): Promise<{ warnings: string[] }> {
  const response = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image: 'busybox', ...service }),
  });
  const body = await response.text();
  assert.equal(response.status, 201, body);
  return JSON.parse(body) as { warnings: string[] };
}

/** The MinIO-shaped record B's store would send for an upload (what OSCAR delegates to another cluster). */
function minioRecord(bucket: string, key: string): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.0',
        eventSource: 'minio:s3',
        eventName: 's3:ObjectCreated:Put',
        eventTime: new Date().toISOString(),
        s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key), size: 1 } },
      },
    ],
  });
}

async function postJob(server: ServerProcess, service: string, body: unknown): Promise<Response> {
  return server.api(`/job/${service}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

interface JobView {
  status: string;
  attempts: number;
  max_attempts: number;
  error: { code: string; retryable: boolean; message: string } | null;
}

async function jobOf(server: ServerProcess, service: string, jobId: string): Promise<JobView> {
  const response = await server.api(`/system/logs/${service}?page_size=100`);
  const { jobs } = (await response.json()) as { jobs: Record<string, JobView> };
  const job = jobs[jobId];
  assert.ok(job, `job ${jobId} is listed`);
  return job;
}

test('a service on server A reads its input from server B and writes its outputs back to B', async () => {
  const keysB = await siteB.credentials();
  const { warnings } = await deploy(siteA, {
    name: 'remote-upper',
    script: 'tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH" .txt).upper"\n',
    input: [{ storage_provider: 'minio.siteb', path: 'siteb/in', trigger: 'poll', poll_interval: 3600 }],
    output: [{ storage_provider: 'minio.siteb', path: 'siteb/out' }],
    storage_providers: {
      minio: {
        siteb: { endpoint: siteB.s3Url, access_key: keysB.s3AccessKey, secret_key: keysB.s3SecretKey },
      },
    },
  });
  assert.ok(!warnings.some((w) => /siteb/.test(w)), warnings.join('\n'));

  await putText(s3B, 'siteb', 'in/report 1.txt', 'measured at site b\n');
  // OSCAR's delegation form: the event names the provider the object lives on.
  const posted = await postJob(siteA, 'remote-upper', {
    storage_provider: 'minio.siteb',
    event: minioRecord('siteb', 'in/report 1.txt'),
  });
  assert.equal(posted.status, 201, await posted.clone().text());
  const { job_id: jobId } = (await posted.json()) as { job_id: string };

  const output = await waitFor(() => getText(s3B, 'siteb', 'out/report 1.upper'), 30_000, 'output on B');
  assert.equal(output, 'MEASURED AT SITE B\n');
  const job = await waitFor(async () => {
    const view = await jobOf(siteA, 'remote-upper', jobId);
    return view.status === 'Succeeded' ? view : undefined;
  });
  assert.equal(job.attempts, 1);
  // Nothing was written to A's own store.
  const listA = await siteA.api('/system/buckets');
  const bucketsA = (await listA.json()) as { bucket_name: string }[];
  assert.ok(!bucketsA.some((bucket) => bucket.bucket_name === 'siteb'), JSON.stringify(bucketsA));

  // B's keys never come back from A's API.
  const shown = await (await siteA.api('/system/services/remote-upper')).text();
  assert.ok(!shown.includes(keysB.s3SecretKey), 'secret key hidden');
  assert.ok(!shown.includes(keysB.s3AccessKey), 'access key hidden');
  assert.match(shown, /<hidden>/);
});

test('a delegated event outside the service inputs is refused (the credentials read only what the FDL names)', async () => {
  const posted = await postJob(siteA, 'remote-upper', {
    storage_provider: 'minio.siteb',
    event: minioRecord('siteb', 'private/secret.txt'),
  });
  assert.equal(posted.status, 403, await posted.text());
});

test('an unreachable provider fails the job with STORAGE_UNREACHABLE after the queue retried it', async () => {
  const closedPort = await freePort();
  await deploy(siteA, {
    name: 'to-nowhere',
    script: 'echo result > "$TMP_OUTPUT_DIR/result.txt"\n',
    max_retries: 1,
    retry_backoff: 0.1,
    output: [{ storage_provider: 's3.gone', path: 'gone/out' }],
    storage_providers: {
      s3: {
        gone: {
          endpoint: `http://127.0.0.1:${closedPort}`,
          access_key: 'AKGONE',
          secret_key: 'gone-secret-1',
        },
      },
    },
  });
  const posted = await siteA.api('/job/to-nowhere', { method: 'POST', body: 'go' });
  assert.equal(posted.status, 201);
  const { job_id: jobId } = (await posted.json()) as { job_id: string };
  const job = await waitFor(
    async () => {
      const view = await jobOf(siteA, 'to-nowhere', jobId);
      return view.status === 'Failed' ? view : undefined;
    },
    60_000,
    'the job to fail',
  );
  assert.equal(job.error?.code, 'STORAGE_UNREACHABLE');
  assert.equal(job.error?.retryable, true);
  assert.equal(job.attempts, 2, 'the queue tried it again');
  assert.match(job.error?.message ?? '', /s3\.gone/);
  const log = await (await siteA.api(`/system/logs/to-nowhere/${jobId}`)).text();
  assert.ok(!log.includes('gone-secret-1'), 'the secret key is not in the log');
});
