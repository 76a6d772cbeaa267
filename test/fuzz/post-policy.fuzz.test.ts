/**
 * Property tests and a hostile corpus against the S3 POST policy check (browser form uploads): forms signed
 * correctly over arbitrary, malformed or hostile policies, and forms with arbitrary fields. Every form is
 * accepted or refused with a coded PlatformError (S3's AccessDenied, InvalidPolicyDocument, ...); an
 * accepted form has every field named by a condition and every exact condition met.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { verifyPostPolicy } from '../../src/s3api/post-policy.js';
import { SIGV4_ALGORITHM, sign, signingKey } from '../../src/s3api/sigv4/signing.js';
import {
  HOSTILE_STRINGS,
  countCases,
  hostileString,
  onlyCodedFailures,
  printCounts,
  runs,
} from './fuzz-support.js';

after(() => printCounts('post-policy'));

const ACCESS_KEY = 'AKFUZZ';
const SECRET = 'fuzz-secret-key';
const NOW = Date.parse('2026-12-07T00:00:00Z');
const resolveSecret = (id: string) =>
  id === ACCESS_KEY ? { secretKey: SECRET, principal: 'ana', admin: false } : null;
const CODES = ['FORBIDDEN', 'UNAUTHENTICATED', 'BAD_REQUEST'] as const;

/** A form signed as a browser's would be, over `policyText` (any text, JSON or not). */
function signedForm(policyText: string, fields: Record<string, string>): Map<string, string> {
  const policy = Buffer.from(policyText, 'utf8').toString('base64');
  const credential = `${ACCESS_KEY}/20261207/us-east-1/s3/aws4_request`;
  const form = new Map<string, string>(
    Object.entries(fields).map(([name, value]) => [name.toLowerCase(), value]),
  );
  form.set('policy', policy);
  form.set('x-amz-algorithm', SIGV4_ALGORITHM);
  form.set('x-amz-credential', credential);
  form.set('x-amz-date', '20261207T000000Z');
  form.set('x-amz-signature', sign(signingKey(SECRET, '20261207', 'us-east-1', 's3'), policy));
  return form;
}

const fieldName = fc.oneof(
  fc.constantFrom(
    'key',
    'Content-Type',
    'success_action_status',
    'x-amz-meta-tag',
    'x-ignore-me',
    'bucket',
    'acl',
  ),
  hostileString(),
);
const condition = fc.oneof(
  fc.dictionary(fieldName, fc.oneof(hostileString(), fc.string()), { maxKeys: 2 }),
  fc.tuple(
    fc.constantFrom('eq', 'starts-with', 'EQ', 'contains'),
    fc.oneof(
      fieldName.map((n) => `$${n}`),
      fieldName,
    ),
    fc.string(),
  ),
  fc.tuple(
    fc.constant('content-length-range'),
    fc.oneof(fc.integer(), fc.double()),
    fc.oneof(fc.integer(), fc.double()),
  ),
  fc.anything(),
);
const expiration = fc.oneof(
  fc.constant('2030-01-01T00:00:00Z'),
  fc.constant('2020-01-01T00:00:00Z'),
  hostileString(),
  fc.anything(),
);

test('POST policy: hostile corpus of policies, correctly signed, is refused with a code', () => {
  const corpus = [
    '',
    'not json',
    'null',
    '[]',
    '{}',
    '{"expiration": "2030-01-01T00:00:00Z"}',
    '{"expiration": "2030-01-01T00:00:00Z", "conditions": null}',
    '{"expiration": "2030-01-01T00:00:00Z", "conditions": [["starts-with", "key", ""]]}',
    '{"expiration": "2030-01-01T00:00:00Z", "conditions": [{"__proto__": "x"}]}',
    '{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", -1, 1e309]]}',
    '{"expiration": 1e309, "conditions": []}',
    '{"expiration": "9999-99-99", "conditions": []}',
    '{'.repeat(10_000),
    ...HOSTILE_STRINGS,
  ];
  for (const text of corpus) {
    onlyCodedFailures(
      () => verifyPostPolicy(signedForm(text, { key: 'in/x' }), 'bkt', resolveSecret, NOW),
      [...CODES],
    );
  }
  countCases('POST policy (corpus)', corpus.length);
});

test('POST policy: arbitrary policies and fields are accepted only when every field is covered and met', () => {
  const n = runs(2000);
  fc.assert(
    fc.property(
      expiration,
      fc.array(condition, { maxLength: 6 }),
      fc.dictionary(fieldName, fc.oneof(hostileString(), fc.string()), { maxKeys: 4 }),
      (expires, conditions, fields) => {
        const form = signedForm(JSON.stringify({ expiration: expires, conditions }), fields);
        onlyCodedFailures(() => {
          verifyPostPolicy(form, 'bkt', resolveSecret, NOW);
          // Accepted: every exact condition holds and every field (but the exempt ones) was named.
          const named = new Set<string>();
          for (const item of conditions) {
            if (Array.isArray(item)) {
              if (typeof item[1] === 'string') named.add(item[1].slice(1).toLowerCase());
            } else if (typeof item === 'object' && item !== null) {
              for (const [name, value] of Object.entries(item)) {
                named.add(name.toLowerCase());
                const actual = name.toLowerCase() === 'bucket' ? 'bkt' : form.get(name.toLowerCase());
                assert.equal(actual, value, `accepted although ${name} is not ${String(value)}`);
              }
            }
          }
          for (const field of form.keys()) {
            if (['policy', 'x-amz-signature', 'file'].includes(field) || field.startsWith('x-ignore-'))
              continue;
            assert.ok(named.has(field), `accepted although ${field} is named by no condition`);
          }
        }, [...CODES]);
      },
    ),
    { numRuns: n },
  );
  countCases('POST policy (signed, arbitrary)', n);
});

test('POST policy: forms with arbitrary credentials, dates and signatures are refused with a code', () => {
  const n = runs(1000);
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.constantFrom(
          'policy',
          'x-amz-algorithm',
          'x-amz-credential',
          'x-amz-date',
          'x-amz-signature',
          'key',
        ),
        fc.oneof(
          hostileString(),
          fc.string(),
          fc.constant(`${ACCESS_KEY}/20261207/us-east-1/s3/aws4_request`),
        ),
      ),
      (fields) => {
        onlyCodedFailures(() => {
          verifyPostPolicy(new Map(Object.entries(fields)), 'bkt', resolveSecret, NOW);
          assert.fail('an unsigned or wrongly signed form was accepted');
        }, [...CODES]);
      },
    ),
    { numRuns: n },
  );
  countCases('POST policy (unsigned forms)', n);
});
