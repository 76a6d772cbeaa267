/**
 * Bad input at the REST API gets a coded error and leaves the state as it was; failing scripts fail
 * their jobs with their exit code and log.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { putText, s3For } from '../support/s3-client.js';

let server: ServerProcess;

before(async () => {
  server = await startServer({ env: { NUBES_MAX_BODY_BYTES: String(1024 * 1024) } });
});
after(async () => {
  await server.cleanup();
});

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, code: body.error.code, message: body.error.message };
}

const valid = {
  name: 'fails',
  image: 'busybox',
  script: 'echo "about to fail"\necho "bad things" >&2\nexit 3\n',
  memory: '64Mi',
  input: [{ storage_provider: 'minio.default', path: 'errors/in' }],
};

test('only /health answers without credentials; wrong credentials get 401 UNAUTHENTICATED', async () => {
  const health = await fetch(`${server.apiUrl}/health`);
  assert.equal(health.status, 200);
  for (const path of ['/system/info', '/system/config', '/system/services', '/system/status']) {
    const anonymous = await errorOf(await fetch(`${server.apiUrl}${path}`));
    assert.deepEqual([anonymous.status, anonymous.code], [401, 'UNAUTHENTICATED'], path);
  }
  const wrong = await errorOf(
    await fetch(`${server.apiUrl}/system/services`, {
      headers: { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` },
    }),
  );
  assert.deepEqual([wrong.status, wrong.code], [401, 'UNAUTHENTICATED']);
});

test('invalid service definitions are refused with a coded error naming the field, and nothing is created', async () => {
  const cases: [unknown, string][] = [
    [{ ...valid, memroy: '1Gi' }, 'memroy'],
    [{ ...valid, memory: 12 }, 'memory'],
    [{ ...valid, name: undefined }, 'name'],
    [{ ...valid, name: '../etc' }, 'name'],
  ];
  for (const [body, field] of cases) {
    const error = await errorOf(
      await server.api('/system/services', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    );
    assert.equal(error.status, 400, JSON.stringify(body));
    assert.equal(error.code, 'VALIDATION_FAILED');
    assert.match(error.message, new RegExp(field));
  }
  const malformed = await errorOf(
    await server.api('/system/services', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": "x",',
    }),
  );
  assert.deepEqual([malformed.status, malformed.code], [400, 'BAD_REQUEST']);
  const list = (await (await server.api('/system/services')).json()) as unknown[];
  assert.deepEqual(list, []);
});

test('an oversized request gets 413 PAYLOAD_TOO_LARGE and changes nothing', async () => {
  const huge = JSON.stringify({ ...valid, script: 'x'.repeat(2 * 1024 * 1024) });
  const error = await errorOf(
    await server.api('/system/services', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: huge,
    }),
  );
  assert.deepEqual([error.status, error.code], [413, 'PAYLOAD_TOO_LARGE']);
  assert.deepEqual(await (await server.api('/system/services')).json(), []);
});

test('unknown services and jobs are 404 with their codes; a wrong service token is 401', async () => {
  const missing = await errorOf(await server.api('/system/services/nope'));
  assert.deepEqual([missing.status, missing.code], [404, 'SERVICE_NOT_FOUND']);
  const created = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...valid, name: 'tokened' }),
  });
  assert.equal(created.status, 201);
  const badToken = await errorOf(
    await fetch(`${server.apiUrl}/job/tokened`, {
      method: 'POST',
      headers: { authorization: `Bearer ${'0'.repeat(64)}` },
    }),
  );
  assert.deepEqual([badToken.status, badToken.code], [401, 'UNAUTHENTICATED']);
  const noJob = await errorOf(await server.api('/system/logs/tokened/tokened-123'));
  assert.deepEqual([noJob.status, noJob.code], [404, 'JOB_NOT_FOUND']);
});

test('a script that exits 3 fails its job with exit code 3 and its log; the job can be re-driven', async () => {
  const created = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(valid),
  });
  assert.equal(created.status, 201, await created.text());
  const s3 = await s3For(server);
  await putText(s3, 'errors', 'in/data.txt', 'hello');
  const [jobId, job] = await waitFor(async () => {
    const list = (await (await server.api('/system/logs/fails')).json()) as {
      jobs: Record<string, { status: string; exit_code: number | null; error: { code: string } | null }>;
    };
    const entry = Object.entries(list.jobs)[0];
    return entry && entry[1].status === 'Failed' ? entry : undefined;
  });
  assert.equal(job.exit_code, 3);
  assert.equal(job.error?.code, 'JOB_FAILED');
  const log = await (await server.api(`/system/logs/fails/${jobId}`)).text();
  assert.match(log, /about to fail/);
  assert.match(log, /bad things/);
  const dead = (await (await server.api('/system/dead-letters')).json()) as { jobs: { id: string }[] };
  assert.ok(dead.jobs.some((entry) => entry.id === jobId));
  const retried = await server.api(`/system/logs/fails/${jobId}/retry`, { method: 'POST' });
  assert.equal(retried.status, 202);
  await waitFor(async () => {
    const again = (await (await server.api(`/system/jobs/fails/${jobId}`)).json()) as { status: string };
    return again.status === 'Failed' ? true : undefined;
  });
});
