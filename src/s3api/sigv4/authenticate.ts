/**
 * @module s3api/sigv4/authenticate
 * Verifies a request's SigV4 signature (Authorization header or presigned query) before any of its body is
 * read, and says how the body must be verified as it streams (payload hash, chunk signatures, trailer).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { s3Failure } from '../s3-errors.js';
import { awsEncodeBytes } from '../percent-encoding.js';
import type { RequestTarget } from '../request-target.js';
import {
  canonicalHeaderValue,
  canonicalQuery,
  canonicalRequest,
  parseAmzDate,
  sign,
  signaturesEqual,
  signingKey,
  SIGV4_ALGORITHM,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  stringToSign,
  UNSIGNED_PAYLOAD,
} from './signing.js';

/** How the body of an authenticated request is checked while it streams. */
export type PayloadMode =
  | { kind: 'sha256'; sha256: string }
  | { kind: 'unsigned' }
  | { kind: 'chunked'; signedChunks: boolean; trailer: boolean };

/** What a chunk-signature chain starts from. */
export interface SigningContext {
  key: Buffer;
  amzDate: string;
  scope: string;
  seedSignature: string;
}

export interface Authenticated {
  accessKeyId: string;
  principal: string;
  /** The key's holder administers the store (every bucket, whatever its visibility). */
  admin: boolean;
  /** No credentials at all: only reads of public buckets are allowed (see bucket-access). */
  anonymous: boolean;
  payload: PayloadMode;
  signing: SigningContext;
  presigned: boolean;
}

/** The secret of an access key, and whose it is; `admin` @default false. */
export type SecretResolver = (
  accessKeyId: string,
) => { secretKey: string; principal: string; admin?: boolean } | null;

/** A request without credentials. Its body, if any, is taken as sent (nothing signed it). */
export const ANONYMOUS: Authenticated = {
  accessKeyId: '',
  principal: 'anonymous',
  admin: false,
  anonymous: true,
  payload: { kind: 'unsigned' },
  signing: { key: Buffer.alloc(0), amzDate: '', scope: '', seedSignature: '' },
  presigned: false,
};

export interface AuthenticateInput {
  method: string;
  headers: IncomingHttpHeaders;
  /** Every value of every header (Node's headersDistinct). */
  headersDistinct: Record<string, string[] | undefined>;
  target: RequestTarget;
}

