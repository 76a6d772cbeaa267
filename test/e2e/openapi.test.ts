/**
 * The OpenAPI document at /openapi.json against the routes the running server registered: every route is
 * in it, every description names a route that exists, and every route has a description (a new route
 * fails here until it gets an entry in src/api/openapi-descriptions.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTE_DESCRIPTIONS } from '../../src/api/openapi-descriptions.js';
import { toOpenApiPath } from '../../src/api/openapi.js';
import { startServer, type ServerProcess } from '../support/server-process.js';

interface Operation {
  operationId: string;
  summary: string;
  security: Record<string, string[]>[];
  parameters: { name: string; in: string }[];
  responses: Record<string, unknown>;
}

let server: ServerProcess;
let document: { openapi: string; paths: Record<string, Record<string, Operation>> };

before(async () => {
  server = await startServer();
  const response = await server.api('/openapi.json');
  assert.equal(response.status, 200);
  document = (await response.json()) as typeof document;
});
after(async () => {
  await server.cleanup();
});

function operations(): { key: string; path: string; method: string; op: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      key: `${method.toUpperCase()} ${path}`,
      path,
      method,
      op,
    })),
  );
}

test('/openapi.json needs credentials and is an OpenAPI 3.1 document', async () => {
  assert.equal((await fetch(`${server.apiUrl}/openapi.json`)).status, 401);
  assert.equal(document.openapi, '3.1.0');
});

test('every described route exists on the server, with the method and path described', async () => {
  const served = new Set(operations().map((entry) => entry.key));
  for (const key of Object.keys(ROUTE_DESCRIPTIONS)) {
    const [method = '', url = ''] = key.split(' ');
    assert.ok(
      served.has(`${method} ${toOpenApiPath(url)}`),
      `${key} is described but no such route is registered`,
    );
  }
  // And the server really answers each of them (not 404 "no route"): probe without credentials.
  for (const { method, path } of operations()) {
    const url = path.replace(/\{[^}]+\}/g, 'x');
    const response = await fetch(`${server.apiUrl}${url}`, { method: method.toUpperCase() });
    const text = await response.text();
    assert.ok(
      !text.includes('"no route '),
      `${method.toUpperCase()} ${path} is in the document but not served`,
    );
  }
});

test('every registered route has a description (add new ones to src/api/openapi-descriptions.ts)', () => {
  const generic = operations().filter(
    ({ method, path, op }) => op.summary === `${method.toUpperCase()} ${path}`,
  );
  assert.deepEqual(
    generic.map((entry) => entry.key),
    [],
    'routes without an entry in src/api/openapi-descriptions.ts',
  );
});

test('operations are well formed: unique ids, path parameters declared, security only open on /health', () => {
  const ids = new Set<string>();
  for (const { key, path, op } of operations()) {
    assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId}`);
    ids.add(op.operationId);
    for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
      assert.ok(
        op.parameters.some((p) => p.in === 'path' && p.name === name),
        `${key}: path parameter ${name} is not declared`,
      );
    }
    // The legacy TaScaaS protocol sends no headers: a per-job capability token in its path authorises it.
    // Storage webhooks carry their own token (RGW's push endpoints cannot send headers).
    if (path === '/health' || path.startsWith('/lb/') || path.startsWith('/system/storage-events/'))
      assert.deepEqual(op.security, []);
    else assert.ok(op.security.length > 0, `${key} is documented as open`);
    assert.ok(op.responses.default, `${key} has no error response`);
  }
  assert.ok(document.paths['/system/services']?.post, 'POST /system/services is documented');
  assert.ok(document.paths['/metrics']?.get, 'GET /metrics is documented');
});
