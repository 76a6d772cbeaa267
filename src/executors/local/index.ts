/**
 * @module executors/local
 * The local executor: jobs as sandboxed, cgroup-limited child processes of the server.
 */
export {
  createLocalExecutor,
  DEFAULT_PIDS_MAX,
  type LocalExecutor,
  type LocalExecutorOptions,
  type LocalIsolation,
} from './local-executor.js';
export { localExecutorConfigSchema, type LocalExecutorConfig } from './config-schema.js';
export {
  buildBwrapArgv,
  probeBwrap,
  DEFAULT_BWRAP_PATH,
  type BwrapArgsInput,
  type SandboxProbe,
} from './sandbox.js';
export {
  probeCgroups,
  cgroupsUnavailable,
  type CgroupMode,
  type CgroupSupport,
  type CgroupLimits,
  type JobCgroup,
} from './cgroups.js';
