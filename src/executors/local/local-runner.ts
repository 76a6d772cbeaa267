/**
 * @module executors/local/local-runner
 * The ScriptRunner of the local executor: one job = one cgroup (memory, pids) when the host lets us write
 * one, RLIMIT_AS otherwise; bubblewrap around the script when sandboxing is on; everything started through
 * the launch wrapper, so the process is in its cgroup before the script's first instruction.
 * Per job this adds no Node process and no synchronous call: a few cgroup writes, one dash exec, bwrap.
 */
import { open, stat } from 'node:fs/promises';
import type { Logger } from '../../core/index.js';
import { PlatformError } from '../../core/index.js';
import {
  buildLaunchArgv,
  processGroupTree,
  runProcess,
  signalGroup,
  type ProcessTree,
  type ScriptOutcome,
  type ScriptRun,
  type ScriptRunner,
} from '../../supervisor/index.js';
import type { CgroupSupport, JobCgroup } from './cgroups.js';
import { buildBwrapArgv } from './sandbox.js';

export interface LocalRunnerOptions {
  /** Set when jobs run in bubblewrap. */
  sandbox: { bwrapPath: string; hiddenDirs: string[] } | null;
  /** The probed cgroup support; mode `none` means RLIMIT_AS. */
  cgroups: CgroupSupport;
  pidsMax: number;
  killGraceMs: number;
  maxLogBytes: number;
  logger: Logger;
}

/**
 * With RLIMIT_AS a failed allocation is an error inside the program, not a kill the kernel records, so the
 * only evidence is what the program printed. These are the messages of the usual runtimes.
 */
const ALLOCATION_FAILURE =
  /MemoryError|Cannot allocate memory|memory exhausted|std::bad_alloc|out of memory|OutOfMemoryError|cannot allocate vector/i;

const LOG_TAIL_BYTES = 8192;

/** Creates the local executor's runner. */
export function createLocalRunner(options: LocalRunnerOptions): ScriptRunner {
  const { sandbox, cgroups } = options;
  return {
    bindsFiles: sandbox !== null,
    async run(run: ScriptRun): Promise<ScriptOutcome> {
      let cgroup: JobCgroup | null = null;
      if (cgroups.mode !== 'none') {
        try {
          cgroup = await cgroups.create(run.jobId, {
            memoryBytes: run.memoryBytes,
            pidsMax: options.pidsMax,
          });
        } catch (error) {
          throw new PlatformError(
            'SPAWN_FAILED',
            `cannot create the job's cgroup: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        }
      }
      try {
        const command =
          sandbox === null
            ? run.command
            : buildBwrapArgv({
                bwrapPath: sandbox.bwrapPath,
                hiddenDirs: sandbox.hiddenDirs,
                workDir: run.workDir,
                readOnlyBinds: run.readOnlyBinds,
                command: run.command,
              });
        const useRlimit = cgroup === null && run.memoryBytes > 0;
        const logStart = useRlimit
          ? await stat(run.logPath).then(
              (s) => s.size,
              () => 0,
            )
          : 0;
        const outcome = await runProcess({
          argv: buildLaunchArgv({
            cgroupProcsFiles: cgroup?.procsFiles ?? [],
            addressSpaceBytes: useRlimit ? run.memoryBytes : null,
            command,
          }),
          env: run.env,
          cwd: run.workDir,
          logPath: run.logPath,
          timeoutMs: run.timeoutMs,
          signal: run.signal,
          maxLogBytes: options.maxLogBytes,
          killGraceMs: options.killGraceMs,
          tree: cgroup === null ? processGroupTree : cgroupTree(cgroup, sandbox !== null),
        });
        let reason: ScriptOutcome['reason'] = outcome.reason;
        if (reason === 'exited' && outcome.exitCode !== 0) {
          const outOfMemory =
            cgroup !== null
              ? await cgroup.oomKilled()
              : useRlimit && ALLOCATION_FAILURE.test(await readLogTail(run.logPath, logStart));
          if (outOfMemory) reason = 'out-of-memory';
        }
        return {
          reason,
          exitCode: outcome.exitCode,
          termSignal: outcome.termSignal,
          startedMs: outcome.startedMs,
          finishedMs: outcome.finishedMs,
        };
      } finally {
        if (cgroup !== null) {
          await cgroup.remove().catch((error: unknown) => {
            options.logger.warn({ err: error, jobId: run.jobId }, 'could not remove the job cgroup');
          });
        }
      }
    },
  };
}

/**
 * Signals a job through its cgroup as well as its process group: the cgroup also holds processes that
 * called setsid(). In the sandbox, SIGTERM spares the outer bwrap process, whose death would SIGKILL
 * everything at once (--die-with-parent) and deny the script its grace period.
 */
function cgroupTree(cgroup: JobCgroup, sandboxed: boolean): ProcessTree {
  return {
    async terminate(leaderPid) {
      if (!sandboxed) signalGroup(leaderPid, 'SIGTERM');
      await cgroup.signalAll('SIGTERM', sandboxed ? leaderPid : undefined);
    },
    async kill(leaderPid) {
      signalGroup(leaderPid, 'SIGKILL');
      await cgroup.killAll();
    },
  };
}

/** The log written since `from`, at most its last few KiB. */
async function readLogTail(path: string, from: number): Promise<string> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const start = Math.max(from, size - LOG_TAIL_BYTES);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    await file.read(buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    await file.close();
  }
}
