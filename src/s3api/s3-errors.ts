/**
 * @module s3api/s3-errors
 * S3's error codes with their HTTP statuses, and the mapping from platform errors. Protocol failures are
 * PlatformErrors too (one error class): their S3 code travels in `details.s3Code`.
 */
import { PlatformError, toPlatformError, type ErrorCode } from '../core/index.js';

/** The S3 error codes this endpoint answers with: status, and the platform code used inside. */
export const S3_ERRORS = {
  AccessDenied: { status: 403, platform: 'FORBIDDEN' },
  InvalidAccessKeyId: { status: 403, platform: 'UNAUTHENTICATED' },
  SignatureDoesNotMatch: { status: 403, platform: 'UNAUTHENTICATED' },
  RequestTimeTooSkewed: { status: 403, platform: 'UNAUTHENTICATED' },
  AuthorizationHeaderMalformed: { status: 400, platform: 'UNAUTHENTICATED' },
  AuthorizationQueryParametersError: { status: 400, platform: 'UNAUTHENTICATED' },
  InvalidRequest: { status: 400, platform: 'BAD_REQUEST' },
  InvalidArgument: { status: 400, platform: 'BAD_REQUEST' },
  InvalidPolicyDocument: { status: 400, platform: 'BAD_REQUEST' },
  MalformedPOSTRequest: { status: 400, platform: 'BAD_REQUEST' },
  InvalidURI: { status: 400, platform: 'BAD_REQUEST' },
  InvalidDigest: { status: 400, platform: 'BAD_REQUEST' },
  BadDigest: { status: 400, platform: 'BAD_REQUEST' },
  IncompleteBody: { status: 400, platform: 'BAD_REQUEST' },
  MalformedXML: { status: 400, platform: 'BAD_REQUEST' },
  MetadataTooLarge: { status: 400, platform: 'BAD_REQUEST' },
  XAmzContentSHA256Mismatch: { status: 400, platform: 'BAD_REQUEST' },
  EntityTooLarge: { status: 400, platform: 'PAYLOAD_TOO_LARGE' },
  MaxMessageLengthExceeded: { status: 400, platform: 'PAYLOAD_TOO_LARGE' },
  MissingContentLength: { status: 411, platform: 'BAD_REQUEST' },
  InvalidBucketName: { status: 400, platform: 'INVALID_BUCKET_NAME' },
  NoSuchBucket: { status: 404, platform: 'BUCKET_NOT_FOUND' },
  NoSuchKey: { status: 404, platform: 'OBJECT_NOT_FOUND' },
  NoSuchUpload: { status: 404, platform: 'NOT_FOUND' },
  InvalidPart: { status: 400, platform: 'BAD_REQUEST' },
  InvalidPartOrder: { status: 400, platform: 'BAD_REQUEST' },
  EntityTooSmall: { status: 400, platform: 'BAD_REQUEST' },
  BucketAlreadyOwnedByYou: { status: 409, platform: 'BUCKET_EXISTS' },
  BucketNotEmpty: { status: 409, platform: 'BUCKET_NOT_EMPTY' },
  InvalidRange: { status: 416, platform: 'INVALID_RANGE' },
  PreconditionFailed: { status: 412, platform: 'PRECONDITION_FAILED' },
  NoSuchVersion: { status: 404, platform: 'NOT_FOUND' },
  MethodNotAllowed: { status: 405, platform: 'METHOD_NOT_ALLOWED' },
  NotImplemented: { status: 501, platform: 'BAD_REQUEST' },
  InternalError: { status: 500, platform: 'INTERNAL' },
  ServiceUnavailable: { status: 503, platform: 'UNAVAILABLE' },
  // S3 has no code for a full disk; MinIO's is XMinioStorageFull with the same status.
  XNubesStorageFull: { status: 507, platform: 'STORAGE_FULL' },
  // A user's storage quota; S3 has no code for it.
  XNubesQuotaExceeded: { status: 403, platform: 'QUOTA_EXCEEDED' },
} as const satisfies Record<string, { status: number; platform: ErrorCode }>;

export type S3ErrorCode = keyof typeof S3_ERRORS;

/** A failure of the S3 protocol itself (bad signature, malformed XML, ...). */
export function s3Failure(
  s3Code: S3ErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): PlatformError {
  return new PlatformError(S3_ERRORS[s3Code].platform, message, { details: { ...details, s3Code } });
}

const BY_PLATFORM_CODE: Partial<Record<ErrorCode, S3ErrorCode>> = {
  BUCKET_NOT_FOUND: 'NoSuchBucket',
  OBJECT_NOT_FOUND: 'NoSuchKey',
  BUCKET_EXISTS: 'BucketAlreadyOwnedByYou',
  BUCKET_NOT_EMPTY: 'BucketNotEmpty',
  INVALID_BUCKET_NAME: 'InvalidBucketName',
  INVALID_KEY: 'InvalidArgument',
  INVALID_RANGE: 'InvalidRange',
  PRECONDITION_FAILED: 'PreconditionFailed',
  PAYLOAD_TOO_LARGE: 'EntityTooLarge',
  BAD_REQUEST: 'InvalidArgument',
  VALIDATION_FAILED: 'InvalidArgument',
  UNAUTHENTICATED: 'AccessDenied',
  FORBIDDEN: 'AccessDenied',
  METHOD_NOT_ALLOWED: 'MethodNotAllowed',
  STORAGE_FULL: 'XNubesStorageFull',
  QUOTA_EXCEEDED: 'XNubesQuotaExceeded',
  STORAGE_READ_ONLY: 'ServiceUnavailable',
  STORAGE_UNREACHABLE: 'ServiceUnavailable',
  UNAVAILABLE: 'ServiceUnavailable',
};

export interface S3ErrorReply {
  code: S3ErrorCode;
  status: number;
  message: string;
}

/** The S3 error a failure is answered with. Internal failures keep their message out of the reply. */
export function toS3Error(thrown: unknown): S3ErrorReply {
  // A file system's own failures (a full disk, a read-only one) have codes of their own.
  const error = thrown instanceof PlatformError ? thrown : toPlatformError(thrown);
  if (error.code === 'INTERNAL') {
    return {
      code: 'InternalError',
      status: 500,
      message: 'We encountered an internal error. Please try again.',
    };
  }
  const details = (error.details ?? {}) as { s3Code?: unknown; mismatch?: unknown };
  let code: S3ErrorCode | undefined;
  if (typeof details.s3Code === 'string' && Object.hasOwn(S3_ERRORS, details.s3Code)) {
    code = details.s3Code as S3ErrorCode;
  } else if (error.code === 'BAD_REQUEST' && details.mismatch === 'md5') {
    code = 'BadDigest';
  } else if (error.code === 'BAD_REQUEST' && details.mismatch === 'size') {
    code = 'IncompleteBody';
  } else {
    code = BY_PLATFORM_CODE[error.code];
  }
  if (code === undefined || code === 'InternalError') {
    return {
      code: 'InternalError',
      status: 500,
      message: 'We encountered an internal error. Please try again.',
    };
  }
  return { code, status: S3_ERRORS[code].status, message: error.message };
}
