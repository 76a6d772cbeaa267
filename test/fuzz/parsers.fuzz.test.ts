/**
 * Property tests and a hostile corpus against the pure parsers: FDL files and Service JSON, the S3 request
 * target (paths, keys, queries, virtual hosts), Range headers, SigV4 authentication, and the event payloads of
 * /job. Every input either parses or fails with a coded PlatformError; nothing else is thrown.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseFdl, validateServiceJson } from '../../src/fdl/index.js';
import { parseRequestTarget } from '../../src/s3api/request-target.js';
import { parseRangeHeader, resolveRangeSpec } from '../../src/s3api/object-headers.js';
import { authenticate } from '../../src/s3api/sigv4/authenticate.js';
import { decodeObjectKey, validateBucketName, validateObjectKey } from '../../src/storage/index.js';
import { objectFromEvent } from '../../src/events/index.js';
import {
  HOSTILE_STRINGS,
  countCases,
  hostileString,
  onlyCodedFailures,
  printCounts,
  runs,
} from './fuzz-support.js';

after(() => printCounts('parsers'));

const FDL_CODES = ['FDL_SYNTAX', 'FDL_INVALID', 'FDL_SCRIPT_NOT_FOUND'] as const;

const fdlCorpus: string[] = [
  '',
  '---',
  'functions:',
  'functions: []',
  'functions: {oscar: [{c: {name: x}}]}',
  // A billion laughs: aliases must not expand without limit.
  [
    'a: &a ["x","x","x","x","x","x","x","x","x"]',
    ...Array.from(
      { length: 9 },
      (_, i) =>
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`,
    ),
    'functions: *j',
  ].join('\n'),
  '['.repeat(5000),
  '{'.repeat(5000),
  'functions:\n  oscar:\n  - c:\n      name: x\n      name: y\n',
  'functions: {oscar: [{c: {name: "../etc", image: x, script: "../../etc/passwd"}}]}',
  'functions: {oscar: [{c: {__proto__: {polluted: true}, name: ok, image: x, script: s}}]}',
  'functions: {oscar: [{c: {name: ok, image: x, script: s, memory: 1e309, cpu: -1}}]}',
  'functions: {oscar: [{c: {name: ok, image: x, script: "\\0"}}]}',
  '!!js/function "function(){}"',
  '%YAML 9.9\n---\na: 1',
  'a: !!binary AAAA',
  '\t\tfunctions: 1',
  '\ufeffFUNCTIONS: x',
];

test('FDL parser: hostile corpus and arbitrary text parse or fail with FDL codes', () => {
  for (const text of [...fdlCorpus, ...HOSTILE_STRINGS]) {
    onlyCodedFailures(() => parseFdl(text, { file: 'corpus.yaml' }), FDL_CODES);
  }
  countCases('fdl corpus', fdlCorpus.length + HOSTILE_STRINGS.length);
  const n = runs(1500);
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
      onlyCodedFailures(() => parseFdl(text, { file: 'fuzz.yaml' }), FDL_CODES);
    }),
    { numRuns: n },
  );
  countCases('fdl arbitrary text', n);
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
});

const serviceLike = fc.record(
  {
    name: fc.oneof(fc.constantFrom('ok', 'a-b', 'UPPER'), hostileString()),
    image: fc.oneof(fc.constant('busybox'), hostileString()),
    script: fc.oneof(fc.constant('echo hi'), hostileString()),
    memory: fc.oneof(fc.constantFrom('64Mi', '1Gi', '0', '-1Mi', '1e999'), fc.double(), hostileString()),
    cpu: fc.oneof(fc.constantFrom('0.5', '500m', 'many'), fc.double(), fc.integer()),
    input: fc.array(
      fc.record({
        storage_provider: fc.oneof(fc.constant('minio.default'), hostileString()),
        path: hostileString(),
      }),
      { maxLength: 3 },
    ),
    environment: fc.oneof(
      fc.constant(undefined),
      fc.record({ secrets: fc.dictionary(hostileString(), hostileString(), { maxKeys: 3 }) }),
    ),
    visibility: fc.oneof(fc.constantFrom('private', 'public', 'restricted', 'PUBLIC'), hostileString()),
    allowed_users: fc.oneof(fc.array(hostileString(), { maxLength: 3 }), fc.anything()),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);

test('Service JSON and generated FDL documents: valid or VALIDATION/FDL errors, never a crash', () => {
  const n = runs(800);
  fc.assert(
    fc.property(fc.oneof(serviceLike, fc.anything()), (body) => {
      onlyCodedFailures(() => validateServiceJson(body), ['VALIDATION_FAILED', 'FDL_INVALID', 'BAD_REQUEST']);
    }),
    { numRuns: n },
  );
  countCases('service json', n);
  const m = runs(600);
  fc.assert(
    fc.property(serviceLike, (service) => {
      const text = stringify({ functions: { oscar: [{ cluster: service }] } });
      onlyCodedFailures(() => parseFdl(text, { file: 'gen.yaml' }), FDL_CODES);
    }),
    { numRuns: m },
  );
  countCases('fdl generated documents', m);
});

const urlChars = fc.constantFrom(
  '/',
  '.',
  '%',
  '2',
  'e',
  'E',
  'f',
  '0',
  'c',
  'a',
  '?',
  '&',
  '=',
  '#',
  '+',
  ' ',
  'é',
  '\u0000',
  '~',
  'x-id=',
  'uploads',
);

test('S3 request targets, keys and bucket names: traversal and bad encodings are refused with codes', () => {
  const n = runs(1500);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.array(urlChars, { maxLength: 40 }).map((p) => `/${p.join('')}`),
        hostileString().map((s) => `/bucket/${s}`),
      ),
      fc.oneof(fc.constant('127.0.0.1:9000'), fc.constant('bkt.localhost'), hostileString()),
      (url, host) => {
        onlyCodedFailures(() => {
          const target = parseRequestTarget(url, host, ['localhost']);
          if (target.keyBytes !== null) {
            const key = decodeObjectKey(target.keyBytes);
            // A key that passed is stored under a generated file name; it must still be a sane key.
            validateObjectKey(key);
            assert.ok(!key.includes('\u0000'), 'no NUL in an accepted key');
          }
        });
      },
    ),
    { numRuns: n },
  );
  countCases('s3 request target', n);
  for (const name of [
    ...HOSTILE_STRINGS,
    'ok-bucket',
    'a',
    'UPPER',
    '192.168.0.1',
    'xn--bucket',
    'b'.repeat(64),
  ]) {
    onlyCodedFailures(() => validateBucketName(name), ['INVALID_BUCKET_NAME']);
    onlyCodedFailures(() => validateObjectKey(name), ['INVALID_KEY']);
  }
  for (const key of ['..', '../x', 'a/../b', 'a/./b', 'nul\u0000', '\ud800']) {
    assert.throws(() => validateObjectKey(key), { code: 'INVALID_KEY' }, JSON.stringify(key));
  }
  countCases('bucket names and keys corpus', (HOSTILE_STRINGS.length + 6) * 2 + 6);
});

test('Range headers resolve within the object or fail with codes', () => {
  const rangeText = fc.oneof(
    fc.tuple(fc.option(fc.nat()), fc.option(fc.nat())).map(([a, b]) => `bytes=${a ?? ''}-${b ?? ''}`),
    fc
      .array(fc.constantFrom('bytes', '=', '-', ',', '0', '9', '99999999999999999999', ' ', 'x'), {
        maxLength: 10,
      })
      .map((p) => p.join('')),
    hostileString(),
  );
  const n = runs(1500);
  fc.assert(
    fc.property(rangeText, fc.nat({ max: 1_000_000 }), (text, size) => {
      onlyCodedFailures(() => {
        const spec = parseRangeHeader(text);
        if (spec === null) return;
        const range = resolveRangeSpec(spec, size);
        if (range !== null) {
          assert.ok(range.start >= 0 && range.start <= range.end && range.end < size, `${text} on ${size}`);
        }
      });
    }),
    { numRuns: n },
  );
  countCases('range header', n);
});

test('SigV4: forged, truncated and malformed signatures fail with codes, never authenticate', () => {
  const resolver = (id: string) =>
    id === 'AKIAFUZZ' ? { secretKey: 'secret', principal: 'fuzz', admin: true } : null;
  const authorization = fc.oneof(
    fc.constant(
      'AWS4-HMAC-SHA256 Credential=AKIAFUZZ/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=' +
        '0'.repeat(64),
    ),
    fc
      .tuple(hostileString(), hostileString(), hostileString())
      .map(([c, h, s]) => `AWS4-HMAC-SHA256 Credential=${c}, SignedHeaders=${h}, Signature=${s}`),
    fc.constantFrom(
      'AWS AKIAFUZZ:abc',
      'Bearer x',
      'AWS4-HMAC-SHA256',
      'AWS4-HMAC-SHA256 Credential=AKIAFUZZ',
    ),
    hostileString(),
  );
  const n = runs(1500);
  fc.assert(
    fc.property(authorization, hostileString(), fc.option(hostileString()), (auth, amzDate, query) => {
      const url = query === null ? '/bucket/key' : `/bucket/key?${query}`;
      let target;
      try {
        target = parseRequestTarget(url, '127.0.0.1:9000', ['localhost']);
      } catch {
        return;
      }
      const headers = {
        authorization: auth,
        'x-amz-date': amzDate,
        host: '127.0.0.1:9000',
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      };
      onlyCodedFailures(() => {
        const result = authenticate(
          {
            method: 'GET',
            headers,
            headersDistinct: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
            target,
          },
          resolver,
          Date.now(),
        );
        // Nothing signed by a forger may come out authenticated.
        assert.ok(result.anonymous, `authenticated with ${auth}`);
      });
    }),
    { numRuns: n },
  );
  countCases('sigv4 authorization', n);
});

test('event payloads: any JSON gives a well-formed object reference or none', () => {
  const recordLike = fc.record(
    {
      Records: fc.array(
        fc.record(
          {
            eventTime: fc.oneof(fc.constant('2024-01-01T00:00:00Z'), hostileString()),
            s3: fc.record(
              {
                bucket: fc.record(
                  { name: fc.oneof(fc.constant('in'), hostileString(), fc.anything()) },
                  { requiredKeys: [] },
                ),
                object: fc.record(
                  { key: fc.oneof(fc.constant('in/a.txt'), hostileString(), fc.anything()) },
                  { requiredKeys: [] },
                ),
              },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      ),
      Key: fc.oneof(hostileString(), fc.anything()),
      EventName: fc.anything(),
    },
    { requiredKeys: [] },
  );
  const n = runs(1500);
  fc.assert(
    fc.property(fc.oneof(recordLike, fc.anything(), fc.jsonValue()), (body) => {
      const object = objectFromEvent(body);
      if (object !== null) {
        assert.equal(typeof object.bucket, 'string');
        assert.equal(typeof object.key, 'string');
      }
    }),
    { numRuns: n },
  );
  countCases('event payloads', n);
});
