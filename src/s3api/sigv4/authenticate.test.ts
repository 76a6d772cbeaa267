import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformError } from '../../core/index.js';
import { parseRequestTarget } from '../request-target.js';
import { authenticate, type AuthenticateInput } from './authenticate.js';
import {
  CHUNKED_EXAMPLE,
  EXAMPLE_ACCESS_KEY_ID,
  EXAMPLE_NOW_MS,
  EXAMPLE_SECRET_KEY,
  exampleAuthorization,
  GET_EXAMPLE,
  TRAILER_EXAMPLE,
} from './aws-examples.test-data.js';
import { presignUrl } from './presign.js';

const resolveSecret = (id: string) =>
  id === EXAMPLE_ACCESS_KEY_ID ? { secretKey: EXAMPLE_SECRET_KEY, principal: 'example' } : null;

function input(
  method: string,
  host: string,
  url: string,
  headers: Record<string, string>,
): AuthenticateInput {
  const all: Record<string, string> = { host, ...headers };
  return {
    method,
    headers: all,
    headersDistinct: Object.fromEntries(Object.entries(all).map(([name, value]) => [name, [value]])),
    target: parseRequestTarget(url, host, ['s3.amazonaws.com']),
  };
}

function s3Code(error: unknown): string {
  return String(((error as PlatformError).details as { s3Code?: string }).s3Code);
}

test("AWS's documented GET example verifies (virtual-hosted, Range signed)", () => {
  const request = input('GET', GET_EXAMPLE.host, GET_EXAMPLE.path, {
    ...GET_EXAMPLE.headers,
    authorization: exampleAuthorization(GET_EXAMPLE.signedHeaders, GET_EXAMPLE.signature),
  });
  const auth = authenticate(request, resolveSecret, EXAMPLE_NOW_MS);
  assert.equal(auth.principal, 'example');
  assert.deepEqual(auth.payload, { kind: 'sha256', sha256: GET_EXAMPLE.headers['x-amz-content-sha256'] });
});

test("AWS's documented seed signatures of chunked uploads verify, with and without trailer", () => {
  for (const example of [CHUNKED_EXAMPLE, TRAILER_EXAMPLE]) {
    const request = input('PUT', example.host, example.path, {
      ...example.headers,
      authorization: exampleAuthorization(example.signedHeaders, example.seedSignature),
    });
    const auth = authenticate(request, resolveSecret, EXAMPLE_NOW_MS);
    assert.equal(auth.payload.kind, 'chunked');
    assert.equal(auth.signing.seedSignature, example.seedSignature);
  }
});

test('a request with no credentials at all is anonymous (its bucket decides), with unsigned payload', () => {
  const anonymous = authenticate(
    input('GET', GET_EXAMPLE.host, GET_EXAMPLE.path, GET_EXAMPLE.headers),
    () => null,
    EXAMPLE_NOW_MS,
  );
  assert.equal(anonymous.anonymous, true);
  assert.equal(anonymous.admin, false);
  assert.deepEqual(anonymous.payload, { kind: 'unsigned' });
});

