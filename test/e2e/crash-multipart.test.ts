/**
 * SIGKILL at a random point (seeded) of a multipart upload of 30 MiB in six parts: the state store passes
 * its integrity check; after a restart every acknowledged part is listed with its ETag, the client resumes
 * (uploads the missing parts, completes, or finds the upload completed), the object has the uploaded bytes,
 * its job ran once (or no more often than its attempts), and no part or partial file is left behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startServer, type ServerProcess } from '../support/server-process.js';
import { s3For } from '../support/s3-client.js';
import {
  assertIntegrity,
  assertNoOrphans,
  assertRunsWithinPolicy,
  killHard,
  receiptService,
  receiptsByBase,
  seededRandom,
  settledJobs,
} from '../support/crash-kit.js';

const PART_BYTES = 5 * 1024 * 1024;
const PARTS = 6;
const KEY = 'in/big.txt';

let server: ServerProcess;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.cleanup();
});

function partBytes(n: number): Buffer {
  const seed = createHash('sha256').update(`part-${n}`).digest();
  const out = Buffer.alloc(PART_BYTES);
  for (let offset = 0; offset < out.length; offset += seed.length) seed.copy(out, offset);
  return out;
}

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
const expectedEtag = `${createHash('md5')
  .update(Buffer.concat(Array.from({ length: PARTS }, (_, i) => Buffer.from(md5(partBytes(i + 1)), 'hex'))))
  .digest('hex')}-${PARTS}`;

interface Progress {
  uploadId: string | null;
  parts: Map<number, string>;
  completed: boolean;
}

/** Runs the upload from where `progress` stands; each acknowledged step is recorded before the next. */
async function upload(s3: S3Client, progress: Progress, beforeStep: (step: number) => void): Promise<void> {
  let step = 0;
  if (progress.uploadId === null) {
    beforeStep(step++);
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpart', Key: KEY }));
    progress.uploadId = created.UploadId ?? null;
  }
  for (let n = 1; n <= PARTS; n++) {
    if (progress.parts.has(n)) continue;
    beforeStep(step++);
    const sent = await s3.send(
      new UploadPartCommand({
        Bucket: 'mpart',
        Key: KEY,
        UploadId: progress.uploadId ?? '',
        PartNumber: n,
        Body: partBytes(n),
      }),
    );
    progress.parts.set(n, (sent.ETag ?? '').replace(/"/g, ''));
  }
  beforeStep(step++);
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'mpart',
      Key: KEY,
      UploadId: progress.uploadId ?? '',
      MultipartUpload: {
        Parts: [...progress.parts].map(([PartNumber, ETag]) => ({ PartNumber, ETag: `"${ETag}"` })),
      },
    }),
  );
  progress.completed = true;
}

test('SIGKILL at a random point of a multipart upload: acknowledged parts survive, the upload resumes and completes once', async () => {
  const random = seededRandom('multipart');
  // Steps: create, six parts, complete; the kill lands a random few milliseconds into one of them.
  const killStep = random.between(0, PARTS + 1);
  const killDelayMs = random.between(0, 40);
  const created = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(receiptService('mpart', 'mpart/in', 'mpart/out', 'mpart/receipts')),
  });
  assert.equal(created.status, 201, await created.text());

  const progress: Progress = { uploadId: null, parts: new Map(), completed: false };
  const s3 = await s3For(server, { maxAttempts: 1 });
  await upload(s3, progress, (step) => {
    if (step === killStep) setTimeout(() => server.child.kill('SIGKILL'), killDelayMs);
  }).catch(() => undefined);
  await killHard(server);
  assertIntegrity(server.dataDir);
  console.log(
    `multipart: killed ${killDelayMs} ms into step ${killStep}; acknowledged: upload ${progress.uploadId !== null}, ` +
      `parts [${[...progress.parts.keys()].join(',')}], complete ${progress.completed}`,
  );

  await server.restart();
  const again = await s3For(server);
  if (progress.uploadId !== null && !progress.completed) {
    let listed: Map<number, string> | null = null;
    try {
      const parts = await again.send(
        new ListPartsCommand({ Bucket: 'mpart', Key: KEY, UploadId: progress.uploadId }),
      );
      listed = new Map(
        (parts.Parts ?? []).map((part) => [part.PartNumber ?? 0, (part.ETag ?? '').replace(/"/g, '')]),
      );
    } catch (error) {
      // Only a completion cut off before its reply makes the upload disappear: the object is its result.
      assert.equal((error as { name?: string }).name, 'NoSuchUpload');
      assert.equal(killStep, PARTS + 1, 'the upload vanished although it was never completed');
      const head = await again.send(new HeadObjectCommand({ Bucket: 'mpart', Key: KEY }));
      assert.equal(head.ETag, `"${expectedEtag}"`);
      progress.completed = true;
    }
    if (listed !== null) {
      for (const [n, etag] of progress.parts)
        assert.equal(listed.get(n), etag, `acknowledged part ${n} survived`);
      // Parts written but not acknowledged may be listed too; the client sends again what it has no ETag for.
    }
  }
  if (progress.uploadId === null) progress.parts.clear();
  if (!progress.completed) await upload(again, progress, () => undefined);

  const object = await again.send(new GetObjectCommand({ Bucket: 'mpart', Key: KEY }));
  const bytes = Buffer.from(await object.Body!.transformToByteArray());
  assert.equal(bytes.length, PART_BYTES * PARTS);
  assert.equal(md5(bytes), md5(Buffer.concat(Array.from({ length: PARTS }, (_, i) => partBytes(i + 1)))));
  assert.equal(object.ETag, `"${expectedEtag}"`);

  const jobs = await settledJobs(server, ['mpart']);
  assert.equal(jobs.size, 1, 'one job for the one completed upload');
  assertRunsWithinPolicy(jobs.values(), await receiptsByBase(again, 'mpart', 'receipts/'), () => 'big');
  await assertNoOrphans(server, again, ['mpart']);
});

test('a CompleteMultipartUpload repeated after its parts outlived the completion stores nothing twice; a restart collects such parts', async () => {
  if (server.child.exitCode !== null || server.child.signalCode !== null) await server.restart();
  const s3 = await s3For(server);
  const key = 'in/twice.txt';
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpart', Key: key }));
  const uploadId = created.UploadId ?? '';
  const part = await s3.send(
    new UploadPartCommand({
      Bucket: 'mpart',
      Key: key,
      UploadId: uploadId,
      PartNumber: 1,
      Body: 'only part\n',
    }),
  );
  const complete = () =>
    s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'mpart',
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag ?? '' }] },
      }),
    );
  // What a server killed between storing the object and removing the parts leaves: the parts, still there.
  const staged = join(server.dataDir, 'multipart', uploadId);
  const kept = join(server.dataDir, `kept-${uploadId}`);
  await cp(staged, kept, { recursive: true });
  const first = await complete();
  await cp(kept, staged, { recursive: true });
  const again = await complete();
  assert.equal(again.ETag, first.ETag, 'the repeated completion answers as the first did');

  const jobs = await settledJobs(server, ['mpart']);
  const forKey = [...jobs.values()].filter((job) => job.input === `mpart/${key}`);
  assert.equal(forKey.length, 1, 'the object was stored (and triggered its service) once');
  assert.deepEqual(await readdir(join(server.dataDir, 'multipart')), [], 'the parts went with the repeat');

  // The same leftover found at start-up is collected.
  await cp(kept, staged, { recursive: true });
  await killHard(server);
  await server.restart();
  assert.deepEqual(await readdir(join(server.dataDir, 'multipart')), [], 'collected at start');
  await rm(kept, { recursive: true, force: true });
});
