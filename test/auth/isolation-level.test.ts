/**
 * OSCAR's `isolation_level: USER` on a real server: deploying the service creates, for each allowed user,
 * private copies of its buckets (`<bucket>-<user>`) owned by that user; each user's uploads into their copy
 * trigger the service, whose outputs land in that user's copy only; no user reads or writes another's copy,
 * and a bucket someone else made under a user's copy name stops the deploy.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { waitFor } from '../support/server-process.js';
import { startTenants, type Tenants } from './tenants.js';

let t: Tenants;
before(async () => {
  t = await startTenants();
});
after(async () => {
  await t.close();
});

async function s3As(who: 'owner' | 'other'): Promise<S3Client> {
  const response = await t.call(who, 'POST', `/system/users/${who}/s3-keys`);
  assert.equal(response.status, 201);
  const key = (await response.json()) as { access_key: string; secret_key: string };
  return new S3Client({
    endpoint: t.server.s3Url,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: key.access_key, secretAccessKey: key.secret_key },
  });
}

async function keys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((item) => item.Key ?? '').sort();
}

async function refusal(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  }
}

const service = {
  name: 'iso',
  image: 'busybox',
  script: 'tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$(basename "$STORAGE_OBJECT_KEY")"\n',
  memory: '64Mi',
  visibility: 'restricted',
  allowed_users: ['owner', 'other'],
  isolation_level: 'USER',
  input: [{ storage_provider: 'minio.default', path: 'iso/in' }],
  output: [{ storage_provider: 'minio.default', path: 'iso-results/out' }],
};

test("isolation_level USER: private buckets per allowed user, created on deploy; each user's uploads run and their outputs land in their own bucket only", async () => {
  const created = await t.call('admin', 'POST', '/system/services', service);
  const text = await created.text();
  assert.equal(created.status, 201, text);
  assert.doesNotMatch(text, /isolation_level/, 'no warning: the isolation is honoured');
  const shown = (await (await t.call('admin', 'GET', '/system/services/iso')).json()) as {
    bucket_list: string[];
  };
  assert.deepEqual([...shown.bucket_list].sort(), [
    'iso',
    'iso-other',
    'iso-owner',
    'iso-results',
    'iso-results-other',
    'iso-results-owner',
  ]);

  // Each user sees their own copies among their buckets, not the other's.
  for (const [who, mine, theirs] of [
    ['owner', 'iso-owner', 'iso-other'],
    ['other', 'iso-other', 'iso-owner'],
  ] as const) {
    const listed = (await (await t.call(who, 'GET', '/system/buckets')).json()) as { bucket_name: string }[];
    const names = listed.map((bucket) => bucket.bucket_name);
    assert.ok(names.includes(mine), `${who} has ${mine}: ${names.join(', ')}`);
    assert.ok(!names.includes(theirs), `${who} does not see ${theirs}`);
  }

  const owner = await s3As('owner');
  const other = await s3As('other');
  await owner.send(new PutObjectCommand({ Bucket: 'iso-owner', Key: 'in/mine.txt', Body: 'owner data\n' }));
  await other.send(new PutObjectCommand({ Bucket: 'iso-other', Key: 'in/theirs.txt', Body: 'other data\n' }));
  // Neither may write into, or read from, the other's copy.
  assert.equal(
    await refusal(owner.send(new PutObjectCommand({ Bucket: 'iso-other', Key: 'in/x.txt', Body: 'x' }))),
    403,
  );
  assert.equal(await refusal(owner.send(new ListObjectsV2Command({ Bucket: 'iso-other' }))), 403);

  await waitFor(
    async () => ((await keys(owner, 'iso-results-owner', 'out/')).length === 1 ? true : undefined),
    30_000,
    "the owner's output",
  );
  await waitFor(
    async () => ((await keys(other, 'iso-results-other', 'out/')).length === 1 ? true : undefined),
    30_000,
    "the other user's output",
  );
  assert.deepEqual(await keys(owner, 'iso-results-owner', 'out/'), ['out/mine.txt']);
  assert.deepEqual(await keys(other, 'iso-results-other', 'out/'), ['out/theirs.txt']);
  const result = await owner.send(new GetObjectCommand({ Bucket: 'iso-results-owner', Key: 'out/mine.txt' }));
  assert.equal(await result.Body?.transformToString(), 'OWNER DATA\n');
  assert.equal(
    await refusal(owner.send(new GetObjectCommand({ Bucket: 'iso-results-other', Key: 'out/theirs.txt' }))),
    403,
  );
  // Nothing went to the service's shared buckets.
  const sharedResponse = await t.call('admin', 'GET', '/system/buckets/iso-results');
  assert.equal(sharedResponse.status, 200);
  const shared = (await sharedResponse.json()) as { objects: unknown[] };
  assert.deepEqual(shared.objects, []);

  const jobs = (await (await t.call('admin', 'GET', '/system/logs/iso')).json()) as {
    jobs: Record<string, { status: string; input: string }>;
  };
  assert.deepEqual(
    Object.values(jobs.jobs)
      .map((job) => `${job.input} ${job.status}`)
      .sort(),
    ['iso-other/in/theirs.txt Succeeded', 'iso-owner/in/mine.txt Succeeded'],
  );
});

test("a bucket someone else made under a user's copy name stops the deploy", async () => {
  const squatted = await t.call('other', 'POST', '/system/buckets', { bucket_name: 'trap-owner' });
  assert.equal(squatted.status, 201);
  const created = await t.call('admin', 'POST', '/system/services', {
    ...service,
    name: 'trapped',
    input: [{ storage_provider: 'minio.default', path: 'trap/in' }],
    output: [],
  });
  assert.equal(created.status, 409);
  const body = (await created.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'BUCKET_EXISTS');
  assert.match(body.error.message, /trap-owner/);
  assert.equal(
    (await t.call('admin', 'GET', '/system/services/trapped')).status,
    404,
    'no half-deployed service',
  );
});
