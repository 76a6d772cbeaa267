/**
 * @module supervisor/plain-runner
 * A ScriptRunner with no sandbox and no memory limit of its own, for the standalone supervisor: inside a
 * container, a Slurm job or Lambda, the host already confines and limits the process. Timeouts,
 * cancellation, the capped log and the process-group kill still apply.
 */
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
}

/** Creates a runner that starts scripts as plain child processes. */
export function createPlainRunner(options: PlainRunnerOptions = {}): ScriptRunner {
  return {
    bindsFiles: false,
    async run(run: ScriptRun): Promise<ScriptOutcome> {
      const outcome = await runProcess({
        argv: buildLaunchArgv({ cgroupProcsFiles: [], addressSpaceBytes: null, command: run.command }),
        env: run.env,
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
