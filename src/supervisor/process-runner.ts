/**
 * @module supervisor/process-runner
 * Runs one job's process tree to its end: a detached child (its own session and process group), its output
 * appended to the job's log as it comes (capped), a wall-clock timeout and an abort signal that stop the
 * WHOLE tree (SIGTERM, then SIGKILL after a grace period), and, when the script exits, the removal of
 * anything it left running in the background, so a job never outlives itself.
 * How the tree is signalled is pluggable: a process group by default; the local executor adds its cgroup,
 * which also catches processes that called setsid().
 */
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { PlatformError } from '../core/index.js';
import { CappedLog, DEFAULT_MAX_LOG_BYTES } from './capped-log.js';

/** Time between SIGTERM and SIGKILL when a job is stopped. */
export const DEFAULT_KILL_GRACE_MS = 2000;

/**
 * After the script has exited and its leftovers were killed, how long to wait for the log pipe to close.
 * A process that escaped every kill (possible only without a cgroup) may hold the pipe open forever.
 */
const LOG_DRAIN_TIMEOUT_MS = 2000;

/** How the processes of one job are signalled. */
export interface ProcessTree {
  /** Asks the job's processes to stop (SIGTERM), so that they may clean up. */
  terminate(leaderPid: number): Promise<void>;
  /** Kills every process of the job that is still there (SIGKILL). */
  kill(leaderPid: number): Promise<void>;
}

/** Signals the process group the leader heads (the child is spawned detached, so pgid = pid). */
export const processGroupTree: ProcessTree = {
  terminate: (leaderPid) => Promise.resolve(signalGroup(leaderPid, 'SIGTERM')),
  kill: (leaderPid) => Promise.resolve(signalGroup(leaderPid, 'SIGKILL')),
};

/** Sends a signal to a process group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  signalProcess(-pgid, signal);
}

/** Sends a signal to a process (negative: a group), ignoring processes that are gone. */
export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ESRCH' && code !== 'EPERM') throw error;
  }
}

export interface ProcessRunOptions {
  /** The full argv; it must send stderr to stdout (the launch wrapper does), as only stdout is read. */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  logPath: string;
  /** 0 = none. */
  timeoutMs: number;
  signal: AbortSignal;
  /** @default 10 MiB */
  maxLogBytes?: number;
  /** @default 2000 */
  killGraceMs?: number;
  /** @default processGroupTree */
  tree?: ProcessTree;
  /** Also receives the log (the standalone supervisor echoes to stderr). */
  mirror?: NodeJS.WritableStream | null;
}

export interface ProcessOutcome {
  reason: 'exited' | 'timeout' | 'cancelled';
  exitCode: number | null;
  termSignal: string | null;
  startedMs: number;
  finishedMs: number;
  logTruncated: boolean;
}

/** Runs a process tree to its end. Rejects only when nothing could be started (SPAWN_FAILED). */
export async function runProcess(options: ProcessRunOptions): Promise<ProcessOutcome> {
  const startedMs = Date.now();
  if (options.signal.aborted) {
    return {
      reason: 'cancelled',
      exitCode: null,
      termSignal: null,
      startedMs,
      finishedMs: startedMs,
      logTruncated: false,
    };
  }
  const [file, ...args] = options.argv;
  if (file === undefined) throw new PlatformError('SPAWN_FAILED', 'empty command');
  const tree = options.tree ?? processGroupTree;
  const graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  // Opened before the spawn: a log that cannot be written is a setup failure, not a silent loss of output.
  const logFile = await open(options.logPath, 'a');
  const capped = new CappedLog(options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES, options.mirror ?? null);

  let child;
  try {
    child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch (error) {
    await logFile.close();
    throw new PlatformError('SPAWN_FAILED', `cannot start ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const stdout = child.stdout;
  const logDone = pipeline(stdout, capped, logFile.createWriteStream()).catch(() => {
    // A log write failure (disk full) must not fail or hang the job; the output is lost, the job goes on.
  });

  return new Promise<ProcessOutcome>((resolve, reject) => {
    let reason: ProcessOutcome['reason'] = 'exited';
    let exited = false;
    let killTimer: NodeJS.Timeout | null = null;
    const pid = child.pid;

    const stop = (why: 'timeout' | 'cancelled'): void => {
      if (exited || reason !== 'exited' || pid === undefined) return;
      reason = why;
      void tree.terminate(pid).catch(() => undefined);
      killTimer = setTimeout(() => void tree.kill(pid).catch(() => undefined), graceMs);
    };
    const timeout = options.timeoutMs > 0 ? setTimeout(() => stop('timeout'), options.timeoutMs) : null;
    const onAbort = (): void => stop('cancelled');
    options.signal.addEventListener('abort', onAbort, { once: true });
    const detach = (): void => {
      if (timeout !== null) clearTimeout(timeout);
      if (killTimer !== null) clearTimeout(killTimer);
      options.signal.removeEventListener('abort', onAbort);
    };

    child.once('error', (error) => {
      if (child.pid !== undefined) return; // an error after a successful spawn is followed by 'exit'
      detach();
      stdout.destroy();
      reject(new PlatformError('SPAWN_FAILED', `cannot start ${file}: ${error.message}`, { cause: error }));
    });

    child.once('exit', (code, termSignal) => {
      exited = true;
      detach();
      const finish = async (): Promise<void> => {
        if (pid !== undefined) await tree.kill(pid).catch(() => undefined);
        let drainTimer: NodeJS.Timeout | undefined;
        const drained = new Promise<void>((done) => {
          drainTimer = setTimeout(() => {
            stdout.destroy();
            done();
          }, LOG_DRAIN_TIMEOUT_MS);
        });
        await Promise.race([logDone, drained]);
        clearTimeout(drainTimer);
        await logDone;
        resolve({
          reason,
          exitCode: code,
          termSignal,
          startedMs,
          finishedMs: Date.now(),
          logTruncated: capped.wasTruncated,
        });
      };
      void finish();
    });
  });
}
