/**
 * @module executors/local/local-executor
 * The default executor: each invocation runs as a child process of the server, through the supervisor, in
 * a bubblewrap sandbox and a cgroup when the host allows them. What the host allows is probed once, at
 * creation; `sandbox: 'auto'` degrades to no sandbox with one warning, `sandbox: 'bwrap'` refuses to start.
 * The global concurrency limit is the dispatcher's job; the executor only reports it.
 */
import { resolve } from 'node:path';
import type { Logger, SandboxMode } from '../../core/index.js';
import { PlatformError } from '../../core/index.js';
import type { ServiceSpec } from '../../fdl/service-spec.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { DEFAULT_KILL_GRACE_MS, DEFAULT_MAX_LOG_BYTES, runSupervised } from '../../supervisor/index.js';
import type {
  ExecutorLimits,
  DeployResult,
  Executor,
  ExecutorCapabilities,
  Invocation,
  InvocationResult,
} from '../executor.js';
import { RunningJobs } from '../running-jobs.js';
import { cgroupsUnavailable, probeCgroups, type CgroupMode } from './cgroups.js';
import { createLocalRunner } from './local-runner.js';
import { DEFAULT_BWRAP_PATH, probeBwrap } from './sandbox.js';

export interface LocalExecutorOptions {
  /** The platform's data directory: hidden from sandboxed scripts. */
  dataDir: string;
  /** bwrap when it works (auto), always bwrap (fail otherwise), or none. */
  sandbox: SandboxMode;
  /** Reported in capabilities; enforced by the dispatcher. */
  maxConcurrentJobs: number;
  /** The embedded store (provider `minio.default`). */
  store: ObjectStore;
  logger: Logger;
  /** Between SIGTERM and SIGKILL when a job is stopped. @default 2000 */
  killGraceMs?: number;
  /** Log budget of one job. @default 10 MiB */
  maxLogBytes?: number;
  /** Declared limits for hybrid execution (see ExecutorLimits). @default none */
  limits?: ExecutorLimits;
  /** Processes and threads of one job (cgroup pids.max). @default 4096 */
  pidsMax?: number;
  /** `rlimit` skips the cgroup probe and limits memory with RLIMIT_AS. @default auto */
  memoryLimit?: 'auto' | 'rlimit';
  /** @default /usr/bin/bwrap */
  bwrapPath?: string;
  /** More folders to hide from sandboxed scripts (e.g. /root, /home). @default [] */
  hiddenPaths?: string[];
  /** Where cgroup hierarchies are mounted. @default /sys/fs/cgroup */
  cgroupRoot?: string;
  /** Parent cgroup of all job cgroups. @default nubes */
  cgroupGroup?: string;
}

/** How this executor isolates and limits jobs on this host, as probed at start-up. */
export interface LocalIsolation {
  sandbox: 'bwrap' | 'none';
  memoryLimit: 'cgroup-v2' | 'cgroup-v1' | 'rlimit';
  /** What was not available and why (also logged once as warnings). */
  warnings: string[];
}

export interface LocalExecutor extends Executor {
  readonly isolation: LocalIsolation;
}

/** Default pids.max of a job: generous for threaded science codes, a wall for fork bombs. */
export const DEFAULT_PIDS_MAX = 4096;

/** Probes the host (bwrap, cgroups) and creates the executor. */
export async function createLocalExecutor(options: LocalExecutorOptions): Promise<LocalExecutor> {
  const logger = options.logger;
  const bwrapPath = options.bwrapPath ?? DEFAULT_BWRAP_PATH;
  const [sandboxProbe, cgroups] = await Promise.all([
    options.sandbox === 'none' ? null : probeBwrap(bwrapPath),
    options.memoryLimit === 'rlimit'
      ? cgroupsUnavailable('RLIMIT_AS chosen by configuration')
      : probeCgroups({ root: options.cgroupRoot, group: options.cgroupGroup }),
  ]);

  const warnings: string[] = [];
  let sandboxed = false;
  if (sandboxProbe !== null) {
    if (sandboxProbe.available) {
      sandboxed = true;
    } else if (options.sandbox === 'bwrap') {
      throw new PlatformError(
        'SANDBOX_UNAVAILABLE',
        `bubblewrap cannot run here: ${sandboxProbe.reason ?? 'unknown'}`,
        {
          details: { bwrapPath },
        },
      );
    } else {
      warnings.push(
        `scripts run WITHOUT a sandbox: bubblewrap (${bwrapPath}) does not work here (${sandboxProbe.reason ?? 'unknown'}); ` +
          'they can read the data directory and its credentials. Install bubblewrap or set sandbox: none to silence this.',
      );
    }
  }
  if (cgroups.mode === 'none' && options.memoryLimit !== 'rlimit') {
    warnings.push(
      `memory limits use RLIMIT_AS (address space) because no cgroup is writable (${cgroups.reason ?? 'unknown'}): ` +
        'programs that reserve much virtual memory may fail below their limit, and an out-of-memory failure is ' +
        'recognised only by its message',
    );
  }
  for (const warning of warnings) logger.warn(warning);

  const isolation: LocalIsolation = {
    sandbox: sandboxed ? 'bwrap' : 'none',
    memoryLimit: memoryMode(cgroups.mode),
    warnings,
  };
  const runner = createLocalRunner({
    sandbox: sandboxed
      ? {
          bwrapPath,
          hiddenDirs: [resolve(options.dataDir), ...(options.hiddenPaths ?? []).map((p) => resolve(p))],
        }
      : null,
    cgroups,
    pidsMax: options.pidsMax ?? DEFAULT_PIDS_MAX,
    killGraceMs: options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    maxLogBytes: options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES,
    logger,
  });
  const capabilities: ExecutorCapabilities = {
    sync: true,
    gpu: false,
    containers: false,
    maxConcurrency: options.maxConcurrentJobs,
    limits: options.limits ?? { timeoutMs: 0, memoryBytes: 0 },
  };

  // close() cancels every running job (its whole process tree killed).
  const runs = new RunningJobs('local');

  return {
    name: 'local',
    capabilities,
    isolation,

    deploy(_service: ServiceSpec): Promise<DeployResult> {
      // What the capabilities say (image not run, no GPU) is reported by the FDL's backendWarnings; only
      // what depends on this server's state is added here.
      const deployWarnings: string[] = [];
      if (!sandboxed) deployWarnings.push('scripts of this service run without a sandbox on this server');
      return Promise.resolve({ warnings: deployWarnings });
    },

    undeploy(): Promise<void> {
      return Promise.resolve();
    },

    run(invocation: Invocation): Promise<InvocationResult> {
      return runs.track(invocation.signal, (signal) =>
        runSupervised({ ...invocation, signal }, { store: options.store, runScript: runner, logger }),
      );
    },

    close(): Promise<void> {
      return runs.close();
    },
  };
}

function memoryMode(mode: CgroupMode): LocalIsolation['memoryLimit'] {
  if (mode === 'v2') return 'cgroup-v2';
  if (mode === 'v1') return 'cgroup-v1';
  return 'rlimit';
}
