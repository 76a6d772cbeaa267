/**
 * @module s3api/sigv4/presign
 * Presigned URLs (SigV4 query authentication), path style: what the REST API hands out so that a browser
 * or `curl` can read or write one object without credentials.
 */
import { PlatformError } from '../../core/index.js';
import { awsEncode } from '../percent-encoding.js';
import { MAX_PRESIGN_SECONDS } from './authenticate.js';
import {
  canonicalQuery,
  canonicalRequest,
  formatAmzDate,
  sign,
  signingKey,
  SIGV4_ALGORITHM,
  stringToSign,
  UNSIGNED_PAYLOAD,
} from './signing.js';

export interface PresignOptions {
  method: 'GET' | 'PUT' | 'HEAD' | 'DELETE';
  /** The S3 endpoint's base URL, e.g. http://127.0.0.1:9000 */
  endpoint: string;
  bucket: string;
  key: string;
  accessKeyId: string;
  secretKey: string;
  region: string;
  /** 1 to 604800 (seven days). */
  expiresSeconds: number;
  /** When given, signed: the request must send exactly this Content-Type. */
  contentType?: string;
  /** Further signed query parameters, e.g. `response-content-type` for a GET. */
  query?: Record<string, string>;
  /** Signing instant, epoch ms. @default Date.now() */
  nowMs?: number;
}

/** A presigned URL for one request on one object. */
export function presignUrl(options: PresignOptions): string {
  const { expiresSeconds } = options;
  if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > MAX_PRESIGN_SECONDS) {
    throw new PlatformError(
      'VALIDATION_FAILED',
      `expiresSeconds must be an integer from 1 to ${MAX_PRESIGN_SECONDS}`,
    );
  }
  const endpoint = new URL(options.endpoint);
  const basePath = endpoint.pathname.replace(/\/+$/, '');
  const path = `${basePath}/${awsEncode(options.bucket)}/${awsEncode(options.key, true)}`;
  const amzDate = formatAmzDate(options.nowMs ?? Date.now());
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${options.region}/s3/aws4_request`;
  const headers: Array<readonly [string, string]> = [];
  if (options.contentType !== undefined) headers.push(['content-type', options.contentType.trim()]);
  headers.push(['host', endpoint.host]);
  const query = canonicalQuery(
    [
      ['X-Amz-Algorithm', SIGV4_ALGORITHM],
      ['X-Amz-Credential', `${options.accessKeyId}/${scope}`],
      ['X-Amz-Date', amzDate],
      ['X-Amz-Expires', String(expiresSeconds)],
      ['X-Amz-SignedHeaders', headers.map(([name]) => name).join(';')],
      ...Object.entries(options.query ?? {}),
    ].map(([name, value]) => [awsEncode(name ?? ''), awsEncode(value ?? '')] as const),
  );
  const canonical = canonicalRequest({
    method: options.method,
    path,
    query,
    headers,
    payloadHash: UNSIGNED_PAYLOAD,
  });
  const signature = sign(
    signingKey(options.secretKey, date, options.region, 's3'),
    stringToSign(amzDate, scope, canonical),
  );
  return `${endpoint.protocol}//${endpoint.host}${path}?${query}&X-Amz-Signature=${signature}`;
}
