/**
 * @module storage/s3/s3-error-mapping
 * Turns what the AWS SDK throws (service errors by S3 code, network failures by errno) into platform codes.
 */
import { PlatformError, type ErrorCode } from '../../core/index.js';

const BY_S3_CODE: Record<string, ErrorCode> = {
  NoSuchKey: 'OBJECT_NOT_FOUND',
  NoSuchBucket: 'BUCKET_NOT_FOUND',
  BucketAlreadyOwnedByYou: 'BUCKET_EXISTS',
  BucketAlreadyExists: 'BUCKET_EXISTS',
  BucketNotEmpty: 'BUCKET_NOT_EMPTY',
  InvalidBucketName: 'INVALID_BUCKET_NAME',
  KeyTooLongError: 'INVALID_KEY',
  InvalidRange: 'INVALID_RANGE',
  EntityTooLarge: 'PAYLOAD_TOO_LARGE',
  BadDigest: 'BAD_REQUEST',
  InvalidDigest: 'BAD_REQUEST',
  IncompleteBody: 'BAD_REQUEST',
  InvalidArgument: 'BAD_REQUEST',
  InvalidRequest: 'BAD_REQUEST',
  MalformedXML: 'BAD_REQUEST',
  AccessDenied: 'FORBIDDEN',
  AllAccessDisabled: 'FORBIDDEN',
  Forbidden: 'FORBIDDEN',
  InvalidAccessKeyId: 'UNAUTHENTICATED',
  SignatureDoesNotMatch: 'UNAUTHENTICATED',
  RequestTimeTooSkewed: 'UNAUTHENTICATED',
  ExpiredToken: 'UNAUTHENTICATED',
  InvalidToken: 'UNAUTHENTICATED',
  SlowDown: 'UNAVAILABLE',
  ServiceUnavailable: 'UNAVAILABLE',
  InternalError: 'UNAVAILABLE',
  XMinioStorageFull: 'STORAGE_FULL',
  InsufficientStorage: 'STORAGE_FULL',
};

// Errno codes (and SDK error names) meaning the service could not be reached or stopped answering.
const NETWORK_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
  'RequestTimeout',
  'NetworkingError',
]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * The platform error for an SDK failure. `notFound` is the code for a bare 404, which HEAD requests
 * answer without an S3 code.
 */
export function fromS3Error(error: unknown, notFound: ErrorCode = 'OBJECT_NOT_FOUND'): PlatformError {
  if (error instanceof PlatformError) return error;
  const shape = (error ?? {}) as SdkErrorShape;
  const s3Code = shape.Code ?? shape.name ?? '';
  const status = shape.$metadata?.httpStatusCode;
  const errno = shape.code ?? '';
  const message = shape.message || s3Code || 'the S3 service failed';
  const details = { s3Code, status };
  if (NETWORK_FAILURES.has(errno) || NETWORK_FAILURES.has(s3Code)) {
    return new PlatformError('STORAGE_UNREACHABLE', `the S3 service is unreachable: ${message}`, {
      cause: error,
      details: { errno: errno || s3Code },
    });
  }
  const mapped = BY_S3_CODE[s3Code];
  if (mapped !== undefined) return new PlatformError(mapped, message, { cause: error, details });
  if (status === 404 || s3Code === 'NotFound')
    return new PlatformError(notFound, message, { cause: error, details });
  if (status === 403) return new PlatformError('FORBIDDEN', message, { cause: error, details });
  if (status === 507) return new PlatformError('STORAGE_FULL', message, { cause: error, details });
  if (status !== undefined && status >= 500)
    return new PlatformError('UNAVAILABLE', message, { cause: error, details });
  return new PlatformError('INTERNAL', message, { cause: error, details });
}