/** S3's tolerance for a client clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** A presigned URL lives at most seven days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

interface Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  scope: string;
}

function parseCredential(value: string, fail: (message: string) => never): Credential {
  const parts = value.split('/');
  if (parts.length !== 5 || parts.some((part) => part === '')) fail(`malformed credential "${value}"`);
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (!/^\d{8}$/.test(date)) fail(`malformed credential date "${date}"`);
  if (service !== 's3') fail(`the credential is for service "${service}", not "s3"`);
  if (terminator !== 'aws4_request') fail('the credential must end with "aws4_request"');
  return { accessKeyId, date, region, service, scope: `${date}/${region}/${service}/${terminator}` };
}

function parsePayloadHash(value: string | undefined): PayloadMode {
  if (value === undefined) {
    throw s3Failure('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  if (/^[0-9a-f]{64}$/i.test(value)) return { kind: 'sha256', sha256: value.toLowerCase() };
  switch (value) {
    case UNSIGNED_PAYLOAD:
      return { kind: 'unsigned' };
    case STREAMING_SIGNED:
      return { kind: 'chunked', signedChunks: true, trailer: false };
    case STREAMING_SIGNED_TRAILER:
      return { kind: 'chunked', signedChunks: true, trailer: true };
    case STREAMING_UNSIGNED_TRAILER:
      return { kind: 'chunked', signedChunks: false, trailer: true };
    default:
      throw s3Failure(
        'InvalidArgument',
        `x-amz-content-sha256 must be a SHA-256 or a known mode, not "${value}"`,
      );
  }
}

function canonicalHeaders(
  input: AuthenticateInput,
  signedHeaders: string[],
): Array<readonly [string, string]> {
  return signedHeaders.map(
    (name) => [name, canonicalHeaderValue(input.headersDistinct[name] ?? [])] as const,
  );
}

function checkSignature(
  input: AuthenticateInput,
  parts: { query: string; headers: Array<readonly [string, string]>; payloadHash: string },
  key: Buffer,
  amzDate: string,
  scope: string,
  signature: string,
): void {
  // Clients sign the path as they sent it; SDKs send it SigV4-encoded. Accept either spelling.
  const paths = new Set([input.target.canonicalPath, input.target.rawPath]);
  for (const path of paths) {
    const canonical = canonicalRequest({ method: input.method, path, ...parts });
    if (signaturesEqual(sign(key, stringToSign(amzDate, scope, canonical)), signature)) return;
  }
  throw s3Failure(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  );
}

function resolve(
  resolveSecret: SecretResolver,
  accessKeyId: string,
): { secretKey: string; principal: string; admin?: boolean } {
  const found = resolveSecret(accessKeyId);
  if (found === null) {
    throw s3Failure(
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
    );
  }
  return found;
}

function queryPairs(target: RequestTarget, exclude: string | null): Array<readonly [string, string]> {
  return target.query
    .filter((param) => param.name !== exclude)
    .map((param) => [awsEncodeBytes(param.nameBytes), awsEncodeBytes(param.valueBytes)] as const);
}

function fromHeader(
  input: AuthenticateInput,
  authorization: string,
  resolveSecret: SecretResolver,
  nowMs: number,
) {
  const malformed = (message: string): never => {
    throw s3Failure('AuthorizationHeaderMalformed', `The authorization header is malformed; ${message}`);
  };
  const fields = new Map<string, string>();
  for (const part of authorization.slice(SIGV4_ALGORITHM.length).split(',')) {
    const at = part.indexOf('=');
    if (at > 0) fields.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const credential = parseCredential(fields.get('Credential') ?? malformed('no Credential'), malformed);
  const signedHeaders = (fields.get('SignedHeaders') ?? malformed('no SignedHeaders')).split(';');
  const signature = fields.get('Signature') ?? malformed('no Signature');
  if (!signedHeaders.includes('host')) malformed('the host header must be signed');

  const amzDate = input.headers['x-amz-date'];
  const dateMs =
    typeof amzDate === 'string'
      ? parseAmzDate(amzDate)
      : typeof input.headers.date === 'string'
        ? Date.parse(input.headers.date)
        : null;
  if (dateMs === null || Number.isNaN(dateMs)) {
    throw s3Failure('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  if (Math.abs(nowMs - dateMs) > MAX_CLOCK_SKEW_MS) {
    throw s3Failure(
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    );
  }
  const timestamp =
    typeof amzDate === 'string' ? amzDate : new Date(dateMs).toISOString().replace(/[-:]|\.\d{3}/g, '');
  if (!timestamp.startsWith(credential.date))
    malformed('the credential date does not match the request date');

  const secret = resolve(resolveSecret, credential.accessKeyId);
  const payloadHeader = input.headers['x-amz-content-sha256'];
  const payload = parsePayloadHash(Array.isArray(payloadHeader) ? payloadHeader[0] : payloadHeader);
  const key = signingKey(secret.secretKey, credential.date, credential.region, credential.service);
  checkSignature(
    input,
    {
      query: canonicalQuery(queryPairs(input.target, null)),
      headers: canonicalHeaders(input, signedHeaders),
      payloadHash: (payloadHeader as string).trim(),
    },
    key,
    timestamp,
    credential.scope,
    signature,
  );
  return {
    accessKeyId: credential.accessKeyId,
    principal: secret.principal,
    admin: secret.admin === true,
    anonymous: false,
    payload,
    signing: { key, amzDate: timestamp, scope: credential.scope, seedSignature: signature.toLowerCase() },
    presigned: false,
  };
}

function fromQuery(input: AuthenticateInput, resolveSecret: SecretResolver, nowMs: number): Authenticated {
  const params = input.target.params;
  const fail = (message: string): never => {
    throw s3Failure('AuthorizationQueryParametersError', message);
  };
  if (params.get('X-Amz-Algorithm') !== SIGV4_ALGORITHM)
    fail(`X-Amz-Algorithm only supports "${SIGV4_ALGORITHM}"`);
  const credential = parseCredential(
    params.get('X-Amz-Credential') ?? fail('X-Amz-Credential is missing'),
    fail,
  );
  const amzDate = params.get('X-Amz-Date') ?? fail('X-Amz-Date is missing');
  const dateMs = parseAmzDate(amzDate) ?? fail('X-Amz-Date must be in ISO 8601 basic format');
  const expiresText = params.get('X-Amz-Expires') ?? fail('X-Amz-Expires is missing');
  const expires = /^\d+$/.test(expiresText)
    ? Number(expiresText)
    : fail('X-Amz-Expires must be a number of seconds');
  if (expires < 1 || expires > MAX_PRESIGN_SECONDS)
    fail('X-Amz-Expires must be between 1 and 604800 seconds');
  const signedHeaders = (params.get('X-Amz-SignedHeaders') ?? fail('X-Amz-SignedHeaders is missing')).split(
    ';',
  );
  const signature = params.get('X-Amz-Signature') ?? fail('X-Amz-Signature is missing');
  if (!signedHeaders.includes('host')) fail('the host header must be signed');
  if (!amzDate.startsWith(credential.date)) fail('the credential date does not match X-Amz-Date');
  if (nowMs > dateMs + expires * 1000) throw s3Failure('AccessDenied', 'Request has expired');
  if (dateMs - nowMs > MAX_CLOCK_SKEW_MS) throw s3Failure('AccessDenied', 'Request is not valid yet');
  // Whoever holds the URL must not add metadata its signer did not agree to.
  for (const name of Object.keys(input.headers)) {
    if (name.startsWith('x-amz-meta-') && !signedHeaders.includes(name)) {
      throw s3Failure('AccessDenied', 'There were headers present in the request which were not signed', {
        header: name,
      });
    }
  }

  const secret = resolve(resolveSecret, credential.accessKeyId);
  const payloadHash = params.get('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD;
  const payload = parsePayloadHash(payloadHash);
  if (payload.kind === 'chunked') fail('a presigned request cannot carry an aws-chunked body');
  const key = signingKey(secret.secretKey, credential.date, credential.region, credential.service);
  checkSignature(
    input,
    {
      query: canonicalQuery(queryPairs(input.target, 'X-Amz-Signature')),
      headers: canonicalHeaders(input, signedHeaders),
      payloadHash,
    },
    key,
    amzDate,
    credential.scope,
    signature,
  );
  return {
    accessKeyId: credential.accessKeyId,
    principal: secret.principal,
    admin: secret.admin === true,
    anonymous: false,
    payload,
    signing: { key, amzDate, scope: credential.scope, seedSignature: signature.toLowerCase() },
    presigned: true,
  };
}

/**
 * Authenticates a request by its SigV4 signature; a request with no credentials at all is ANONYMOUS (the
 * bucket's visibility then decides). Signature Version 2, which no current client needs, is refused.
 */
export function authenticate(
  input: AuthenticateInput,
  resolveSecret: SecretResolver,
  nowMs: number,
): Authenticated {
  const authorization = input.headers.authorization;
  if (typeof authorization === 'string' && authorization !== '') {
    if (authorization.startsWith(`${SIGV4_ALGORITHM} `))
      return fromHeader(input, authorization, resolveSecret, nowMs);
    throw s3Failure('InvalidRequest', 'Only AWS Signature Version 4 (AWS4-HMAC-SHA256) is supported');
  }
  if (input.target.params.has('X-Amz-Algorithm')) return fromQuery(input, resolveSecret, nowMs);
  if (input.target.params.has('AWSAccessKeyId')) {
    throw s3Failure('InvalidRequest', 'Only AWS Signature Version 4 presigned URLs are supported');
  }
  return ANONYMOUS;
}