test('a changed header, a wrong secret, an unknown key, a skewed clock and malformed auth are refused with S3 codes', () => {
  const good = {
    ...GET_EXAMPLE.headers,
    authorization: exampleAuthorization(GET_EXAMPLE.signedHeaders, GET_EXAMPLE.signature),
  };
  const cases: Array<[AuthenticateInput, number, string]> = [
    [
      input('GET', GET_EXAMPLE.host, GET_EXAMPLE.path, { ...good, range: 'bytes=0-10' }),
      EXAMPLE_NOW_MS,
      'SignatureDoesNotMatch',
    ],
    [input('GET', GET_EXAMPLE.host, '/test.txt?x=1', good), EXAMPLE_NOW_MS, 'SignatureDoesNotMatch'],
    [input('DELETE', GET_EXAMPLE.host, GET_EXAMPLE.path, good), EXAMPLE_NOW_MS, 'SignatureDoesNotMatch'],
    [
      input('GET', GET_EXAMPLE.host, GET_EXAMPLE.path, {
        ...good,
        authorization: good.authorization.replace('AKIAIOSFODNN7EXAMPLE', 'AKIDUNKNOWN'),
      }),
      EXAMPLE_NOW_MS,
      'InvalidAccessKeyId',
    ],
    [
      input('GET', GET_EXAMPLE.host, GET_EXAMPLE.path, good),
      EXAMPLE_NOW_MS + 16 * 60_000,
      'RequestTimeTooSkewed',
    ],
    [
      input('GET', GET_EXAMPLE.host, GET_EXAMPLE.path, {
        ...good,
        authorization: good.authorization.replace(',SignedHeaders=host;', ',SignedHeaders='),
      }),
      EXAMPLE_NOW_MS,
      'AuthorizationHeaderMalformed',
    ],
    [
      input('GET', GET_EXAMPLE.host, GET_EXAMPLE.path, { ...good, authorization: 'AWS AKID:sig' }),
      EXAMPLE_NOW_MS,
      'InvalidRequest',
    ],
  ];
  for (const [request, now, code] of cases) {
    assert.throws(
      () => authenticate(request, resolveSecret, now),
      (error: unknown) => s3Code(error) === code,
      code,
    );
  }
  const { 'x-amz-content-sha256': _dropped, ...withoutHash } = good;
  assert.throws(
    () =>
      authenticate(
        input('GET', GET_EXAMPLE.host, GET_EXAMPLE.path, withoutHash),
        resolveSecret,
        EXAMPLE_NOW_MS,
      ),
    (error: unknown) => s3Code(error) === 'InvalidRequest',
  );
  const wrongSecret = () => ({ secretKey: 'not-the-secret', principal: 'x' });
  assert.throws(
    () => authenticate(input('GET', GET_EXAMPLE.host, GET_EXAMPLE.path, good), wrongSecret, EXAMPLE_NOW_MS),
    (error: unknown) => s3Code(error) === 'SignatureDoesNotMatch',
  );
});

test('presigned URLs verify until they expire, and only for what was signed', () => {
  const nowMs = Date.UTC(2026, 0, 2, 3, 4, 5);
  const url = new URL(
    presignUrl({
      method: 'GET',
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'data',
      key: 'in/a b+c~(1).txt',
      accessKeyId: EXAMPLE_ACCESS_KEY_ID,
      secretKey: EXAMPLE_SECRET_KEY,
      region: 'us-east-1',
      expiresSeconds: 60,
      nowMs,
    }),
  );
  assert.equal(url.pathname, '/data/in/a%20b%2Bc~%281%29.txt');
  const request = (method: string, path: string) => input(method, url.host, path, {});
  const auth = authenticate(request('GET', url.pathname + url.search), resolveSecret, nowMs + 59_000);
  assert.equal(auth.presigned, true);
  assert.equal(auth.payload.kind, 'unsigned');
  const refused = (method: string, path: string, at: number, code: string) =>
    assert.throws(
      () => authenticate(request(method, path), resolveSecret, at),
      (error: unknown) => s3Code(error) === code,
      code,
    );
  refused('GET', url.pathname + url.search, nowMs + 61_000, 'AccessDenied');
  refused('PUT', url.pathname + url.search, nowMs, 'SignatureDoesNotMatch');
  refused('GET', '/data/in/other.txt' + url.search, nowMs, 'SignatureDoesNotMatch');
  refused(
    'GET',
    url.pathname + url.search.replace('X-Amz-Expires=60', 'X-Amz-Expires=6000'),
    nowMs,
    'SignatureDoesNotMatch',
  );
  refused(
    'GET',
    url.pathname + url.search.replace('X-Amz-Expires=60', 'X-Amz-Expires=604801'),
    nowMs,
    'AuthorizationQueryParametersError',
  );
});
