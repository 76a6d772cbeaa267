/**
 * A full disk and a read-only data directory, on a real small filesystem (a tmpfs with `size=`, remounted
 * larger and read-only, as root; CI runs as root): uploads through the S3 endpoint (PUT, multipart) and the
 * REST API (streamed, in parts) are refused with S3's XNubesStorageFull / ServiceUnavailable or the API's
 * STORAGE_FULL (507) / STORAGE_READ_ONLY (503); objects already stored keep their bytes; no partial file
 * stays behind; and uploads work again once space returns or the directory is writable again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statfsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startServer, type ServerProcess } from '../support/server-process.js';
import { s3For } from '../support/s3-client.js';

const MiB = 1024 * 1024;
let base = '';
let dataDir = '';
let mounted = false;
let server: ServerProcess | undefined;

function mount(...args: string[]): void {
  execFileSync('mount', args, { stdio: 'pipe' });
}

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'nubes-disk-'));
  dataDir = join(base, 'data');
  mkdirSync(dataDir);
  try {
    mount('-t', 'tmpfs', '-o', 'size=48m,mode=0700', 'tmpfs', dataDir);
    mounted = true;
  } catch {
    return;
  }
  server = await startServer({ dataDir });
});
after(async () => {
  await server?.cleanup();
  if (mounted) execFileSync('umount', [dataDir]);
  await rm(base, { recursive: true, force: true });
});

const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('hex');
const freeBytes = () => {
  const stats = statfsSync(dataDir);
  return stats.bavail * stats.bsize;
};

async function read(s3: S3Client, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: 'disk', Key: key }));
  return md5(await object.Body!.transformToByteArray());
}

async function s3Refusal(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await promise;
  } catch (error) {
    const failure = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    return { status: failure.$metadata?.httpStatusCode ?? 0, code: failure.name ?? '' };
  }
  return { status: 200, code: 'accepted' };
}

async function apiPut(key: string, body: Buffer): Promise<{ status: number; code: string }> {
  const response = await server!.api(`/system/storage/disk/object?key=${encodeURIComponent(key)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body,
  });
  const text = await response.text();
  const code = response.ok ? 'accepted' : (JSON.parse(text) as { error: { code: string } }).error.code;
  return { status: response.status, code };
}

async function startApiUpload(key: string): Promise<string> {
  const created = await server!.api('/system/storage/disk/uploads', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  });
  assert.equal(created.status, 201);
  return ((await created.json()) as { upload_id: string }).upload_id;
}

async function apiPart(uploadId: string, body: Buffer): Promise<{ status: number; code: string }> {
  const response = await server!.api(`/system/storage/disk/uploads/${uploadId}/1`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body,
  });
  const text = await response.text();
  const code = response.ok ? 'accepted' : (JSON.parse(text) as { error: { code: string } }).error.code;
  return { status: response.status, code };
}

async function startS3Upload(s3: S3Client, key: string): Promise<string> {
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'disk', Key: key }));
  return created.UploadId ?? '';
}

function s3Part(
  s3: S3Client,
  key: string,
  uploadId: string,
  body: Buffer,
): Promise<{ status: number; code: string }> {
  return s3Refusal(
    s3.send(
      new UploadPartCommand({ Bucket: 'disk', Key: key, UploadId: uploadId, PartNumber: 1, Body: body }),
    ),
  );
}

function leftovers(): string[] {
  return readdirSync(join(dataDir, 'objects', '.tmp'));
}

test('a full disk refuses uploads with STORAGE_FULL, keeps what is stored, and accepts uploads once space returns', async (t) => {
  if (!server) {
    t.skip('mounting a tmpfs needs root (CI runs as root)');
    return;
  }
  const s3 = await s3For(server, { maxAttempts: 1 });
  const created = await server.api('/system/buckets', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ bucket_name: 'disk' }),
  });
  assert.equal(created.status, 201, await created.text());
  const kept = new Map<string, string>();
  for (let n = 0; n < 3; n++) {
    const body = randomBytes(MiB);
    await s3.send(new PutObjectCommand({ Bucket: 'disk', Key: `kept-${n}.bin`, Body: body }));
    kept.set(`kept-${n}.bin`, md5(body));
  }
  // Fill the disk to about 3 MiB from full.
  const filler = randomBytes(Math.max(0, freeBytes() - 3 * MiB));
  await s3.send(new PutObjectCommand({ Bucket: 'disk', Key: 'filler.bin', Body: filler }));
  kept.set('filler.bin', md5(filler));
  const freeBefore = freeBytes();

  const big = randomBytes(8 * MiB);
  const refusals = {
    's3 put': await s3Refusal(s3.send(new PutObjectCommand({ Bucket: 'disk', Key: 'big.bin', Body: big }))),
    's3 multipart part': await s3Part(s3, 'parts.bin', await startS3Upload(s3, 'parts.bin'), big),
    'api put': await apiPut('api.bin', big),
    'api part': await apiPart(await startApiUpload('api-parts.bin'), big),
  };
  assert.deepEqual(refusals, {
    's3 put': { status: 507, code: 'XNubesStorageFull' },
    's3 multipart part': { status: 507, code: 'XNubesStorageFull' },
    'api put': { status: 507, code: 'STORAGE_FULL' },
    'api part': { status: 507, code: 'STORAGE_FULL' },
  });
  for (const key of ['big.bin', 'parts.bin', 'api.bin', 'api-parts.bin']) {
    const head = await s3Refusal(s3.send(new HeadObjectCommand({ Bucket: 'disk', Key: key })));
    assert.equal(head.status, 404, `${key} was not stored`);
  }
  for (const [key, sum] of kept) assert.equal(await read(s3, key), sum, `${key} kept its bytes`);
  assert.deepEqual(leftovers(), [], 'no partial upload left in the store');
  // The refused bodies' partial files were removed: the space is what it was (give or take the metadata).
  assert.ok(freeBytes() >= freeBefore - MiB, `free ${freeBytes()} of ${freeBefore} before`);

  // Space returns: the filesystem grows; the same uploads go through.
  mount('-o', 'remount,size=96m', dataDir);
  assert.deepEqual(await apiPut('api.bin', big), { status: 200, code: 'accepted' });
  await s3.send(new PutObjectCommand({ Bucket: 'disk', Key: 'big.bin', Body: big }));
  assert.equal(await read(s3, 'big.bin'), md5(big));
  assert.equal(await read(s3, 'api.bin'), md5(big));
  const again = await startS3Upload(s3, 'parts.bin');
  assert.deepEqual(await s3Part(s3, 'parts.bin', again, randomBytes(5 * MiB)), {
    status: 200,
    code: 'accepted',
  });
  assert.deepEqual(await apiPart(await startApiUpload('api-parts.bin'), big), {
    status: 200,
    code: 'accepted',
  });
  for (const [key, sum] of kept) assert.equal(await read(s3, key), sum, `${key} kept its bytes`);
});

test('a read-only data directory refuses uploads with STORAGE_READ_ONLY, still serves reads, and recovers when writable', async (t) => {
  if (!server) {
    t.skip('mounting a tmpfs needs root (CI runs as root)');
    return;
  }
  const s3 = await s3For(server, { maxAttempts: 1 });
  const body = randomBytes(256 * 1024);
  await s3.send(new PutObjectCommand({ Bucket: 'disk', Key: 'before-ro.bin', Body: body }));
  // The kernel refuses to remount read-only a filesystem with files open for writing (the state store's),
  // so the folders uploads write to are made read-only mounts of their own (bind mounts remounted `ro`).
  const s3Upload = await startS3Upload(s3, 'ro-parts.bin');
  const apiUpload = await startApiUpload('ro-api-parts.bin');
  const folders = ['objects', 'multipart', 'dashboard-uploads'].map((name) => join(dataDir, name));
  for (const folder of folders) {
    mkdirSync(folder, { recursive: true });
    mount('--bind', folder, folder);
    mount('-o', 'remount,bind,ro', folder);
  }
  try {
    const refusals = {
      's3 put': await s3Refusal(s3.send(new PutObjectCommand({ Bucket: 'disk', Key: 'ro.bin', Body: body }))),
      's3 multipart part': await s3Part(s3, 'ro-parts.bin', s3Upload, body),
      'api put': await apiPut('ro.bin', body),
      'api part': await apiPart(apiUpload, body),
    };
    assert.deepEqual(refusals, {
      's3 put': { status: 503, code: 'ServiceUnavailable' },
      's3 multipart part': { status: 503, code: 'ServiceUnavailable' },
      'api put': { status: 503, code: 'STORAGE_READ_ONLY' },
      'api part': { status: 503, code: 'STORAGE_READ_ONLY' },
    });
    assert.equal(await read(s3, 'before-ro.bin'), md5(body), 'reads still work');
    const head = await s3Refusal(s3.send(new HeadObjectCommand({ Bucket: 'disk', Key: 'ro.bin' })));
    assert.equal(head.status, 404);
  } finally {
    for (const folder of folders) execFileSync('umount', [folder]);
  }
  await s3.send(new PutObjectCommand({ Bucket: 'disk', Key: 'ro.bin', Body: body }));
  assert.equal(await read(s3, 'ro.bin'), md5(body));
  assert.deepEqual(await apiPut('after-ro.bin', body), { status: 200, code: 'accepted' });
});
