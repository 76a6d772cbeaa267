/**
 * @module s3api/cors
 * CORS for browser clients (the dashboard uploads straight to the S3 endpoint): the preflight answer and
 * the headers every reply to an allowed origin carries. Signatures still authenticate every request.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { s3Failure } from './s3-errors.js';

const ALLOWED_METHODS = 'GET, PUT, POST, DELETE, HEAD';
// What a browser page may read from a reply: S3's own headers and the object's description.
const EXPOSED_HEADERS = [
  'ETag',
  'Content-Length',
  'Content-Range',
  'Content-Type',
  'Content-Disposition',
  'Content-Encoding',
  'Cache-Control',
  'Last-Modified',
  'x-amz-request-id',
  'x-amz-version-id',
  'x-amz-bucket-region',
].join(', ');
const PREFLIGHT_MAX_AGE_SECONDS = 3000;

function allowed(origin: string, origins: readonly string[]): boolean {
  return origins.includes('*') || origins.includes(origin);
}

/** Headers for a reply to a request from `origin` (none when the origin is not allowed). */
export function corsHeaders(origin: string, origins: readonly string[]): Record<string, string> {
  if (!allowed(origin, origins)) return {};
  return {
    'Access-Control-Allow-Origin': origins.includes('*') ? '*' : origin,
    'Access-Control-Expose-Headers': EXPOSED_HEADERS,
    Vary: 'Origin',
  };
}

/** The answer to a preflight (OPTIONS) request; AccessDenied for an origin that is not allowed. */
export function preflightHeaders(
  headers: IncomingHttpHeaders,
  origins: readonly string[],
): Record<string, string> {
  const origin = headers.origin;
  const method = headers['access-control-request-method'];
  if (typeof origin !== 'string' || typeof method !== 'string') {
    throw s3Failure('InvalidRequest', 'Insufficient information. Origin request header needed.');
  }
  if (!allowed(origin, origins) || !ALLOWED_METHODS.split(', ').includes(method.toUpperCase())) {
    throw s3Failure('AccessDenied', 'CORSResponse: This CORS request is not allowed.');
  }
  const requested = headers['access-control-request-headers'];
  return {
    ...corsHeaders(origin, origins),
    'Access-Control-Allow-Methods': ALLOWED_METHODS,
    ...(typeof requested === 'string' && requested !== ''
      ? { 'Access-Control-Allow-Headers': requested }
      : {}),
    'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
  };
}
