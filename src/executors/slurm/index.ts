/**
 * @module executors/slurm
 * The Slurm executor: sbatch submissions (job arrays for bursts) that run the standalone supervisor on the
 * compute nodes; status from squeue and sacct, cancel with scancel, logs from the jobs' files.
 */
export { slurmExecutorConfigSchema, type SlurmExecutorConfig } from './config-schema.js';
export { createSlurmExecutor, type SlurmExecutor, type SlurmExecutorOptions } from './slurm-executor.js';
export {
  batchScript,
  serviceOptions,
  submissionArgs,
  slurmJobName,
  timeLimitMinutes,
} from './sbatch-script.js';
export {
  parseSacct,
  parseSbatchReply,
  parseSqueueJson,
  taskStringIncludes,
  type SlurmJobStatus,
} from './slurm-replies.js';
