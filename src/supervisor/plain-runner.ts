/**
 * @module supervisor/plain-runner
 * A ScriptRunner with no memory limit of its own, for the standalone supervisor: inside a container, a
 * Slurm job or Lambda, the host already limits the process (and on a Slurm node it may run the script in
 * Landlock or bubblewrap, to hide other jobs' files). Timeouts, cancellation, the capped log and the
 * process-group kill still apply.
 */
import { buildBwrapArgv } from '../executors/local/sandbox.js';
import { buildLandlockArgv } from './landlock.js';
import { buildLaunchArgv } from './launch-argv.js';
import { runProcess } from './process-runner.js';
import type { ScriptOutcome, ScriptRun, ScriptRunner } from './script-runner.js';

export interface PlainRunnerOptions {
  /** @default 2000 */
  killGraceMs?: number;
  /** @default 10 MiB */
  maxLogBytes?: number;
  /** Also receives the script's output as it comes (e.g. process.stderr, so that container logs show it). */
  mirror?: NodeJS.WritableStream | null;
  /**
   * Runs the script in a sandbox (a Slurm node, where other jobs' files and the platform's folders must be
   * hidden from it): Landlock (supervisor/landlock.ts; the script's TMPDIR is then its work folder), or
   * bubblewrap with the host's /dev. None by default (a container or Lambda confines the process already).
   */
  sandbox?: PlainRunnerSandbox | null;
}

export type PlainRunnerSandbox =
  | { kind: 'landlock'; landlockPath: string; hiddenDirs: string[]; tmpDirs: string[] }
  | { kind: 'bwrap'; bwrapPath: string; hiddenDirs: string[] };

/** Creates a runner that starts scripts as plain child processes. */
export function createPlainRunner(options: PlainRunnerOptions = {}): ScriptRunner {
  return {
    bindsFiles: false,
    async run(run: ScriptRun): Promise<ScriptOutcome> {
      const launch = buildLaunchArgv({ cgroupProcsFiles: [], addressSpaceBytes: null, command: run.command });
      const sandbox = options.sandbox ?? null;
      const outcome = await runProcess({
        argv: sandboxedArgv(sandbox, run.workDir, launch),
        env: sandbox?.kind === 'landlock' ? { TMPDIR: run.workDir, ...run.env } : run.env,
        cwd: run.workDir,
        logPath: run.logPath,
        timeoutMs: run.timeoutMs,
        signal: run.signal,
        maxLogBytes: options.maxLogBytes,
        killGraceMs: options.killGraceMs,
        mirror: options.mirror ?? null,
      });
      return {
        reason: outcome.reason,
        exitCode: outcome.exitCode,
        termSignal: outcome.termSignal,
        startedMs: outcome.startedMs,
        finishedMs: outcome.finishedMs,
      };
    },
  };
}

function sandboxedArgv(sandbox: PlainRunnerSandbox | null, workDir: string, command: string[]): string[] {
  if (sandbox === null) return command;
  if (sandbox.kind === 'landlock') return buildLandlockArgv({ ...sandbox, workDir, readable: [], command });
  return buildBwrapArgv({ ...sandbox, workDir, readOnlyBinds: [], command, dev: 'host' });
}
