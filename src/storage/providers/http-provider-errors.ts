/**
 * @module storage/providers/http-provider-errors
 * Turns what `fetch` reports when talking to a WebDAV or Onedata server into platform errors: a connection
 * that fails (refused, reset, DNS, timeout) is STORAGE_UNREACHABLE and retryable; the server's answers map
 * by HTTP status. Messages name the provider and the path, never the credentials.
 */
import { PlatformError } from '../../core/index.js';

const UNREACHABLE_CAUSES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** The error for a request that got no answer. */
export function requestFailure(providerId: string, what: string, error: unknown): PlatformError {
  if (error instanceof PlatformError) return error;
  if ((error as Error | undefined)?.name === 'AbortError') {
    return new PlatformError('JOB_CANCELLED', `${what} on ${providerId} was cancelled`, { cause: error });
  }
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  const code = cause?.code ?? (error as { code?: string } | undefined)?.code ?? '';
  const message = `storage provider ${providerId} is unreachable (${what}): ${code || (error as Error).message}`;
  if (UNREACHABLE_CAUSES.has(code) || error instanceof TypeError) {
    return new PlatformError('STORAGE_UNREACHABLE', message, {
      cause: error,
      details: { provider: providerId, errno: code || null },
    });
  }
  return new PlatformError('STORAGE_UNREACHABLE', message, {
    cause: error,
    details: { provider: providerId },
  });
}

/** The error for an answer with status `status` (not 2xx). */
export function statusFailure(providerId: string, what: string, status: number): PlatformError {
  const message = `${what} on ${providerId} failed with HTTP ${status}`;
  const details = { provider: providerId, status };
  if (status === 401) return new PlatformError('UNAUTHENTICATED', message, { details });
  if (status === 403) return new PlatformError('FORBIDDEN', message, { details });
  if (status === 404) return new PlatformError('OBJECT_NOT_FOUND', message, { details });
  if (status === 507) return new PlatformError('STORAGE_FULL', message, { details });
  if (status === 429 || status >= 500) return new PlatformError('UNAVAILABLE', message, { details });
  return new PlatformError('BAD_REQUEST', message, { details });
}

/** Percent-encodes each segment of a slash-separated path. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}
