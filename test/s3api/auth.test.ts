import { test } from 'node:test';
import assert from 'node:assert/strict';
import { presignUrl } from '../../src/s3api/index.js';
import { ACCESS_KEY_ID, REGION, SECRET_KEY, startS3Fixture } from './s3-fixture.js';
import { rawRequest } from './raw-client.js';

test('requests without credentials are AccessDenied, with a clock off by more than 15 minutes RequestTimeTooSkewed', async () => {
  const fixture = await startS3Fixture();
  try {
    await fixture.store.createBucket('auth');
    await fixture.store.put('auth', 'secret.txt', Buffer.from('secret'));
    const anonymous = await fetch(`${fixture.url}/auth/secret.txt`);
    assert.equal(anonymous.status, 403);
    assert.match(await anonymous.text(), /<Code>AccessDenied<\/Code>/);
    const anonymousPut = await rawRequest(fixture.port, {
      method: 'PUT',
      path: '/auth/new',
      body: Buffer.from('x'),
      sign: false,
    });
    assert.equal(anonymousPut.code, 'AccessDenied');
    await assert.rejects(fixture.store.head('auth', 'new'));

    for (const offsetMs of [16 * 60_000, -16 * 60_000]) {
      const skewed = await rawRequest(fixture.port, {
        method: 'GET',
        path: '/auth/secret.txt',
        nowMs: Date.now() + offsetMs,
      });
      assert.equal(skewed.status, 403);
      assert.equal(skewed.code, 'RequestTimeTooSkewed');
    }
    const slightlyOff = await rawRequest(fixture.port, {
      method: 'GET',
      path: '/auth/secret.txt',
      nowMs: Date.now() - 10 * 60_000,
    });
    assert.equal(slightlyOff.status, 200);
    const wrongSecret = await rawRequest(fixture.port, {
      method: 'GET',
      path: '/auth/secret.txt',
      secretKey: 'nope',
    });
    assert.deepEqual([wrongSecret.status, wrongSecret.code], [403, 'SignatureDoesNotMatch']);
    const unknown = await rawRequest(fixture.port, {
      method: 'GET',
      path: '/auth/secret.txt',
      accessKeyId: 'AKIDUNKNOWN',
    });
    assert.deepEqual([unknown.status, unknown.code], [403, 'InvalidAccessKeyId']);
  } finally {
    await fixture.close();
  }
});

test('a presigned URL works until it expires, and cannot carry unsigned metadata', async () => {
  const fixture = await startS3Fixture();
  try {
    await fixture.store.createBucket('auth');
    const url = (method: 'GET' | 'PUT', expiresSeconds: number, nowMs = Date.now()) =>
      presignUrl({
        method,
        endpoint: fixture.url,
        bucket: 'auth',
        key: 'p.txt',
        accessKeyId: ACCESS_KEY_ID,
        secretKey: SECRET_KEY,
        region: REGION,
        expiresSeconds,
        nowMs,
      });
    // X-Amz-Date has whole seconds: a URL valid for 1 s may already be spent on a busy machine.
    assert.equal((await fetch(url('PUT', 30), { method: 'PUT', body: 'presigned' })).status, 200);
    assert.equal(await (await fetch(url('GET', 30))).text(), 'presigned');
    const late = await fetch(url('GET', 1, Date.now() - 2100));
    assert.equal(late.status, 403);
    const smuggled = await fetch(url('PUT', 60), {
      method: 'PUT',
      body: 'x',
      headers: { 'x-amz-meta-evil': '1' },
    });
    assert.equal(smuggled.status, 403);
    assert.equal((await fixture.store.head('auth', 'p.txt')).size, 'presigned'.length);
  } finally {
    await fixture.close();
  }
});
