/**
 * @module cli/cli-io
 * What a CLI invocation may touch of its process: output streams, the environment, the working folder,
 * the home folder and shutdown signals. Commands receive it instead of reaching for `process`, so that
 * tests run them in-process with captured output.
 */
import { homedir } from 'node:os';

/** Something text or bytes can be written to (process.stdout, a test buffer). */
export interface OutputStream {
  write(chunk: string | Uint8Array): boolean;
}

/** The process as a command sees it. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  homeDir: string;
  /** Whether stdout is a terminal (binary answers are not dumped on a terminal). */
  stdoutIsTty: boolean;
  /** Whether stderr is a terminal (progress bars are drawn only there). */
  stderrIsTty: boolean;
  /** Calls `handler` on SIGINT or SIGTERM; returns a function that removes the handler. */
  onShutdownSignal(handler: (signal: string) => void): () => void;
  /** Ends the process at once (a second Ctrl-C while the server shuts down). */
  exit(code: number): void;
}

/** The real process as a CliIo. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    homeDir: homedir(),
    stdoutIsTty: process.stdout.isTTY === true,
    stderrIsTty: process.stderr.isTTY === true,
    onShutdownSignal(handler) {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
    exit(code) {
      process.exit(code);
    },
  };
}

/** Writes one line (a newline is added). */
export function println(stream: OutputStream, line = ''): void {
  stream.write(line + '\n');
}
