/**
 * The authorization matrix: every REST endpoint × (anonymous, owner, other user, admin, service token),
 * against a real server. Each row names the status every principal gets; rows that consume their target
 * (deletes, retries) prepare a fresh one per principal. The routes the server registered (its OpenAPI
 * document, built from fastify's route table) are compared with the table: a route added without a row
 * fails the test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../support/server-process.js';
import { EVERYONE, serviceDefinition, startTenants, type Tenants, type Who } from './tenants.js';

let t: Tenants;
let counter = 0;
const fresh = (prefix: string) => `${prefix}-${++counter}`;

before(async () => {
  t = await startTenants();
  const created = await t.call('owner', 'POST', '/system/services', serviceDefinition('owned', 'owned-bkt'));
  const text = await created.text();
  assert.equal(created.status, 201, text);
  t.serviceToken = (JSON.parse(text) as { token: string }).token;
  schedulerJob = await newSchedulerJob();
  const stored = await t.call('owner', 'PUT', '/system/storage/owned-bkt/object?key=data/kept.txt', 'kept');
  assert.equal(stored.status, 200, await stored.text());
});
after(async () => {
  await t.close();
});

async function newJob(finished: boolean): Promise<string> {
  const response = await t.call('admin', 'POST', '/job/owned', {});
  assert.equal(response.status, 201);
  const id = ((await response.json()) as { job_id: string }).job_id;
  if (finished) {
    await waitFor(async () => {
      const job = (await (await t.call('admin', 'GET', `/system/jobs/owned/${id}`)).json()) as {
        status: string;
      };
      return job.status === 'Succeeded' || job.status === 'Failed' ? true : undefined;
    });
  }
  return id;
}

/** An upload of the dashboard's in `owned-bkt`, made by the admin; with its part 1 when `withPart`. */
async function newUpload(withPart: boolean): Promise<string> {
  const created = await t.call('admin', 'POST', '/system/storage/owned-bkt/uploads', {
    key: fresh('data/up'),
  });
  assert.equal(created.status, 201);
  const id = ((await created.json()) as { upload_id: string }).upload_id;
  if (withPart) {
    const part = await t.call('admin', 'PUT', `/system/storage/owned-bkt/uploads/${id}/1`, 'part');
    assert.equal(part.status, 200);
  }
  return id;
}

const FDL_OWNED = [
  'functions:',
  '  oscar:',
  '  - cluster:',
  '      name: owned',
  '      image: busybox',
  '      memory: 64Mi',
  '      script: script.sh',
  '      input:',
  '      - storage_provider: minio.default',
  '        path: owned-bkt/in',
  '',
].join('\n');

const SCHEDULER_JOB = { iterations: 100, partitions: 2, command: ['true'] };
let schedulerJob = '';

async function newSchedulerJob(): Promise<string> {
  const created = await t.call('admin', 'POST', '/system/scheduler/jobs', SCHEDULER_JOB);
  assert.equal(created.status, 201, await created.clone().text());
  return ((await created.json()) as { id: string }).id;
}

type Statuses = [anonymous: number, owner: number, other: number, admin: number, service: number];

interface Row {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** A server-sent event stream: only the status is read. */
  stream?: true;
  /** Answers in a protocol of its own (plain text), not the platform's coded JSON errors. */
  plainText?: true;
  /** The route as registered, for the coverage check. */
  route: string;
  /** The concrete path, prepared fresh for each principal when the call consumes its target. */
  path: (who: Who) => string | Promise<string>;
  body?: (who: Who) => unknown;
  expect: Statuses;
}

const same = (path: string) => () => path;

