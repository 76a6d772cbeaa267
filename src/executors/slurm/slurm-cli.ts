/**
 * @module executors/slurm/slurm-cli
 * Runs Slurm's commands (sbatch, squeue, sacct, scancel) as child processes with a controlled environment:
 * PATH and SLURM_CONF only, so that nothing of the server's environment (its credentials above all) reaches
 * the jobs through sbatch's default `--export=ALL`.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { PlatformError } from '../../core/index.js';

export interface SlurmCliOptions {
  binDir: string | undefined;
  slurmConf: string | undefined;
  /** The commands' whole environment instead of PATH and SLURM_CONF alone (sbatch exports it to jobs). */
  env?: Record<string, string>;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Longest a Slurm command may take before it is taken as failed (slurmctld unreachable). */
const COMMAND_TIMEOUT_MS = 60_000;
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

export class SlurmCli {
  private readonly env: Record<string, string>;

  constructor(private readonly options: SlurmCliOptions) {
    this.env = options.env ?? { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: 'C' };
    const conf = options.slurmConf ?? process.env.SLURM_CONF;
    if (conf !== undefined) this.env.SLURM_CONF = conf;
  }

  /** Runs `command args…`; resolves with its exit code and output, rejects only when it cannot start. */
  run(command: 'sbatch' | 'squeue' | 'sacct' | 'scancel' | 'sinfo', args: string[]): Promise<CommandResult> {
    const file = this.options.binDir === undefined ? command : join(this.options.binDir, command);
    return new Promise((resolve, reject) => {
      execFile(
        file,
        args,
        { env: this.env, timeout: COMMAND_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' },
        (error, stdout, stderr) => {
          const code = (error as NodeJS.ErrnoException | null)?.code;
          if (typeof code === 'string') {
            reject(
              new PlatformError('EXECUTOR_UNAVAILABLE', `cannot run ${file}: ${code}`, { cause: error }),
            );
            return;
          }
          const exitCode = error === null ? 0 : typeof code === 'number' ? code : 1;
          resolve({ exitCode, stdout, stderr });
        },
      );
    });
  }

  /** Runs a command that must succeed; SLURM_REJECTED with its message otherwise. */
  async expect(
    command: 'sbatch' | 'squeue' | 'sacct' | 'scancel' | 'sinfo',
    args: string[],
  ): Promise<string> {
    const result = await this.run(command, args);
    if (result.exitCode === 0) return result.stdout;
    const message = result.stderr.trim() || result.stdout.trim() || `exit code ${result.exitCode}`;
    throw new PlatformError('SLURM_REJECTED', `${command} failed: ${message}`, {
      // Refusals (a bad partition, an account over its limits) do not fix themselves; a controller that
      // cannot be reached may come back.
      retryable: /contact|connect|timed? ?out|socket|unavailable|try again/i.test(message),
      details: { command, exitCode: result.exitCode },
    });
  }
}
