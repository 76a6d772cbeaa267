/**
 * @module supervisor/script-runner
 * The seam between the supervisor (which prepares and finishes a job) and whatever actually starts the
 * user's script: the local executor (cgroups, bubblewrap), or the plain runner of the standalone entry point.
 */

/** A file made visible to the script without copying it (a read-only bind mount in a sandbox). */
export interface ReadOnlyBind {
  /** Absolute path on this machine (e.g. the embedded store's object file). */
  source: string;
  /** Absolute path where the script sees it (inside TMP_INPUT_DIR). */
  target: string;
}

/** Everything a runner needs to start one script; built by the supervisor. */
export interface ScriptRun {
  jobId: string;
  /** argv of the script: `['/bin/sh', '<workDir>/script.sh']`, or the script itself when it has a shebang. */
  command: string[];
  /** The complete environment of the script; nothing else may leak into it. */
  env: Record<string, string>;
  /** The job's work folder: the script's cwd and the only place it may write (when sandboxed). */
  workDir: string;
  /** Files to expose read-only; only given to runners whose `bindsFiles` is true. */
  readOnlyBinds: ReadOnlyBind[];
  /** Combined stdout/stderr are appended here as they come. */
  logPath: string;
  /** Wall-clock limit; 0 = none. */
  timeoutMs: number;
  /** Memory limit of the whole job (all its processes); 0 = none. */
  memoryBytes: number;
  signal: AbortSignal;
}

/** Why the script stopped. */
export type ScriptEndReason = 'exited' | 'timeout' | 'cancelled' | 'out-of-memory';

export interface ScriptOutcome {
  reason: ScriptEndReason;
  /** Exit status of the script, when it exited by itself. */
  exitCode: number | null;
  /** The signal that ended it (`SIGKILL`, …), when one did. */
  termSignal: string | null;
  /** When the process was spawned (epoch ms). */
  startedMs: number;
  finishedMs: number;
}

/**
 * Starts a script and resolves when it and every process it started are gone. Rejects only when the script
 * could not be started at all (a PlatformError: SPAWN_FAILED, SANDBOX_UNAVAILABLE, …).
 */
export interface ScriptRunner {
  /** Whether `readOnlyBinds` are honoured; if not, the supervisor copies the input instead. */
  readonly bindsFiles: boolean;
  run(run: ScriptRun): Promise<ScriptOutcome>;
}