const ROWS: Row[] = [
  { method: 'GET', route: '/health', path: same('/health'), expect: [200, 200, 200, 200, 200] },
  { method: 'GET', route: '/system/info', path: same('/system/info'), expect: [401, 200, 200, 200, 403] },
  { method: 'GET', route: '/system/config', path: same('/system/config'), expect: [401, 200, 200, 200, 403] },
  { method: 'GET', route: '/system/status', path: same('/system/status'), expect: [401, 403, 403, 200, 403] },
  { method: 'GET', route: '/system/whoami', path: same('/system/whoami'), expect: [401, 200, 200, 200, 403] },
  {
    method: 'GET',
    route: '/system/services',
    path: same('/system/services'),
    expect: [401, 200, 200, 200, 403],
  },
  {
    method: 'POST',
    route: '/system/services',
    path: same('/system/services'),
    body: () => serviceDefinition(fresh('created'), fresh('created-bkt')),
    expect: [401, 201, 201, 201, 403],
  },
  {
    method: 'PUT',
    route: '/system/services',
    path: same('/system/services'),
    body: () => serviceDefinition('owned', 'owned-bkt'),
    expect: [401, 204, 403, 204, 403],
  },
  {
    method: 'GET',
    route: '/system/services/:name',
    path: same('/system/services/owned'),
    // A service's token reads its own definition (secrets hidden), jobs and logs, as it can run it anyway.
    expect: [401, 200, 403, 200, 200],
  },
  {
    method: 'DELETE',
    route: '/system/services/:name',
    path: async () => {
      const name = fresh('doomed');
      const created = await t.call('owner', 'POST', '/system/services', serviceDefinition(name, 'owned-bkt'));
      assert.equal(created.status, 201);
      return `/system/services/${name}`;
    },
    expect: [401, 204, 403, 204, 403],
  },
  {
    method: 'POST',
    route: '/job/:name',
    path: same('/job/owned'),
    body: () => ({}),
    expect: [401, 201, 403, 201, 201],
  },
  {
    method: 'POST',
    route: '/run/:name',
    path: same('/run/owned'),
    body: () => ({}),
    expect: [401, 200, 403, 200, 200],
  },
  {
    method: 'GET',
    route: '/system/logs/:svc',
    path: same('/system/logs/owned'),
    expect: [401, 200, 403, 200, 200],
  },
  {
    method: 'DELETE',
    route: '/system/logs/:svc',
    path: same('/system/logs/owned'),
    expect: [401, 204, 403, 204, 403],
  },
  {
    method: 'GET',
    route: '/system/logs/:svc/:job',
    path: async () => `/system/logs/owned/${await newJob(false)}`,
    expect: [401, 200, 403, 200, 200],
  },
  {
    method: 'GET',
    route: '/system/jobs/:svc/:job',
    path: async () => `/system/jobs/owned/${await newJob(false)}`,
    expect: [401, 200, 403, 200, 200],
  },
  {
    method: 'DELETE',
    route: '/system/logs/:svc/:job',
    path: async () => `/system/logs/owned/${await newJob(false)}`,
    expect: [401, 204, 403, 204, 403],
  },
  {
    method: 'POST',
    route: '/system/logs/:svc/:job/retry',
    path: async () => `/system/logs/owned/${await newJob(true)}/retry`,
    expect: [401, 202, 403, 202, 403],
  },
  {
    method: 'GET',
    route: '/system/dead-letters',
    path: same('/system/dead-letters'),
    expect: [401, 200, 200, 200, 403],
  },
  { method: 'GET', route: '/system/users', path: same('/system/users'), expect: [401, 403, 403, 200, 403] },
  {
    method: 'POST',
    route: '/system/users',
    path: same('/system/users'),
    body: () => ({ name: fresh('newcomer') }),
    expect: [401, 403, 403, 201, 403],
  },
  {
    method: 'GET',
    route: '/system/users/:name',
    path: same('/system/users/owner'),
    expect: [401, 200, 403, 200, 403],
  },
  {
    method: 'PUT',
    route: '/system/users/:name',
    path: same('/system/users/owner'),
    body: () => ({ groups: ['vo.example.eu'] }),
    expect: [401, 403, 403, 200, 403],
  },
  {
    method: 'DELETE',
    route: '/system/users/:name',
    path: async () => {
      const name = fresh('leaver');
      assert.equal((await t.call('admin', 'POST', '/system/users', { name })).status, 201);
      return `/system/users/${name}`;
    },
    expect: [401, 403, 403, 204, 403],
  },
  {
    method: 'GET',
    route: '/system/users/:name/tokens',
    path: same('/system/users/owner/tokens'),
    expect: [401, 200, 403, 200, 403],
  },
  {
    method: 'POST',
    route: '/system/users/:name/tokens',
    path: same('/system/users/owner/tokens'),
    body: () => ({ label: 'matrix' }),
    expect: [401, 201, 403, 201, 403],
  },
  {
    method: 'DELETE',
    route: '/system/users/:name/tokens/:id',
    path: async () => {
      const created = await t.call('admin', 'POST', '/system/users/owner/tokens', { label: 'doomed' });
      return `/system/users/owner/tokens/${((await created.json()) as { id: string }).id}`;
    },
    expect: [401, 204, 403, 204, 403],
  },
  {
    method: 'GET',
    route: '/system/users/:name/s3-keys',
    path: same('/system/users/owner/s3-keys'),
    expect: [401, 200, 403, 200, 403],
  },
  {
    method: 'POST',
    route: '/system/users/:name/s3-keys',
    path: same('/system/users/owner/s3-keys'),
    expect: [401, 201, 403, 201, 403],
  },
  {
    method: 'DELETE',
    route: '/system/users/:name/s3-keys/:key',
    path: async () => {
      const created = await t.call('admin', 'POST', '/system/users/owner/s3-keys');
      return `/system/users/owner/s3-keys/${((await created.json()) as { access_key: string }).access_key}`;
    },
    expect: [401, 204, 403, 204, 403],
  },
  {
    method: 'GET',
    route: '/system/buckets',
    path: same('/system/buckets'),
    expect: [401, 200, 200, 200, 403],
  },
  {
    method: 'POST',
    route: '/system/buckets',
    path: same('/system/buckets'),
    body: () => ({ bucket_name: fresh('made') }),
    expect: [401, 201, 201, 201, 403],
  },
  {
    method: 'PUT',
    route: '/system/buckets',
    path: same('/system/buckets'),
    body: () => ({ bucket_name: 'owned-bkt', visibility: 'private' }),
    expect: [401, 200, 403, 200, 403],
  },
  {
    method: 'GET',
    route: '/system/buckets/:bucket',
    path: same('/system/buckets/owned-bkt'),
    expect: [401, 200, 403, 200, 403],
  },
  {
    method: 'DELETE',
    route: '/system/buckets/:bucket',
    path: async () => {
      const name = fresh('gone');
      assert.equal((await t.call('owner', 'POST', '/system/buckets', { bucket_name: name })).status, 201);
      return `/system/buckets/${name}`;
    },
    expect: [401, 204, 403, 204, 403],
  },
  {
    method: 'POST',
    route: '/system/buckets/:bucket/presign',
    path: same('/system/buckets/owned-bkt/presign'),
    body: () => ({ object_key: 'in/x.txt', operation: 'download' }),
    expect: [401, 200, 403, 200, 403],
  },
  // Nubes additions of the dashboard: FDL, live events, stats, storage.
  {
    method: 'POST',
    route: '/system/fdl/validate',
    path: same('/system/fdl/validate'),
    body: () => ({ fdl: FDL_OWNED, scripts: { 'script.sh': 'echo "ran $JOB_UUID"\n' } }),
    expect: [401, 200, 200, 200, 403],
  },
  {
    method: 'POST',
    route: '/system/fdl/apply',
    path: same('/system/fdl/apply'),
    // Applying an FDL that names an existing service updates it: only its owner (or the admin) may.
    body: () => ({ fdl: FDL_OWNED, scripts: { 'script.sh': 'echo "ran $JOB_UUID"\n' } }),
    expect: [401, 200, 403, 200, 403],
  },
  {
    method: 'GET',
    route: '/system/events',
    path: same('/system/events?service=owned'),
    stream: true,
    expect: [401, 200, 403, 200, 403],
  },
  {
    method: 'GET',
    route: '/system/logs/:svc/:job/follow',
    path: async () => `/system/logs/owned/${await newJob(true)}/follow`,
    stream: true,
    // As reading the job's log: its service's token may.
    expect: [401, 200, 403, 200, 200],
  },
  { method: 'GET', route: '/system/stats', path: same('/system/stats'), expect: [401, 200, 200, 200, 403] },
  {
    method: 'GET',
    route: '/system/stats/:svc',
    path: same('/system/stats/owned'),
    expect: [401, 200, 403, 200, 200],
  },
  {
    method: 'GET',
    route: '/system/storage/:bucket',
    path: same('/system/storage/owned-bkt'),
    expect: [401, 200, 403, 200, 403],
  },
  {
    method: 'GET',
    route: '/system/storage/:bucket/object',
    path: same('/system/storage/owned-bkt/object?key=data/kept.txt'),
    expect: [401, 200, 403, 200, 403],
  },
  {
    method: 'PUT',
    route: '/system/storage/:bucket/object',
    path: same('/system/storage/owned-bkt/object?key=data/written.txt'),
    body: () => 'written',
    expect: [401, 200, 403, 200, 403],
  },
  {
    method: 'DELETE',
    route: '/system/storage/:bucket/object',
    path: async () => {
      const key = `data/${fresh('doomed')}.txt`;
      const put = await t.call('owner', 'PUT', `/system/storage/owned-bkt/object?key=${key}`, 'x');
      assert.equal(put.status, 200);
      return `/system/storage/owned-bkt/object?key=${key}`;
    },
    expect: [401, 204, 403, 204, 403],
  },
  {
    method: 'POST',
    route: '/system/storage/:bucket/uploads',
    path: same('/system/storage/owned-bkt/uploads'),
    body: () => ({ key: 'data/parts.bin' }),
    expect: [401, 201, 403, 201, 403],
  },
  {
    method: 'PUT',
    route: '/system/storage/:bucket/uploads/:upload/:part',
    path: async () => `/system/storage/owned-bkt/uploads/${await newUpload(false)}/1`,
    body: () => 'part one',
    expect: [401, 200, 403, 200, 403],
  },
  {
    method: 'POST',
    route: '/system/storage/:bucket/uploads/:upload/complete',
    path: async () => `/system/storage/owned-bkt/uploads/${await newUpload(true)}/complete`,
    body: () => ({ parts: 1 }),
    expect: [401, 200, 403, 200, 403],
  },
  {
    method: 'DELETE',
    route: '/system/storage/:bucket/uploads/:upload',
    path: async () => `/system/storage/owned-bkt/uploads/${await newUpload(false)}`,
    expect: [401, 204, 403, 204, 403],
  },
  // External storage notifications: the service's webhook token for that provider, not platform credentials.
  {
    method: 'GET',
    route: '/system/services/:name/storage-webhooks',
    path: same('/system/services/owned/storage-webhooks'),
    // The URLs carry the webhook tokens: for those who may change the service.
    expect: [401, 200, 403, 200, 403],
  },
  {
    method: 'POST',
    route: '/system/storage-events/:service/:provider',
    path: same('/system/storage-events/owned/minio.external'),
    body: () => ({ Records: [] }),
    // No platform credential is a webhook token (and this service has no external input).
    expect: [401, 401, 401, 401, 401],
  },
  // Operators' endpoints.
  { method: 'GET', route: '/metrics', path: same('/metrics'), expect: [401, 403, 403, 200, 403] },
  { method: 'GET', route: '/openapi.json', path: same('/openapi.json'), expect: [401, 403, 403, 200, 403] },
  // MapReduce: every user runs jobs and deploys definitions of their own (over buckets they may use) and sees
  // only those; service tokens may not. Missing ids and empty bodies answer 404 / 400 after the access check.
  {
    method: 'GET',
    route: '/system/mapreduce/jobs',
    path: same('/system/mapreduce/jobs'),
    expect: [401, 200, 200, 200, 403],
  },
  {
    method: 'POST',
    route: '/system/mapreduce/jobs',
    path: same('/system/mapreduce/jobs'),
    body: () => ({}),
    expect: [401, 400, 400, 400, 403],
  },
  {
    method: 'GET',
    route: '/system/mapreduce/jobs/:id',
    path: same('/system/mapreduce/jobs/missing'),
    expect: [401, 404, 404, 404, 403],
  },
  {
    method: 'DELETE',
    route: '/system/mapreduce/jobs/:id',
    path: same('/system/mapreduce/jobs/missing'),
    expect: [401, 404, 404, 404, 403],
  },
  {
    method: 'GET',
    route: '/system/mapreduce/jobs/:id/tasks/:task/log',
    path: same('/system/mapreduce/jobs/missing/tasks/map-0/log'),
    expect: [401, 404, 404, 404, 403],
  },
  {
    method: 'GET',
    route: '/system/mapreduce/definitions',
    path: same('/system/mapreduce/definitions'),
    expect: [401, 200, 200, 200, 403],
  },
  {
    method: 'GET',
    route: '/system/mapreduce/definitions/:name',
    path: same('/system/mapreduce/definitions/missing'),
    expect: [401, 404, 404, 404, 403],
  },
  {
    method: 'PUT',
    route: '/system/mapreduce/definitions/:name',
    path: same('/system/mapreduce/definitions/matrix'),
    body: () => ({}),
    expect: [401, 400, 400, 400, 403],
  },
  {
    method: 'DELETE',
    route: '/system/mapreduce/definitions/:name',
    path: same('/system/mapreduce/definitions/missing'),
    expect: [401, 404, 404, 404, 403],
  },
  // The scheduler: the admin, tenants' and sites' own tokens (none of which these principals hold).
  {
    method: 'POST',
    route: '/system/scheduler/tenants',
    path: same('/system/scheduler/tenants'),
    body: () => ({ name: fresh('tenant') }),
    expect: [401, 403, 403, 201, 403],
  },
  {
    method: 'GET',
    route: '/system/scheduler/tenants',
    path: same('/system/scheduler/tenants'),
    expect: [401, 403, 403, 200, 403],
  },
  {
    method: 'POST',
    route: '/system/scheduler/sites',
    path: same('/system/scheduler/sites'),
    body: () => ({ name: fresh('site') }),
    expect: [401, 403, 403, 201, 403],
  },
  {
    method: 'GET',
    route: '/system/scheduler/sites',
    path: same('/system/scheduler/sites'),
    expect: [401, 403, 403, 200, 403],
  },
  ...(['register', 'lease', 'heartbeat'] as const).map((action): Row => ({
    method: 'POST',
    route: `/system/scheduler/sites/:site/${action}`,
    path: same(`/system/scheduler/sites/matrix-site/${action}`),
    body: () => ({ slots: 1 }),
    // Only the site's own token; the admin's password is not one.
    expect: [401, 403, 403, 403, 403],
  })),
  {
    method: 'POST',
    route: '/system/scheduler/jobs',
    path: same('/system/scheduler/jobs'),
    body: () => SCHEDULER_JOB,
    expect: [401, 403, 403, 201, 403],
  },
  {
    method: 'GET',
    route: '/system/scheduler/jobs',
    path: same('/system/scheduler/jobs'),
    expect: [401, 403, 403, 200, 403],
  },
  {
    method: 'GET',
    route: '/system/scheduler/jobs/:id',
    path: () => `/system/scheduler/jobs/${schedulerJob}`,
    expect: [401, 403, 403, 200, 403],
  },
  {
    method: 'GET',
    route: '/system/scheduler/jobs/:id/results',
    path: () => `/system/scheduler/jobs/${schedulerJob}/results`,
    expect: [401, 403, 403, 200, 403],
  },
  {
    method: 'POST',
    route: '/system/scheduler/jobs/:id/cancel',
    path: async () => `/system/scheduler/jobs/${await newSchedulerJob()}/cancel`,
    expect: [401, 403, 403, 200, 403],
  },
  ...(['start', 'report', 'finish', 'fail'] as const).map((action): Row => ({
    method: 'POST',
    route: `/system/scheduler/jobs/:id/partitions/:index/${action}`,
    path: () => `/system/scheduler/jobs/${schedulerJob}/partitions/0/${action}`,
    body: () => (action === 'fail' ? { exitCode: 1 } : { done: 0, elapsedSec: 0 }),
    // Only the partition's token (or its site's): any other Bearer token is one whose lease is over. These
    // routes never resolve the platform caller (they are the protocol's hot path): Basic credentials are none.
    expect: [401, 409, 409, 401, 409],
  })),
  {
    method: 'GET',
    route: '/lb/:capability/:action',
    path: () => `/lb/${schedulerJob}.not-its-token/report?worker=0&nIter=1&dt=1`,
    // The TaScaaS protocol's capability URL: credentials do not matter, the capability does.
    plainText: true,
    expect: [403, 403, 403, 403, 403],
  },
];

