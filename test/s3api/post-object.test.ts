/**
 * Browser form uploads (POST Object with a SigV4 POST policy), as the AWS SDK's `createPresignedPost` and
 * boto3's `generate_presigned_post` make them: the object is stored, its event is ObjectCreated:Post, the
 * answer follows success_action_status / success_action_redirect, and a form the policy does not allow
 * stores nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { ACCESS_KEY_ID, REGION, SECRET_KEY, startS3Fixture, type S3Fixture } from './s3-fixture.js';
import { mustRun, PYTHON } from './run-client.js';
import { readAll } from '../storage/object-store.contract.js';

let fixture: S3Fixture;
let client: S3Client;

before(async () => {
  fixture = await startS3Fixture();
  client = new S3Client({
    endpoint: fixture.url,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_KEY },
  });
  await client.send(new CreateBucketCommand({ Bucket: 'forms' }));
});
after(async () => {
  client?.destroy();
  await fixture?.close();
});

async function postForm(url: string, fields: Record<string, string>, file: { name: string; data: string }) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([file.data], { type: 'text/plain' }), file.name);
  return fetch(url, { method: 'POST', body: form, redirect: 'manual' });
}

async function stored(key: string): Promise<string | null> {
  try {
    const { body } = await fixture.store.get('forms', key);
    return (await readAll(body)).toString();
  } catch {
    return null;
  }
}

test('the SDK presigned POST (@aws-sdk/s3-presigned-post) uploads; ObjectCreated:Post; 201 answers PostResponse', async () => {
  const { url, fields } = await createPresignedPost(client, {
    Bucket: 'forms',
    Key: 'uploads/${filename}',
    Conditions: [
      ['starts-with', '$key', 'uploads/'],
      ['content-length-range', 1, 1024],
      ['starts-with', '$Content-Type', 'text/'],
    ],
    Fields: { 'Content-Type': 'text/csv', success_action_status: '201', 'x-amz-meta-origin': 'browser' },
    Expires: 300,
  });
  const answer = await postForm(url, fields, { name: 'table 1.csv', data: 'a,b\n1,2\n' });
  const xml = await answer.text();
  assert.equal(answer.status, 201, xml);
  assert.match(xml, /<PostResponse[^>]*>.*<Bucket>forms<\/Bucket><Key>uploads\/table 1\.csv<\/Key>/s);
  assert.match(xml, /<ETag>&quot;[0-9a-f]{32}&quot;<\/ETag>/);
  assert.equal(await stored('uploads/table 1.csv'), 'a,b\n1,2\n');
  const info = await fixture.store.head('forms', 'uploads/table 1.csv');
  assert.equal(info.contentType, 'text/csv');
  assert.deepEqual(info.metadata, { origin: 'browser' });
  const event = fixture.events.find((e) => e.key === 'uploads/table 1.csv');
  assert.equal(event?.name, 'ObjectCreated:Post');
  assert.equal(event?.principal, 'test-user');
});

test('forms the policy does not allow store nothing: wrong key, too large, extra field, bad signature, unknown key', async () => {
  const { url, fields } = await createPresignedPost(client, {
    Bucket: 'forms',
    Key: 'limited/${filename}',
    Conditions: [
      ['starts-with', '$key', 'limited/'],
      ['content-length-range', 1, 16],
    ],
    Expires: 300,
  });
  const cases: [string, Record<string, string>, string, number, string][] = [
    ['key outside the policy', { ...fields, key: 'elsewhere/x.txt' }, 'small', 403, 'AccessDenied'],
    ['file too large', fields, 'x'.repeat(17), 400, 'EntityTooLarge'],
    ['empty file', fields, '', 400, 'EntityTooSmall'],
    ['field not in the policy', { ...fields, 'x-amz-meta-sneaky': '1' }, 'small', 403, 'AccessDenied'],
    [
      'bad signature',
      { ...fields, 'X-Amz-Signature': '0'.repeat(64) },
      'small',
      403,
      'SignatureDoesNotMatch',
    ],
    [
      'unknown access key',
      {
        ...fields,
        'X-Amz-Credential': String(fields['X-Amz-Credential']).replace(ACCESS_KEY_ID, 'NOSUCHKEY'),
      },
      'small',
      403,
      'InvalidAccessKeyId',
    ],
  ];
  for (const [what, form, data, status, code] of cases) {
    const answer = await postForm(url, form, { name: 'f.txt', data });
    const text = await answer.text();
    assert.equal(answer.status, status, `${what}: ${text}`);
    assert.match(text, new RegExp(`<Code>${code}</Code>`), what);
  }
  assert.equal(await stored('limited/f.txt'), null);
  assert.equal(await stored('elsewhere/x.txt'), null);
  const accepted = await postForm(url, fields, { name: 'f.txt', data: 'small' });
  assert.equal(accepted.status, 204);
  assert.equal(await stored('limited/f.txt'), 'small');
});

const BOTO3_POST = String.raw`
import json, sys, time, boto3, urllib3
from botocore.config import Config
endpoint = sys.argv[1]
s3 = boto3.client('s3', endpoint_url=endpoint, config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}))
http = urllib3.PoolManager()
def post(p, data, name='notes.txt'):
    fields = dict(p['fields'])
    fields['file'] = (name, data, 'text/plain')
    r = http.request('POST', p['url'], fields=fields, redirect=False)
    return r.status, dict(r.headers), r.data.decode()
out = {}
p = s3.generate_presigned_post('forms', 'boto/${'$'}{filename}',
    Fields={'success_action_redirect': 'https://app.example.org/done'},
    Conditions=[['starts-with', '$key', 'boto/'], {'success_action_redirect': 'https://app.example.org/done'}],
    ExpiresIn=300)
status, headers, _ = post(p, b'from boto3\n')
out['redirect'] = [status, headers.get('Location')]
out['body'] = s3.get_object(Bucket='forms', Key='boto/notes.txt')['Body'].read().decode()
short = s3.generate_presigned_post('forms', 'boto/late.txt', ExpiresIn=1)
time.sleep(2.5)
status, _, body = post(short, b'too late\n', 'late.txt')
out['expired'] = [status, 'Policy expired' in body]
print(json.dumps(out))
`;

test('boto3 generate_presigned_post: success_action_redirect answers 303 with bucket, key and etag; an expired policy is refused', async () => {
  const out = JSON.parse(await mustRun(PYTHON, ['-c', BOTO3_POST, fixture.url], fixture.clientEnv)) as {
    redirect: [number, string];
    body: string;
    expired: [number, boolean];
  };
  assert.equal(out.redirect[0], 303);
  const location = new URL(out.redirect[1]);
  assert.equal(location.origin + location.pathname, 'https://app.example.org/done');
  assert.equal(location.searchParams.get('bucket'), 'forms');
  assert.equal(location.searchParams.get('key'), 'boto/notes.txt');
  assert.match(location.searchParams.get('etag') ?? '', /^"[0-9a-f]{32}"$/);
  assert.equal(out.body, 'from boto3\n');
  assert.deepEqual(out.expired, [403, true]);
  assert.equal(await stored('boto/late.txt'), null);
});
