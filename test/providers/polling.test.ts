/**
 * `trigger: poll`: server A lists an input folder on server B (another Nubes playing an external S3
 * service) and starts one job per new object; the watermark in A's database means a restart of A neither
 * loses the objects written while it was down nor starts any object twice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { getText, putText, s3For } from '../support/s3-client.js';

let siteA: ServerProcess;
let siteB: ServerProcess;
let s3B: S3Client;

before(async () => {
  [siteA, siteB] = await Promise.all([startServer(), startServer()]);
  s3B = await s3For(siteB);
  await s3B.send(new CreateBucketCommand({ Bucket: 'polled' }));
});
after(async () => {
  s3B?.destroy();
  await Promise.all([siteA?.cleanup(), siteB?.cleanup()]);
});

async function jobCount(): Promise<number> {
  const response = await siteA.api('/system/logs/poller?page_size=100');
  const { jobs } = (await response.json()) as { jobs: Record<string, { status: string }> };
  return Object.keys(jobs).length;
}

test('a polled bucket starts one job per new object, and a restart neither loses nor repeats one', async () => {
  await putText(s3B, 'polled', 'in/before.txt', 'already there\n');
  const keysB = await siteB.credentials();
  const created = await siteA.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'poller',
      image: 'busybox',
      script: 'cp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH").seen"\n',
      input: [{ storage_provider: 'minio.siteb', path: 'polled/in', trigger: 'poll', poll_interval: 1 }],
      output: [{ storage_provider: 'minio.siteb', path: 'polled/out' }],
      storage_providers: {
        minio: {
          siteb: { endpoint: siteB.s3Url, access_key: keysB.s3AccessKey, secret_key: keysB.s3SecretKey },
        },
      },
    }),
  });
  assert.equal(created.status, 201, await created.text());
  // Let the first look set the watermark, then write.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await putText(s3B, 'polled', 'in/one.txt', 'one\n');
  await putText(s3B, 'polled', 'in/two.txt', 'two\n');
  assert.equal(await waitFor(() => getText(s3B, 'polled', 'out/one.txt.seen'), 30_000, 'one'), 'one\n');
  assert.equal(await waitFor(() => getText(s3B, 'polled', 'out/two.txt.seen'), 30_000, 'two'), 'two\n');
  assert.equal(await jobCount(), 2, 'the object there before the deploy started nothing');

  await siteA.stop();
  await putText(s3B, 'polled', 'in/while-down.txt', 'three\n');
  await siteA.restart();
  assert.equal(
    await waitFor(() => getText(s3B, 'polled', 'out/while-down.txt.seen'), 30_000, 'while-down'),
    'three\n',
  );
  // A few more looks: nothing is started again.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.equal(await jobCount(), 3);
  assert.equal(await getText(s3B, 'polled', 'out/before.txt.seen'), undefined);
});
