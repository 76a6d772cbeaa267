/**
 * @module cli/error-output
 * Turns anything a command throws into what the user sees: one line with the message, one line with a
 * hint, the stack only with --debug; and into the exit code (1 for a user error, 2 for a system error).
 */
import { PlatformError, toPlatformError, type ErrorCode } from '../core/index.js';

/** Exit codes of the `nubes` command. */
export const EXIT_OK = 0;
/** Bad flags or arguments, or a PlatformError of kind `user`. */
export const EXIT_USER_ERROR = 1;
/** The server, the network or the machine failed (PlatformError of kind `system`, or a bug). */
export const EXIT_SYSTEM_ERROR = 2;

/** What an error becomes on the terminal. */
export interface ErrorReport {
  exitCode: typeof EXIT_USER_ERROR | typeof EXIT_SYSTEM_ERROR;
  /** The lines to write to stderr, without trailing newlines. */
  lines: string[];
}

const DEFAULT_HINTS: Partial<Record<ErrorCode, string>> = {
  UNAUTHENTICATED: 'check the user and password of the cluster (`nubes cluster list`)',
  FORBIDDEN: 'the cluster user may not do this; ask its administrator',
  SERVICE_NOT_FOUND: 'list the deployed services with `nubes service list`',
  FDL_SYNTAX: 'run `nubes fdl validate FILE` to see every problem with its line and column',
  FDL_INVALID: 'run `nubes fdl validate FILE` to see every problem with its line and column',
  FDL_SCRIPT_NOT_FOUND: 'a `script:` path is read relative to the FDL file',
  UNAVAILABLE: 'try again in a moment; if it persists, check the server logs',
  INTERNAL: 'run again with --debug for details; if it persists, check the server logs',
};

/** Returns a copy of `error` whose details carry `hint`, shown under the message. */
export function withHint(error: PlatformError, hint: string): PlatformError {
  const details = isRecord(error.details) ? { ...error.details, hint } : { hint };
  return new PlatformError(error.code, error.message, {
    details,
    cause: error.cause,
    retryable: error.retryable,
  });
}

/** The hint of an error: its own (details.hint), else the default for its code. */
export function hintOf(error: PlatformError): string | undefined {
  const own = isRecord(error.details) ? error.details['hint'] : undefined;
  if (typeof own === 'string') return own;
  return DEFAULT_HINTS[error.code];
}

/** Renders an error for stderr. Unknown errors (bugs) are system errors and always hint at --debug. */
export function reportError(thrown: unknown, options: { debug: boolean }): ErrorReport {
  const error = toPlatformError(thrown);
  const lines = [`error: ${firstLine(error.message)}`];
  const hint =
    thrown instanceof PlatformError
      ? hintOf(error)
      : 'this looks like a bug in nubes; run again with --debug and report the stack trace';
  if (hint !== undefined) lines.push(`hint: ${hint}`);
  if (options.debug) {
    lines.push(`code: ${error.code}`);
    const original = thrown instanceof Error ? thrown : error;
    if (original.stack) lines.push(original.stack);
    let cause: unknown = original.cause;
    while (cause instanceof Error) {
      lines.push(`caused by: ${cause.stack ?? cause.message}`);
      cause = cause.cause;
    }
  }
  return { exitCode: error.kind === 'user' ? EXIT_USER_ERROR : EXIT_SYSTEM_ERROR, lines };
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? '';
  return line.trim() === '' ? 'unknown error' : line;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
