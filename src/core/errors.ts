/**
 * @module core/errors
 * The one table of error codes, and the one error class. Only the API and the CLI turn a
 * PlatformError into output; everything else throws or returns it as data.
 */

export type ErrorKind = 'user' | 'system';

/** Every error code the platform can answer with: HTTP status, who is at fault, and whether a retry may help. */
export const ERROR_CODES = {
  // generic
  VALIDATION_FAILED: { status: 400, kind: 'user', retryable: false },
  BAD_REQUEST: { status: 400, kind: 'user', retryable: false },
  UNAUTHENTICATED: { status: 401, kind: 'user', retryable: false },
  FORBIDDEN: { status: 403, kind: 'user', retryable: false },
  NOT_FOUND: { status: 404, kind: 'user', retryable: false },
  METHOD_NOT_ALLOWED: { status: 405, kind: 'user', retryable: false },
  CONFLICT: { status: 409, kind: 'user', retryable: false },
  PAYLOAD_TOO_LARGE: { status: 413, kind: 'user', retryable: false },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, kind: 'user', retryable: false },
  TOO_MANY_REQUESTS: { status: 429, kind: 'user', retryable: true },
  QUOTA_EXCEEDED: { status: 403, kind: 'user', retryable: false },
  INTERNAL: { status: 500, kind: 'system', retryable: true },
  UNAVAILABLE: { status: 503, kind: 'system', retryable: true },
  // configuration
  CONFIG_INVALID: { status: 500, kind: 'user', retryable: false },
  // FDL
  FDL_SYNTAX: { status: 400, kind: 'user', retryable: false },
  FDL_INVALID: { status: 400, kind: 'user', retryable: false },
  FDL_SCRIPT_NOT_FOUND: { status: 400, kind: 'user', retryable: false },
  // services and jobs
  SERVICE_NOT_FOUND: { status: 404, kind: 'user', retryable: false },
  SERVICE_EXISTS: { status: 409, kind: 'user', retryable: false },
  JOB_NOT_FOUND: { status: 404, kind: 'user', retryable: false },
  JOB_FAILED: { status: 502, kind: 'user', retryable: false },
  JOB_TIMEOUT: { status: 504, kind: 'user', retryable: true },
  JOB_OUT_OF_MEMORY: { status: 502, kind: 'user', retryable: false },
  JOB_CANCELLED: { status: 409, kind: 'user', retryable: false },
  // storage
  BUCKET_NOT_FOUND: { status: 404, kind: 'user', retryable: false },
  BUCKET_EXISTS: { status: 409, kind: 'user', retryable: false },
  BUCKET_NOT_EMPTY: { status: 409, kind: 'user', retryable: false },
  INVALID_BUCKET_NAME: { status: 400, kind: 'user', retryable: false },
  INVALID_KEY: { status: 400, kind: 'user', retryable: false },
  OBJECT_NOT_FOUND: { status: 404, kind: 'user', retryable: false },
  INVALID_RANGE: { status: 416, kind: 'user', retryable: false },
  PRECONDITION_FAILED: { status: 412, kind: 'user', retryable: false },
  STORAGE_FULL: { status: 507, kind: 'system', retryable: true },
  STORAGE_READ_ONLY: { status: 503, kind: 'system', retryable: true },
  STORAGE_UNREACHABLE: { status: 502, kind: 'system', retryable: true },
  // users and tokens
  USER_NOT_FOUND: { status: 404, kind: 'user', retryable: false },
  USER_EXISTS: { status: 409, kind: 'user', retryable: false },
  TOKEN_NOT_FOUND: { status: 404, kind: 'user', retryable: false },
  // executors
  EXECUTOR_UNAVAILABLE: { status: 503, kind: 'system', retryable: true },
  SANDBOX_UNAVAILABLE: { status: 500, kind: 'system', retryable: false },
  SPAWN_FAILED: { status: 500, kind: 'system', retryable: true },
  IMAGE_UNAVAILABLE: { status: 422, kind: 'user', retryable: false },
  /** sbatch or scancel refused a request (bad partition, account, limits), or could not reach slurmctld. */
  SLURM_REJECTED: { status: 502, kind: 'system', retryable: true },
  /** A Slurm command answered in a form the executor does not know (another version, a broken install). */
  SLURM_REPLY_INVALID: { status: 502, kind: 'system', retryable: false },
  /** A job of a Slurm executor vanished from squeue and sacct without a result (node lost, state purged). */
  SLURM_JOB_LOST: { status: 502, kind: 'system', retryable: true },
  /** A job asks for more than its executor declares it can give (memory, a GPU), with nowhere else to go. */
  EXECUTOR_LIMITS_EXCEEDED: { status: 422, kind: 'user', retryable: false },
  /** A remote engine (Kubernetes API, AWS) refused a request for a reason retrying cannot fix. */
  BACKEND_REJECTED: { status: 502, kind: 'system', retryable: false },
  /** A remote engine kept answering 429 / throttling, or 5xx, after the retries. */
  BACKEND_THROTTLED: { status: 503, kind: 'system', retryable: true },
  // scheduler
  LEASE_LOST: { status: 409, kind: 'user', retryable: false },
  IDEMPOTENCY_KEY_REUSED: { status: 422, kind: 'user', retryable: false },
  WRITE_CONFLICT: { status: 409, kind: 'system', retryable: true },
} as const satisfies Record<string, { status: number; kind: ErrorKind; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A failure as plain data: what crosses process boundaries and what the API answers. */
export interface ErrorData {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  details?: unknown;
}

/** The platform's one error class: a code from ERROR_CODES, a message for humans, optional details. */
export class PlatformError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: unknown; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PlatformError';
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get kind(): ErrorKind {
    return ERROR_CODES[this.code].kind;
  }

  toData(): ErrorData {
    const data: ErrorData = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.details !== undefined) data.details = this.details;
    return data;
  }

  static fromData(data: ErrorData): PlatformError {
    return new PlatformError(data.code, data.message, { details: data.details, retryable: data.retryable });
  }
}

/** Turns anything thrown into a PlatformError; unknown errors become INTERNAL with the original as cause. */
export function toPlatformError(error: unknown): PlatformError {
  if (error instanceof PlatformError) return error;
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    return new PlatformError('STORAGE_FULL', 'no space left on the data directory', { cause: error });
  }
  if (errno === 'EROFS') {
    return new PlatformError('STORAGE_READ_ONLY', 'the data directory is read-only', { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new PlatformError('INTERNAL', message, { cause: error });
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}
