/**
 * @module cli/testing/memory-io
 * A CliIo for tests: captured stdout and stderr, a given environment and folders, stdin from a string,
 * and shutdown signals raised by hand.
 */
import { Readable } from 'node:stream';
import type { CliIo, OutputStream } from '../cli-io.js';

/** A CliIo whose output is kept in memory. */
export interface MemoryIo extends CliIo {
  /** Everything written to stdout, as text. */
  out(): string;
  /** Everything written to stderr, as text. */
  err(): string;
  /** Everything written to stdout, as bytes. */
  outBytes(): Buffer;
  /** Raises SIGINT/SIGTERM for the handlers registered with onShutdownSignal. */
  signal(name: string): void;
  /** Exit codes requested through exit(). */
  exits: number[];
}

class Capture implements OutputStream {
  readonly chunks: Buffer[] = [];
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return true;
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** A MemoryIo; nothing of the real process leaks in (HOME, env) unless given. */
export function memoryIo(
  options: Partial<Pick<CliIo, 'env' | 'cwd' | 'homeDir' | 'stdoutIsTty' | 'stderrIsTty'>> & {
    stdin?: string;
  } = {},
): MemoryIo {
  const stdout = new Capture();
  const stderr = new Capture();
  const handlers = new Set<(signal: string) => void>();
  const exits: number[] = [];
  return {
    stdout,
    stderr,
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    env: options.env ?? {},
    cwd: options.cwd ?? '/nonexistent-cwd',
    homeDir: options.homeDir ?? '/nonexistent-home',
    stdoutIsTty: options.stdoutIsTty ?? false,
    stderrIsTty: options.stderrIsTty ?? false,
    onShutdownSignal(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    exit(code) {
      exits.push(code);
    },
    out: () => stdout.bytes().toString('utf8'),
    err: () => stderr.bytes().toString('utf8'),
    outBytes: () => stdout.bytes(),
    signal(name) {
      for (const handler of [...handlers]) handler(name);
    },
    exits,
  };
}
