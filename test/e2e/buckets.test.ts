/**
 * Buckets through the real server process: OSCAR's /system/buckets API (create, list, get with paginated
 * objects, update, delete, presign), its visibility enforced by the S3 endpoint, and services subscribed
 * to removals as well as creations.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CopyObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { getText, listKeys, putText, s3For } from '../support/s3-client.js';

let server: ServerProcess;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server.cleanup();
});

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

function post(path: string, body: unknown, method = 'POST'): Promise<Response> {
  return server.api(path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

test('the bucket API: create, list, paginated get, visibility enforced by S3, presign, delete', async () => {
  const created = await post('/system/buckets', { bucket_name: 'shared-data', visibility: 'public' });
  assert.equal(created.status, 201, await created.clone().text());
  assert.deepEqual(await json(created), {
    bucket_name: 'shared-data',
    visibility: 'public',
    allowed_users: [],
    owner: (await server.credentials()).adminUser,
    metadata: {},
  });
  const duplicate = await post('/system/buckets', { bucket_name: 'shared-data' });
  assert.equal(duplicate.status, 409);
  assert.equal(((await json(duplicate)).error as { code: string }).code, 'BUCKET_EXISTS');
  const invalid = await post('/system/buckets', { bucket_name: 'Bad_Name', visibility: 'hidden' });
  assert.equal(invalid.status, 400);
  assert.match(((await json(invalid)).error as { message: string }).message, /visibility/);

  const s3 = await s3For(server);
  for (const name of ['a.txt', 'b.txt', 'c.txt']) await putText(s3, 'shared-data', `files/${name}`, name);
  const anonymous = await fetch(`${server.s3Url}/shared-data/files/a.txt`);
  assert.equal(anonymous.status, 200);
  assert.equal(await anonymous.text(), 'a.txt');

  const list = (await (await server.api('/system/buckets')).json()) as Array<Record<string, unknown>>;
  assert.deepEqual(
    list.map((bucket) => [bucket.bucket_name, bucket.visibility]),
    [['shared-data', 'public']],
  );
  const first = await json(await server.api('/system/buckets/shared-data?limit=2'));
  assert.deepEqual(
    (first.objects as Array<{ object_name: string; size_bytes: number }>).map((o) => [
      o.object_name,
      o.size_bytes,
    ]),
    [
      ['files/a.txt', 5],
      ['files/b.txt', 5],
    ],
  );
  assert.equal(first.is_truncated, true);
  assert.equal(first.returned_items, 2);
  const second = await json(
    await server.api(`/system/buckets/shared-data?limit=2&page=${String(first.next_page)}`),
  );
  assert.deepEqual(
    (second.objects as Array<{ object_name: string }>).map((o) => o.object_name),
    ['files/c.txt'],
  );
  assert.equal(second.is_truncated, false);
  assert.equal((await server.api('/system/buckets/no-such-bucket')).status, 404);

  const updated = await post(
    '/system/buckets',
    { bucket_name: 'shared-data', visibility: 'restricted', allowed_users: ['ana'] },
    'PUT',
  );
  assert.equal(updated.status, 200);
  assert.deepEqual((await json(updated)).allowed_users, ['ana']);
  assert.equal((await fetch(`${server.s3Url}/shared-data/files/a.txt`)).status, 403);

  const upload = await json(
    await post('/system/buckets/shared-data/presign', {
      object_key: 'uploads/report.csv',
      operation: 'upload',
      content_type: 'text/csv',
      expires_in: 120,
    }),
  );
  assert.equal(upload.method, 'PUT');
  assert.deepEqual(upload.headers, { 'Content-Type': 'text/csv' });
  const put = await fetch(String(upload.url), {
    method: 'PUT',
    headers: { 'Content-Type': 'text/csv' },
    body: 'x,y\n1,2\n',
  });
  assert.equal(put.status, 200, await put.clone().text());
  const download = await json(
    await post('/system/buckets/shared-data/presign', {
      object_key: 'uploads/report.csv',
      operation: 'download',
      content_type: 'application/x-report',
    }),
  );
  const got = await fetch(String(download.url));
  assert.equal(got.status, 200);
  assert.equal(got.headers.get('content-type'), 'application/x-report');
  assert.equal(await got.text(), 'x,y\n1,2\n');
  const badPresign = await post('/system/buckets/shared-data/presign', {
    object_key: 'x',
    operation: 'delete',
  });
  assert.equal(badPresign.status, 400);

  const deleted = await server.api('/system/buckets/shared-data', { method: 'DELETE' });
  assert.equal(deleted.status, 204);
  assert.deepEqual(await (await server.api('/system/buckets')).json(), []);
  assert.equal((await fetch(`${server.apiUrl}/system/buckets`)).status, 401);
});

test('a service subscribed to removals runs on DeleteObject; created-object services do not', async () => {
  const script = 'echo "$EVENT" > "$TMP_OUTPUT_DIR/$(date +%s%N).json"\n';
  const deploy = async (name: string, input: Record<string, unknown>) => {
    const response = await post('/system/services', {
      name,
      image: 'busybox',
      memory: '64Mi',
      script,
      input: [{ storage_provider: 'minio', path: 'watched/in', ...input }],
      output: [{ storage_provider: 'minio', path: `watched/out-${name}` }],
    });
    assert.equal(response.status, 201, await response.clone().text());
  };
  await deploy('on-create', {});
  await deploy('on-remove', { events: ['s3:ObjectRemoved:*'] });
  const s3 = await s3For(server);
  await putText(s3, 'watched', 'in/data.txt', 'payload');
  await waitFor(
    async () => (await listKeys(s3, 'watched', 'out-on-create/')).length === 1 || undefined,
    30_000,
    'on-create output',
  );
  await s3.send(
    new CopyObjectCommand({ Bucket: 'watched', Key: 'in/copy.txt', CopySource: 'watched/in/data.txt' }),
  );
  await s3.send(new DeleteObjectCommand({ Bucket: 'watched', Key: 'in/data.txt' }));
  const removed = await waitFor(
    async () => {
      const keys = await listKeys(s3, 'watched', 'out-on-remove/');
      return keys.length === 1 ? keys[0] : undefined;
    },
    30_000,
    'on-remove output',
  );
  const event = JSON.parse((await getText(s3, 'watched', removed)) ?? '{}') as {
    Records: Array<{ eventName: string; s3: { object: { key: string } } }>;
  };
  assert.equal(event.Records[0]?.eventName, 's3:ObjectRemoved:Delete');
  assert.equal(event.Records[0]?.s3.object.key, 'in%2Fdata.txt');
  // The put and the copy started on-create; the delete did not.
  await waitFor(
    async () => (await listKeys(s3, 'watched', 'out-on-create/')).length === 2 || undefined,
    30_000,
    'on-create output of the copy',
  );
  const creates = await listKeys(s3, 'watched', 'out-on-create/');
  const names = await Promise.all(
    creates.map(async (key) => {
      const record = JSON.parse((await getText(s3, 'watched', key)) ?? '{}') as {
        Records: Array<{ eventName: string }>;
      };
      return record.Records[0]?.eventName;
    }),
  );
  assert.deepEqual(names.sort(), ['s3:ObjectCreated:Copy', 's3:ObjectCreated:Put']);
  assert.deepEqual(await listKeys(s3, 'watched', 'out-on-remove/'), [removed]);
});
