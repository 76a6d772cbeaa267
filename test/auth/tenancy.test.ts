/**
 * Tenants on one real server: sealed secrets, per-user S3 keys scoped to their buckets, and quotas that
 * refuse with a clear code (and Retry-After where waiting helps) without leaving anything half-done.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { waitFor } from '../support/server-process.js';
import { serviceDefinition, startTenants, type Tenants, type Who } from './tenants.js';

let t: Tenants;

before(async () => {
  t = await startTenants();
});
after(async () => {
  await t.close();
});

async function errorOf(response: Response): Promise<[number, string]> {
  const body = (await response.json()) as { error: { code: string } };
  return [response.status, body.error.code];
}

async function s3As(who: 'owner' | 'other'): Promise<S3Client> {
  const response = await t.call(who, 'POST', `/system/users/${who}/s3-keys`);
  assert.equal(response.status, 201);
  const key = (await response.json()) as { access_key: string; secret_key: string };
  return new S3Client({
    endpoint: t.server.s3Url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: key.access_key, secretAccessKey: key.secret_key },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function s3Code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return (error as { name: string }).name;
  }
}

async function finishedLog(who: Who, service: string, id: string): Promise<string> {
  await waitFor(async () => {
    const job = (await (await t.call(who, 'GET', `/system/jobs/${service}/${id}`)).json()) as {
      status: string;
    };
    return job.status === 'Succeeded' || job.status === 'Failed' ? job : undefined;
  });
  return (await t.call(who, 'GET', `/system/logs/${service}/${id}`)).text();
}

test('environment.secrets are sealed at rest, hidden from GET, kept on a round trip, and reach the script', async () => {
  const secret = `s3cr3t-${Date.now()}-value`;
  const digest = createHash('sha256').update(secret).digest('hex');
  const definition = serviceDefinition('secretive', 'secret-bkt', {
    script: 'printf %s "$API_KEY" | sha256sum\n',
    environment: { variables: { PLAIN: 'visible' }, secrets: { API_KEY: secret } },
  });
  assert.equal((await t.call('owner', 'POST', '/system/services', definition)).status, 201);
  const shown = (await (await t.call('owner', 'GET', '/system/services/secretive')).json()) as {
    environment: { variables: Record<string, string>; secrets: Record<string, string> };
  };
  assert.deepEqual(shown.environment.secrets, { API_KEY: '<hidden>' });
  assert.deepEqual(shown.environment.variables, { PLAIN: 'visible' });
  const listed = await (await t.call('admin', 'GET', '/system/services')).text();
  assert.ok(!listed.includes(secret), 'not in the listing either');

  const run = async () => {
    const job = (await (await t.call('owner', 'POST', '/job/secretive', {})).json()) as { job_id: string };
    return finishedLog('owner', 'secretive', job.job_id);
  };
  assert.match(await run(), new RegExp(digest));
  // The definition as GET showed it goes back unchanged: the secret stays.
  const roundTrip = { ...definition, environment: shown.environment };
  assert.equal((await t.call('owner', 'PUT', '/system/services', roundTrip)).status, 204);
  assert.match(await run(), new RegExp(digest));

  const files = (await readdir(t.server.dataDir)).filter((name) => name.startsWith('nubes.db'));
  assert.ok(files.length > 0);
  for (const file of files) {
    const bytes = await readFile(join(t.server.dataDir, file));
    assert.ok(!bytes.includes(Buffer.from(secret)), `${file} holds no plaintext secret`);
  }
  assert.ok(!t.server.output().includes(secret), 'the server never logged it');
});

test('per-user S3 keys reach their own buckets and no one else’s private ones', async () => {
  const owner = await s3As('owner');
  const other = await s3As('other');
  assert.equal(await s3Code(owner.send(new CreateBucketCommand({ Bucket: 'owner-private' }))), 'ok');
  assert.equal(
    await s3Code(owner.send(new PutObjectCommand({ Bucket: 'owner-private', Key: 'a.txt', Body: 'mine' }))),
    'ok',
  );
  const object = await owner.send(new GetObjectCommand({ Bucket: 'owner-private', Key: 'a.txt' }));
  assert.equal(await object.Body?.transformToString(), 'mine');

  assert.equal(
    await s3Code(other.send(new GetObjectCommand({ Bucket: 'owner-private', Key: 'a.txt' }))),
    'AccessDenied',
  );
  assert.equal(
    await s3Code(other.send(new ListObjectsV2Command({ Bucket: 'owner-private' }))),
    'AccessDenied',
  );
  assert.equal(
    await s3Code(
      other.send(new PutObjectCommand({ Bucket: 'owner-private', Key: 'b.txt', Body: 'intruder' })),
    ),
    'AccessDenied',
  );
  // The bucket belongs to its creator, as the REST API shows.
  const bucket = (await (await t.call('owner', 'GET', '/system/buckets/owner-private')).json()) as {
    owner: string;
  };
  assert.equal(bucket.owner, 'owner');
  assert.deepEqual(await errorOf(await t.call('other', 'GET', '/system/buckets/owner-private')), [
    403,
    'FORBIDDEN',
  ]);
});

test('quotas: buckets and stored bytes refused with 403 QUOTA_EXCEEDED, nothing created', async () => {
  const owner = await s3As('owner');
  const usage = (await (await t.call('owner', 'GET', '/system/whoami')).json()) as {
    usage: { buckets: number; storedBytes: number };
  };
  const quota = { max_buckets: usage.usage.buckets + 1, max_stored_bytes: usage.usage.storedBytes + 1000 };
  assert.equal((await t.call('admin', 'PUT', '/system/users/owner', { quotas: quota })).status, 200);

  assert.equal((await t.call('owner', 'POST', '/system/buckets', { bucket_name: 'q-one' })).status, 201);
  assert.deepEqual(
    await errorOf(await t.call('owner', 'POST', '/system/buckets', { bucket_name: 'q-two' })),
    [403, 'QUOTA_EXCEEDED'],
  );
  assert.equal(
    await s3Code(owner.send(new CreateBucketCommand({ Bucket: 'q-three' }))),
    'XNubesQuotaExceeded',
  );
  const names = (
    (await (await t.call('admin', 'GET', '/system/buckets')).json()) as { bucket_name: string }[]
  ).map((b) => b.bucket_name);
  assert.ok(!names.includes('q-two') && !names.includes('q-three'), 'no bucket over quota');

  assert.equal(
    await s3Code(owner.send(new PutObjectCommand({ Bucket: 'q-one', Key: 'small', Body: 'x'.repeat(600) }))),
    'ok',
  );
  assert.equal(
    await s3Code(owner.send(new PutObjectCommand({ Bucket: 'q-one', Key: 'big', Body: 'y'.repeat(600) }))),
    'XNubesQuotaExceeded',
  );
  assert.equal(await s3Code(owner.send(new GetObjectCommand({ Bucket: 'q-one', Key: 'big' }))), 'NoSuchKey');
});

test('quotas: concurrent jobs over the limit get 429 with Retry-After; a job larger than the CPU quota gets 403', async () => {
  await t.call('admin', 'PUT', '/system/users/other', { quotas: { max_concurrent_jobs: 1, max_cpu: 1 } });
  const created = await t.call(
    'other',
    'POST',
    '/system/services',
    serviceDefinition('slow', 'slow-bkt', { script: 'sleep 2\n', cpu: '0.5' }),
  );
  assert.equal(created.status, 201);
  const first = await t.call('other', 'POST', '/job/slow', {});
  assert.equal(first.status, 201);
  const second = await t.call('other', 'POST', '/job/slow', {});
  assert.equal(second.status, 429);
  assert.ok(Number(second.headers.get('retry-after')) >= 1, 'Retry-After says when');
  assert.equal(((await second.json()) as { error: { code: string } }).error.code, 'TOO_MANY_REQUESTS');
  const sync = await t.call('other', 'POST', '/run/slow', {});
  assert.equal(sync.status, 429);
  const jobs = (await (await t.call('other', 'GET', '/system/logs/slow')).json()) as {
    jobs: Record<string, unknown>;
  };
  assert.equal(Object.keys(jobs.jobs).length, 1, 'the refused requests left no job');

  const big = await t.call(
    'other',
    'POST',
    '/system/services',
    serviceDefinition('big', 'slow-bkt', { cpu: '2' }),
  );
  assert.equal(big.status, 201);
  assert.deepEqual(await errorOf(await t.call('other', 'POST', '/job/big', {})), [403, 'QUOTA_EXCEEDED']);
});