/** The routes the running server registered, from its OpenAPI document, in fastify's form. */
async function registeredRoutes(): Promise<string[]> {
  const response = await t.call('admin', 'GET', '/openapi.json');
  assert.equal(response.status, 200);
  const doc = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map(
      (method) => `${method.toUpperCase()} ${path.replace(/\{path\}$/, '*').replace(/\{([^}]+)\}/g, ':$1')}`,
    ),
  );
}

test('the matrix has a row for every route the server registered, and none for a route it does not have', async () => {
  const inTable = new Set(ROWS.map((row) => `${row.method} ${row.route}`));
  const registered = await registeredRoutes();
  assert.deepEqual(
    registered.filter((route) => !inTable.has(route)),
    [],
    'routes without a row in the authorization matrix: add one for each',
  );
  const known = new Set(registered);
  assert.deepEqual(
    [...inTable].filter((route) => !known.has(route)),
    [],
    'rows for routes the server does not have',
  );
});

test('authorization matrix: every endpoint × anonymous, owner, other user, admin, service token', async () => {
  let cases = 0;
  const failures: string[] = [];
  for (const row of ROWS) {
    for (const [index, who] of EVERYONE.entries()) {
      const path = await row.path(who);
      const response = await t.call(who, row.method, path, row.body?.(who));
      let text = '';
      if (row.stream && response.status === 200) await response.body?.cancel();
      else text = await response.text();
      cases++;
      const expected = row.expect[index];
      if (response.status !== expected) {
        failures.push(
          `${row.method} ${path} as ${who}: ${response.status} (expected ${expected}) ${text.slice(0, 200)}`,
        );
      }
      if ((response.status === 401 || response.status === 403) && !row.plainText) {
        const code = (JSON.parse(text) as { error: { code: string } }).error.code;
        assert.equal(
          code,
          response.status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN',
          `${row.method} ${path} as ${who}`,
        );
      }
    }
  }
  console.log(
    `authorization matrix: ${ROWS.length} endpoints × ${EVERYONE.length} principals = ${cases} cases`,
  );
  assert.deepEqual(failures, []);
});
