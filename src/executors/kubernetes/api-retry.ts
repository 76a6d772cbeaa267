/**
 * @module executors/kubernetes/api-retry
 * Calls to the Kubernetes API with the retries the API server asks for: 429 (API Priority and Fairness,
 * throttling) and 5xx are retried with exponential backoff, honouring `Retry-After` (seconds) when the server
 * sends it; other failures become coded errors at once. 404 and 409 are left to the caller, who knows
 * whether they mean "already gone" or "already there".
 */
import { PlatformError } from '../../core/index.js';

/** What a Kubernetes API failure looks like from @kubernetes/client-node (its ApiException). */
interface ApiFailure {
  code: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RetryOptions {
  maxAttempts: number;
  initialBackoffMs: number;
  /** Cap of one wait (also of a server's Retry-After). @default 30000 */
  maxBackoffMs?: number;
  signal?: AbortSignal;
  /** Waits `ms` (injectable so tests need not sleep). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The HTTP status of a Kubernetes API failure, or null for anything else (network errors…). */
export function apiStatus(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const code = (error as Partial<ApiFailure>).code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : null;
}

/** Runs `call`, retrying throttling and server errors; `what` names the call in errors. */
export async function withApiRetry<T>(
  what: string,
  call: () => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const sleep = options.sleep ?? abortableSleep;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  let delayMs = options.initialBackoffMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const status = apiStatus(error);
      const retryable = status === 429 || (status !== null && status >= 500) || isNetworkError(error);
      if (!retryable || attempt >= options.maxAttempts || options.signal?.aborted === true) {
        throw toKubernetesError(what, error, attempt);
      }
      const retryAfterMs = retryAfter(error);
      await sleep(Math.min(retryAfterMs ?? delayMs, maxBackoffMs), options.signal);
      delayMs = Math.min(delayMs * 2, maxBackoffMs);
    }
  }
}

/** A coded error for a failed API call (404/409 too, for callers that do not expect them). */
export function toKubernetesError(what: string, error: unknown, attempts = 1): PlatformError {
  if (error instanceof PlatformError) return error;
  const status = apiStatus(error);
  const reason = statusMessage(error);
  const tried = attempts > 1 ? ` after ${attempts} attempts` : '';
  if (status === 429 || (status !== null && status >= 500) || isNetworkError(error)) {
    return new PlatformError(
      'BACKEND_THROTTLED',
      `Kubernetes API: ${what} failed${tried}: ${status ?? 'network'} ${reason}`,
      { details: { status, attempts }, cause: error },
    );
  }
  return new PlatformError('BACKEND_REJECTED', `Kubernetes API: ${what} refused: ${status ?? ''} ${reason}`, {
    details: { status },
    cause: error,
  });
}

function retryAfter(error: unknown): number | null {
  const header = (error as Partial<ApiFailure>).headers?.['retry-after'];
  if (header === undefined) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/** The `message` of the API's Status object when the body is one. */
function statusMessage(error: unknown): string {
  const body = (error as Partial<ApiFailure>).body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.slice(0, 300);
    }
  }
  if (typeof parsed === 'object' && parsed !== null && 'message' in parsed) {
    return String(parsed.message);
  }
  return error instanceof Error ? error.message : String(error);
}

function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EAI_AGAIN)$/.test(code);
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
