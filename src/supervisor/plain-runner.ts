/**
 * @module supervisor/plain-runner
 * A ScriptRunner with no memory limit of its own, for the standalone supervisor: inside a container, a
 * Slurm job or Lambda, the host already limits the process (and on a Slurm node it may run the script in
 * bubblewrap, to hide other jobs' files). Timeouts,
 * cancellation, the capped log and the process-group kill still apply.
 */
import { buildBwrapArgv } from '../executors/local/sandbox.js';
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
   * Runs the script in bubblewrap (a Slurm node, where other jobs' files and the platform's folders must be
   * hidden from it): the host's /dev, the filesystem read-only, `hiddenDirs` under empty tmpfs mounts, the
   * work folder writable. None by default (a container or Lambda confines the process already).
   */
  sandbox?: { bwrapPath: string; hiddenDirs: string[] } | null;
}

/** Creates a runner that starts scripts as plain child processes. */
export function createPlainRunner(options: PlainRunnerOptions = {}): ScriptRunner {
  return {
    bindsFiles: false,
    async run(run: ScriptRun): Promise<ScriptOutcome> {
      const launch = buildLaunchArgv({ cgroupProcsFiles: [], addressSpaceBytes: null, command: run.command });
      const sandbox = options.sandbox ?? null;
      const outcome = await runProcess({
        argv:
          sandbox === null
            ? launch
            : buildBwrapArgv({
                bwrapPath: sandbox.bwrapPath,
                hiddenDirs: sandbox.hiddenDirs,
                workDir: run.workDir,
                readOnlyBinds: [],
                command: launch,
                dev: 'host',
              }),
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
