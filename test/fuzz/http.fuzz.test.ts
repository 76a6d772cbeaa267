/**
 * Hostile requests against a real server: random REST calls (methods, paths, headers, JSON and non-JSON
 * bodies, /job event payloads) and signed S3 requests with traversal keys, bad encodings, ranges and XML
 * bodies. No answer is a 500 (the only 5xx allowed are coded ones such as 502 JOB_FAILED), and a rejected
 * request leaves the state (services, users, buckets, objects) as it was.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { startServer, type ServerProcess } from '../support/server-process.js';
import { rawRequest } from '../s3api/raw-client.js';
import { HOSTILE_STRINGS, countCases, hostileString, printCounts, runs } from './fuzz-support.js';

let server: ServerProcess;
let basic = '';

before(async () => {
  server = await startServer();
  const creds = await server.credentials();
  basic = `Basic ${Buffer.from(`${creds.adminUser}:${creds.adminPassword}`).toString('base64')}`;
  const created = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'target',
      image: 'busybox',
      script: 'true\n',
      memory: '64Mi',
      input: [{ storage_provider: 'minio.default', path: 'fuzz/in' }],
    }),
  });
  assert.equal(created.status, 201);
});
after(async () => {
  printCounts('http');
  await server.cleanup();
});

/** A fingerprint of everything a rejected request must not change. */
async function stateFingerprint(): Promise<string> {
  const parts: string[] = [];
  for (const path of ['/system/services', '/system/users', '/system/buckets']) {
    parts.push(await (await server.api(path)).text());
  }
  const objects = await (await server.api('/system/buckets/fuzz?limit=1000')).text();
  parts.push(objects.replace(/"last_modified":"[^"]*"/g, ''));
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

// Coded 5xx: S3's NotImplemented, a failed job, unavailable, timeout, storage full.
/** encodeURIComponent, with lone surrogates sent as the invalid UTF-8 they would be. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ed%a0%80';
  }
}

const ALLOWED_5XX = new Set([501, 502, 503, 504, 507]);

function assertNoInternalError(status: number, body: string, what: string): void {
  assert.notEqual(status, 500, `${what} answered 500: ${body.slice(0, 300)}`);
  if (status > 500) assert.ok(ALLOWED_5XX.has(status), `${what} answered ${status}`);
}

const paths = fc.oneof(
  fc.constantFrom(
    '/system/services',
    '/system/services/target',
    '/system/users',
    '/system/buckets',
    '/system/buckets/fuzz',
    '/system/logs/target',
    '/job/target',
    '/system/users/me/tokens',
    '/system/buckets/fuzz/presign',
  ),
  fc
    .tuple(
      fc.constantFrom(
        '/system/services/',
        '/system/logs/target/',
        '/system/buckets/',
        '/job/',
        '/system/users/',
      ),
      hostileString(),
    )
    .map(([base, tail]) => base + encode(tail)),
  hostileString().map((tail) => `/${tail.replace(/[\s#?]/g, '')}`),
);

const bodies = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc
    .record(
      {
        name: hostileString(),
        bucket_name: hostileString(),
        image: hostileString(),
        script: hostileString(),
        visibility: hostileString(),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('{', '[]', 'null', '{"__proto__":{"admin":true}}', '{"name":"x","name":"y"}', '\u0000'),
);

test('REST API: random requests as the admin never get a 500 and always a coded error body', async () => {
  const n = runs(300);
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
      paths,
      bodies,
      fc.constantFrom(
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=utf-16',
      ),
      async (method, path, body, type) => {
        // Deleting or changing things successfully is allowed; the admin must not destroy the fixture.
        if (method !== 'GET' && (path === '/system/services/target' || path === '/system/buckets/fuzz'))
          return;
        const response = await fetch(`${server.apiUrl}${path}`, {
          method,
          headers: { authorization: basic, 'content-type': type },
          ...(method === 'GET' ? {} : { body }),
        });
        const text = await response.text();
        assertNoInternalError(response.status, text, `${method} ${path}`);
        if (response.status >= 400) {
          const parsed = JSON.parse(text) as { error?: { code?: unknown } };
          assert.equal(typeof parsed.error?.code, 'string', `coded error for ${method} ${path}`);
        }
      },
    ),
    { numRuns: n },
  );
  countCases('rest api (admin)', n);
  // Successful random POSTs may have created users or buckets; only the fixture's own parts are compared.
  const services = (await (await server.api('/system/services/target')).json()) as { name: string };
  assert.equal(services.name, 'target');
});

test('REST API: rejected requests leave the state exactly as it was', async () => {
  const n = runs(200);
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('POST', 'PUT'),
      fc.constantFrom('/system/services', '/system/buckets', '/system/users'),
      bodies,
      async (method, path, body) => {
        const before = await stateFingerprint();
        const response = await fetch(`${server.apiUrl}${path}`, {
          method,
          headers: { authorization: basic, 'content-type': 'application/json' },
          body,
        });
        const text = await response.text();
        assertNoInternalError(response.status, text, `${method} ${path}`);
        if (response.status >= 400)
          assert.equal(
            await stateFingerprint(),
            before,
            `${method} ${path} ${body.slice(0, 80)} changed state`,
          );
      },
    ),
    { numRuns: n },
  );
  countCases('rest api rejected writes', n);
});

test('/job event payloads: any body is queued or refused with a code', async () => {
  const token = ((await (await server.api('/system/services/target')).json()) as { token: string }).token;
  const n = runs(200);
  await fc.assert(
    fc.asyncProperty(bodies, async (body) => {
      const response = await fetch(`${server.apiUrl}/job/target`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body,
      });
      const text = await response.text();
      assertNoInternalError(response.status, text, 'POST /job/target');
      assert.ok(
        response.status === 201 || response.status === 413,
        `${response.status} ${text.slice(0, 200)}`,
      );
    }),
    { numRuns: n },
  );
  countCases('job event payloads', n);
});

test('S3 endpoint: signed hostile keys, ranges and XML bodies get S3 errors, never a 500 or a stray write', async () => {
  const creds = await server.credentials();
  const port = server.s3Port;
  const sign = { accessKeyId: creds.s3AccessKey, secretKey: creds.s3SecretKey };
  const seeded = await rawRequest(port, {
    method: 'PUT',
    path: '/fuzz/in/seed.txt',
    body: Buffer.from('0123456789'),
    ...sign,
  });
  assert.equal(seeded.status, 200);

  const corpus = HOSTILE_STRINGS.map((s) => `/fuzz/${s.replace(/[\r\n]/g, '')}`);
  let cases = 0;
  for (const path of corpus) {
    for (const method of ['GET', 'PUT', 'DELETE', 'HEAD']) {
      const before = await stateFingerprint();
      let reply;
      try {
        reply = await rawRequest(port, {
          method,
          path,
          body: method === 'PUT' ? Buffer.from('x') : Buffer.alloc(0),
          ...sign,
        });
      } catch {
        // A path Node's client refuses to send (e.g. with a NUL) never reaches the server.
        continue;
      }
      cases++;
      assertNoInternalError(reply.status, reply.body.toString(), `${method} ${path}`);
      if (reply.status >= 400)
        assert.equal(await stateFingerprint(), before, `${method} ${path} changed state`);
    }
  }
  countCases('s3 hostile key corpus', cases);

  const n = runs(300);
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'PUT', 'POST', 'DELETE'),
      fc.oneof(
        fc.constant('/fuzz/in/seed.txt'),
        hostileString().map((s) => `/fuzz/${encode(s)}`),
        fc.constant('/fuzz'),
      ),
      fc.array(
        fc.tuple(
          fc.constantFrom(
            'delete',
            'uploads',
            'uploadId',
            'partNumber',
            'list-type',
            'max-keys',
            'prefix',
            'continuation-token',
            'tagging',
          ),
          hostileString(),
        ),
        { maxLength: 3 },
      ),
      fc.record(
        {
          range: fc.oneof(
            fc.constantFrom('bytes=0-3', 'bytes=5-', 'bytes=-3', 'bytes=9-2', 'bytes=99-', 'bytes=0-0,2-3'),
            hostileString(),
          ),
        },
        { requiredKeys: [] },
      ),
      fc.oneof(
        fc.constant(''),
        fc.constantFrom(
          '<Delete><Object><Key>../../x</Key></Object></Delete>',
          '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object></Delete>',
          '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>',
          `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`,
          '<a>'.repeat(2000),
        ),
        fc.string({ maxLength: 200 }),
      ),
      async (method, path, query, headers, body) => {
        const before = await stateFingerprint();
        let reply;
        try {
          reply = await rawRequest(port, { method, path, query, headers, body: Buffer.from(body), ...sign });
        } catch {
          return;
        }
        assertNoInternalError(reply.status, reply.body.toString(), `${method} ${path}`);
        if (reply.status >= 400)
          assert.equal(await stateFingerprint(), before, `${method} ${path} changed state`);
      },
    ),
    { numRuns: n },
  );
  countCases('s3 signed random requests', n);
});
