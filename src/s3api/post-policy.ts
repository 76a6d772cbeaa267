/**
 * @module s3api/post-policy
 * S3's browser form uploads (POST Object) with a Signature Version 4 POST policy: the form carries a
 * base64 JSON policy (an expiration and conditions on the form's fields), the access key's credential
 * scope, and the hex HMAC of the base64 policy under the SigV4 signing key. Nothing here reads a request:
 * these checks take the form's fields, so they are tested as functions.
 *
 * As AWS does: every field but `x-amz-signature`, `file`, `policy` and `x-ignore-*` must be named by a
 * condition; conditions are exact (`{"field": "v"}` or `["eq", "$field", "v"]`), prefixes
 * (`["starts-with", "$field", "v"]`, an empty prefix allows anything) or the file's size
 * (`["content-length-range", min, max]`). Field names compare case-insensitively.
 */
import { z } from 'zod';
import { s3Failure } from './s3-errors.js';
import { SIGV4_ALGORITHM, sign, signaturesEqual, signingKey } from './sigv4/signing.js';
import type { SecretResolver } from './sigv4/authenticate.js';

/** Form fields no condition needs to name. */
const EXEMPT_FIELDS = new Set(['x-amz-signature', 'file', 'policy']);

const conditionSchema = z.union([
  z
    .record(z.string(), z.string())
    .refine((value) => Object.keys(value).length === 1, 'one field per condition'),
  z.tuple([z.enum(['eq', 'starts-with']), z.string().startsWith('$'), z.string()]),
  z.tuple([
    z.literal('content-length-range'),
    z.number().int().nonnegative(),
    z.number().int().nonnegative(),
  ]),
]);

const policySchema = z.object({
  expiration: z.string(),
  conditions: z.array(conditionSchema),
});

export interface AcceptedPost {
  accessKeyId: string;
  /** Who the upload is recorded as (the access key's owner). */
  principal: string;
  admin: boolean;
  /** Inclusive bounds of the file's size; null: only the endpoint's own limit. */
  sizeRange: { min: number; max: number } | null;
}

function invalidPolicy(message: string): never {
  throw s3Failure('InvalidPolicyDocument', `Invalid Policy: ${message}`);
}

/**
 * Checks the signature, the expiration and every condition against `fields` (names lower-case; the key
 * with `${filename}` already replaced). Throws the S3 error a form upload gets: AccessDenied,
 * SignatureDoesNotMatch, InvalidAccessKeyId, InvalidPolicyDocument.
 */
export function verifyPostPolicy(
  fields: ReadonlyMap<string, string>,
  bucket: string,
  resolveSecret: SecretResolver,
  nowMs: number,
): AcceptedPost {
  const policyBase64 = fields.get('policy');
  const algorithm = fields.get('x-amz-algorithm');
  const credential = fields.get('x-amz-credential');
  const date = fields.get('x-amz-date');
  const signature = fields.get('x-amz-signature');
  if (policyBase64 === undefined || signature === undefined) {
    // An unsigned form could only write to a public bucket, which Nubes does not open to anonymous writes.
    throw s3Failure('AccessDenied', 'a form upload needs a signed policy (policy, x-amz-signature)');
  }
  if (algorithm !== SIGV4_ALGORITHM || credential === undefined || date === undefined) {
    throw s3Failure(
      'InvalidArgument',
      `a form upload is signed with ${SIGV4_ALGORITHM} (x-amz-credential, x-amz-date)`,
    );
  }
  const scope = /^([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request$/.exec(credential);
  if (scope === null)
    throw s3Failure('InvalidArgument', 'x-amz-credential is not <key>/<date>/<region>/s3/aws4_request');
  const [, accessKeyId = '', day = '', region = ''] = scope;
  const secret = resolveSecret(accessKeyId);
  if (secret === null) {
    throw s3Failure(
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
    );
  }
  const expected = sign(signingKey(secret.secretKey, day, region, 's3'), policyBase64);
  if (!signaturesEqual(expected, signature.toLowerCase())) {
    throw s3Failure(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    );
  }

  let policy: z.infer<typeof policySchema>;
  try {
    const parsed = policySchema.safeParse(JSON.parse(Buffer.from(policyBase64, 'base64').toString('utf8')));
    if (!parsed.success) invalidPolicy(parsed.error.issues[0]?.message ?? 'not a policy');
    policy = parsed.data;
  } catch (error) {
    if (error instanceof SyntaxError) invalidPolicy('the policy is not base64 of JSON');
    throw error;
  }
  const expiresMs = Date.parse(policy.expiration);
  if (Number.isNaN(expiresMs)) invalidPolicy('expiration is not a date');
  if (expiresMs < nowMs) throw s3Failure('AccessDenied', 'Invalid according to Policy: Policy expired.');

  // The form's fields, with `bucket` (which the URL gives, not the form).
  const values = new Map(fields);
  values.set('bucket', bucket);
  const named = new Set<string>();
  let sizeRange: AcceptedPost['sizeRange'] = null;
  const fail = (what: string): never => {
    throw s3Failure('AccessDenied', `Invalid according to Policy: Policy Condition failed: ${what}`);
  };
  for (const condition of policy.conditions) {
    if (!Array.isArray(condition)) {
      const [name = '', value = ''] = Object.entries(condition)[0] ?? [];
      const field = name.toLowerCase();
      named.add(field);
      if (values.get(field) !== value) fail(`["eq", "$${name}", "${value}"]`);
      continue;
    }
    if (condition[0] === 'content-length-range') {
      sizeRange = { min: condition[1], max: condition[2] };
      continue;
    }
    const [operator, reference, value] = condition;
    const field = reference.slice(1).toLowerCase();
    named.add(field);
    const actual = values.get(field) ?? '';
    if (operator === 'eq' ? actual !== value : !actual.startsWith(value)) {
      fail(`["${operator}", "${reference}", "${value}"]`);
    }
  }
  for (const field of fields.keys()) {
    if (EXEMPT_FIELDS.has(field) || field.startsWith('x-ignore-') || named.has(field)) continue;
    fail(`extra input fields: ${field}`);
  }
  return { accessKeyId, principal: secret.principal, admin: secret.admin ?? false, sizeRange };
}
