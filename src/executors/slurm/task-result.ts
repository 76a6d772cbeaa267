/**
 * @module executors/slurm/task-result
 * How one Slurm task ends as an InvocationResult: from the supervisor's result file when it wrote one (it
 * knows the script's exit code, the timeout, the uploaded outputs), otherwise from Slurm's state for it
 * (killed by Slurm's time limit or memory limit, its node lost, cancelled outside Nubes).
 */
import type { ErrorData } from '../../core/index.js';
import type { RemoteResult } from '../../supervisor/result-line.js';
import type { InvocationResult } from '../executor.js';
import type { SlurmJobState } from './slurm-replies.js';

/** What Slurm said of a task that ended without a result file. */
export interface SlurmEnding {
  state: SlurmJobState;
  exitCode: number | null;
  signal: number | null;
}

export function fromRemoteResult(result: RemoteResult, outputDir: string): InvocationResult {
  return { ...result, outputFiles: [], outputDir };
}

/** The result of a task whose supervisor left no result; `ending` null when Slurm lost track of it too. */
export function fromSlurmEnding(
  ending: SlurmEnding | null,
  times: { startedMs: number; finishedMs: number; outputDir: string; timeoutMs: number; memoryBytes: number },
): InvocationResult {
  const failed = (
    error: ErrorData,
    exitCode: number | null = ending?.exitCode ?? null,
  ): InvocationResult => ({
    status: 'failed',
    exitCode,
    termSignal: ending?.signal === null || ending === null ? null : `signal ${ending.signal}`,
    error,
    outputs: [],
    outputFiles: [],
    outputDir: times.outputDir,
    startedMs: times.startedMs,
    finishedMs: times.finishedMs,
  });
  if (ending === null) {
    return failed({
      code: 'SLURM_JOB_LOST',
      message: 'the job left squeue and sacct without a result (its node lost, or its record purged)',
      retryable: true,
    });
  }
  switch (ending.state) {
    case 'TIMEOUT':
    case 'DEADLINE':
      return failed({
        code: 'JOB_TIMEOUT',
        message: `Slurm stopped the job at its time limit (service timeout ${times.timeoutMs} ms)`,
        retryable: true,
      });
    case 'OUT_OF_MEMORY':
      return failed({
        code: 'JOB_OUT_OF_MEMORY',
        message: `Slurm stopped the job over its ${times.memoryBytes}-byte memory limit`,
        retryable: false,
      });
    case 'CANCELLED':
      return failed({ code: 'JOB_CANCELLED', message: 'the job was cancelled in Slurm', retryable: false });
    case 'NODE_FAIL':
    case 'BOOT_FAIL':
    case 'PREEMPTED':
    case 'REVOKED':
      return failed({
        code: 'SLURM_JOB_LOST',
        message: `the job ended ${ending.state} in Slurm before it could report`,
        retryable: true,
      });
    default:
      return failed({
        code: 'JOB_FAILED',
        message: `the job ended ${ending.state} in Slurm (exit code ${ending.exitCode ?? 'none'}) without a result from the supervisor; see its log`,
        retryable: false,
      });
  }
}
