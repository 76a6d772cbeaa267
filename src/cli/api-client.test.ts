import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { PlatformError } from '../core/index.js';
import { ApiClient, codeForStatus } from './api-client.js';
import type { ClusterTarget } from './cluster-target.js';
import { hintOf } from './error-output.js';
import { startFakeApi } from './testing/fake-api.js';

function target(endpoint: string, overrides: Partial<ClusterTarget> = {}): ClusterTarget {
  return {
    id: 'lab',
    endpoint,
    auth: { user: 'admin', password: 'pw' },
    sslVerify: true,
    source: 'config',
    origin: '/cfg.yaml',
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<PlatformError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PlatformError, `expected a PlatformError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

void test('/system/* calls carry HTTP Basic credentials; /run carries the service token as Bearer', async () => {
  const api = await startFakeApi({
    'GET /system/services': () => ({
      json: [{ name: 'hello', image: 'busybox', input: null, token: 't0k' }],
    }),
    'POST /run/hello': (request) => ({ text: request.body.toString() }),
  });
  try {
    const client = new ApiClient(target(api.url));
    const services = await client.listServices();
    assert.equal(services[0]?.name, 'hello');
    assert.deepEqual(services[0]?.input, []);
    assert.equal(
      api.requests[0]?.headers.authorization,
      `Basic ${Buffer.from('admin:pw').toString('base64')}`,
    );
    const answer = await client.run(
      'hello',
      't0k',
      Readable.from([Buffer.from('QW'), Buffer.from('Rh')]),
      5000,
      true,
    );
    assert.equal(answer.toString(), 'QWRh');
    assert.equal(api.requests[1]?.headers.authorization, 'Bearer t0k');
    assert.equal(api.requests[1]?.query.get('raw'), 'true');
  } finally {
    await api.close();
  }
});

void test("Nubes' error bodies keep their code; OSCAR's plain-text or {error: string} bodies are mapped from the status", async () => {
  const api = await startFakeApi({
    'GET /system/services/nubes-style': () => ({
      status: 404,
      json: { error: { code: 'SERVICE_NOT_FOUND', message: 'no service named "x"' } },
    }),
    'GET /system/services/oscar-text': () => ({ status: 404, text: 'the service does not exist\n' }),
    'POST /system/services': () => ({ status: 400, json: { error: 'invalid service definition' } }),
    'GET /system/info': () => ({ status: 500, text: '' }),
    'GET /system/config': () => ({ status: 503, json: { error: { code: 'NOT_A_CODE', message: 'busy' } } }),
  });
  try {
    const client = new ApiClient(target(api.url));
    const nubes = await rejection(client.getService('nubes-style'));
    assert.equal(nubes.code, 'SERVICE_NOT_FOUND');
    assert.equal(nubes.message, 'no service named "x"');
    const oscar = await rejection(client.getService('oscar-text'));
    assert.equal(oscar.code, 'SERVICE_NOT_FOUND');
    const bad = await rejection(client.putService({ name: 'x' }, 'create'));
    assert.equal(bad.code, 'BAD_REQUEST');
    assert.equal(bad.message, 'invalid service definition');
    const internal = await rejection(client.info());
    assert.equal(internal.code, 'INTERNAL');
    assert.match(internal.message, /GET \/system\/info failed with HTTP 500/);
    const busy = await rejection(client.systemConfig());
    assert.equal(busy.code, 'UNAVAILABLE');
    assert.equal(busy.kind, 'system');
  } finally {
    await api.close();
  }
  assert.equal(codeForStatus(418), 'BAD_REQUEST');
  assert.equal(codeForStatus(507), 'INTERNAL');
});

void test('a 401 says where the credentials came from', async () => {
  const api = await startFakeApi({
    'GET /system/info': () => ({
      status: 401,
      json: { error: { code: 'UNAUTHENTICATED', message: 'wrong user name or password' } },
    }),
  });
  try {
    const configured = await rejection(new ApiClient(target(api.url)).info());
    assert.equal(configured.code, 'UNAUTHENTICATED');
    assert.match(hintOf(configured) ?? '', /cluster "lab" \(from \/cfg\.yaml\)/);
    const local = await rejection(
      new ApiClient(
        target(api.url, { source: 'local', auth: undefined, origin: '/p/.nubes-data/credentials.json' }),
      ).info(),
    );
    assert.match(hintOf(local) ?? '', /npm start/);
    assert.equal(api.requests[1]?.headers.authorization, undefined);
  } finally {
    await api.close();
  }
});

void test('an unreachable server is UNAVAILABLE (exit 2) with a hint; a silent one times out the same way', async () => {
  const api = await startFakeApi({ 'GET /system/info': () => ({ delayMs: 2000, json: {} }) });
  const url = api.url;
  try {
    const slow = await rejection(new ApiClient(target(url), { timeoutMs: 100 }).info());
    assert.equal(slow.code, 'UNAVAILABLE');
    assert.match(slow.message, /no answer within/);
  } finally {
    await api.close();
  }
  const refused = await rejection(new ApiClient(target(url, { source: 'local' })).info());
  assert.equal(refused.code, 'UNAVAILABLE');
  assert.equal(refused.kind, 'system');
  assert.match(refused.message, new RegExp(`cannot reach Nubes at ${url}: connection refused`));
  assert.match(hintOf(refused) ?? '', /npm start/);
});

void test('deploy warnings come from the 201 body or the 204 header; the job id from the 201 body', async () => {
  const api = await startFakeApi({
    'POST /system/services': () => ({
      status: 201,
      json: { name: 'x', token: 't', warnings: ['image ignored'] },
    }),
    'PUT /system/services': () => ({
      status: 204,
      headers: { 'x-nubes-warnings': encodeURIComponent('a\nb') },
    }),
    'POST /job/x': () => ({ status: 201, json: { job_id: 'x-123', service: 'x' } }),
    'POST /job/oscar': () => ({ status: 201, text: '' }),
  });
  try {
    const client = new ApiClient(target(api.url));
    assert.deepEqual(await client.putService({ name: 'x' }, 'create'), ['image ignored']);
    assert.deepEqual(await client.putService({ name: 'x' }, 'update'), ['a', 'b']);
    assert.equal(api.requests[0]?.headers['content-type'], 'application/json');
    assert.equal(await client.submitJob('x', 't', Buffer.from('e30=')), 'x-123');
    assert.equal(await client.submitJob('oscar', 't', Buffer.from('e30=')), undefined);
  } finally {
    await api.close();
  }
});

void test('an answer of the wrong shape is reported, not trusted', async () => {
  const api = await startFakeApi({ 'GET /system/config': () => ({ json: { config: {} } }) });
  try {
    const error = await rejection(new ApiClient(target(api.url)).systemConfig());
    assert.equal(error.code, 'INTERNAL');
    assert.match(error.message, /minio_provider/);
  } finally {
    await api.close();
  }
});
