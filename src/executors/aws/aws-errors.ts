/**
 * @module executors/aws/aws-errors
 * AWS failures as the platform's coded errors. The SDK has already retried throttling and server errors
 * (with backoff, honouring Retry-After) by the time one reaches here, so: throttling and 5xx become
 * BACKEND_THROTTLED (retryable: the platform's queue tries the job again later), anything else the service
 * refused becomes BACKEND_REJECTED, with the AWS error type and request id in the details.
 */
import { z } from 'zod';
import { PlatformError } from '../../core/index.js';

/** Error types AWS services use for "slow down" (Lambda, Batch, CloudWatch Logs, S3). */
const THROTTLING_TYPES = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'EC2ThrottledException',
]);

/** What the SDK's service exceptions carry (ServiceException from @smithy/smithy-client). */
interface SdkFailure {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
}

/** The AWS error type of `error` (`ResourceNotFoundException`…), or null when it is not an AWS reply. */
export function awsErrorType(error: unknown): string | null {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return null;
  const name = (error as SdkFailure).name;
  return typeof name === 'string' ? name : null;
}

/** The HTTP status of an AWS error reply, or null. */
export function awsStatus(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const status = (error as SdkFailure).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : null;
}

/** Whether `error` is the AWS error of type `type` (e.g. `ResourceNotFoundException`). */
export function isAwsError(error: unknown, type: string): boolean {
  const cause = error instanceof PlatformError ? error.cause : error;
  return awsErrorType(cause) === type;
}

/** A coded error for a failed call `what` to `service` (e.g. `Lambda`, `create function f`). */
export function toAwsError(service: string, what: string, error: unknown): PlatformError {
  if (error instanceof PlatformError) return error;
  const failure = (typeof error === 'object' && error !== null ? error : {}) as SdkFailure;
  const type = awsErrorType(error);
  const status = awsStatus(error);
  const attempts = failure.$metadata?.attempts ?? 1;
  const details = {
    service,
    awsError: type,
    status,
    requestId: failure.$metadata?.requestId ?? null,
    attempts,
  };
  const message = failure.message ?? String(error);
  const tried = attempts > 1 ? ` after ${attempts} attempts` : '';
  if (
    (type !== null && THROTTLING_TYPES.has(type)) ||
    status === 429 ||
    (status !== null && status >= 500) ||
    isNetworkError(error)
  ) {
    return new PlatformError(
      'BACKEND_THROTTLED',
      `${service}: ${what} failed${tried}: ${type ?? status ?? 'network'}: ${message}`,
      { details, cause: error },
    );
  }
  return new PlatformError('BACKEND_REJECTED', `${service}: ${what} refused: ${type ?? status}: ${message}`, {
    details,
    cause: error,
  });
}

/**
 * Checks an AWS reply against the schema of the fields Nubes relies on; a reply that does not match (a
 * changed API, a proxy's error page) fails with BACKEND_REJECTED instead of turning into wrong behaviour.
 */
export function checkReply<Schema extends z.ZodTypeAny>(
  service: string,
  what: string,
  schema: Schema,
  reply: unknown,
): z.output<Schema> {
  const parsed = schema.safeParse(reply);
  if (parsed.success) return parsed.data as z.output<Schema>;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new PlatformError(
    'BACKEND_REJECTED',
    `${service}: unexpected reply to ${what}: ${issues.slice(0, 5).join('; ')}`,
    { details: { service, issues } },
  );
}

function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const name = (error as { name?: unknown } | null)?.name;
  return (
    (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EAI_AGAIN)$/.test(code)) ||
    name === 'TimeoutError'
  );
}
