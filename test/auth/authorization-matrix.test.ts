/**
 * The authorization matrix: every REST endpoint × (anonymous, owner, other user, admin, service token),
 * against a real server. Each row names the status every principal gets; rows that consume their target
 * (deletes, retries) prepare a fresh one per principal. Route files are read to check that no endpoint is
 * missing from the table.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, waitFor } from '../support/server-process.js';
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

type Statuses = [anonymous: number, owner: number, other: number, admin: number, service: number];

interface Row {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
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
];

/** The route files whose every endpoint this table covers. */
const COVERED_FILES = ['system.ts', 'services.ts', 'logs.ts', 'invoke.ts', 'users.ts', 'buckets.ts'];

function registeredRoutes(): { file: string; method: string; route: string }[] {
  const dir = join(ROOT, 'src', 'api', 'routes');
  const routes: { file: string; method: string; route: string }[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const match of text.matchAll(
      /\b(?:app|scope)\.(get|post|put|delete|patch)(?:<[^(]*?>)?\(\s*'([^']+)'/g,
    ))
      routes.push({ file, method: (match[1] ?? '').toUpperCase(), route: match[2] ?? '' });
  }
  return routes;
}

test('the matrix names every endpoint of the route files it covers', () => {
  const inTable = new Set(ROWS.map((row) => `${row.method} ${row.route}`));
  const routes = registeredRoutes();
  const missing = routes
    .filter((route) => COVERED_FILES.includes(route.file))
    .map((route) => `${route.method} ${route.route}`)
    .filter((route) => !inTable.has(route));
  assert.deepEqual(missing, [], 'endpoints missing from the authorization matrix');
  const elsewhere = routes.filter((route) => !COVERED_FILES.includes(route.file));
  if (elsewhere.length > 0) {
    // Still authenticated by the global hook; listed so that the gap is visible.
    console.log(
      `routes outside the matrix (global hook only): ${elsewhere.map((r) => `${r.method} ${r.route}`).join(', ')}`,
    );
  }
});

test('authorization matrix: every endpoint × anonymous, owner, other user, admin, service token', async () => {
  let cases = 0;
  const failures: string[] = [];
  for (const row of ROWS) {
    for (const [index, who] of EVERYONE.entries()) {
      const path = await row.path(who);
      const response = await t.call(who, row.method, path, row.body?.(who));
      const text = await response.text();
      cases++;
      const expected = row.expect[index];
      if (response.status !== expected) {
        failures.push(
          `${row.method} ${path} as ${who}: ${response.status} (expected ${expected}) ${text.slice(0, 200)}`,
        );
      }
      if (response.status === 401 || response.status === 403) {
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
