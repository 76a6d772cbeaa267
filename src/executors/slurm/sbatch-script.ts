/**
 * @module executors/slurm/sbatch-script
 * Pure builders for one submission: the sbatch options a service's jobs get (FDL resources, the `slurm`
 * block, the executor's defaults) and the batch script, which starts the standalone supervisor on the
 * compute node with the invocation file of its array task.
 *
 * One submission's folder holds `job.sh` and, per task `i`: `i.json` (the invocation, mode 0600) for the
 * Node supervisor, or `i.sh` (the task's shell file, mode 0600; shell-task.ts, then overwritten with the
 * result line) with the `script-*.sh` it runs for the shell path (and `i.w/`, the job's folder, when it is
 * in the spool), `i.log` (the script's output as it comes, and Slurm's own messages: time limit, cancel),
 * `i.out` (the supervisor's stdout: the sync response, unused here) and `i.result` (the supervisor's
 * result line).
 */
import type { ServiceSpec } from '../../fdl/service-spec.js';
import type { SlurmExecutorConfig } from './config-schema.js';
import { SHELL_SUPERVISOR } from './shell-supervisor.js';

/** Files of task `index` in a submission folder. */
export function taskFiles(dir: string, index: number) {
  return {
    invocation: `${dir}/${index}.json`,
    shell: `${dir}/${index}.sh`,
    body: `${dir}/${index}.in`,
    work: `${dir}/${index}.w`,
    log: `${dir}/${index}.log`,
    stdout: `${dir}/${index}.out`,
    result: `${dir}/${index}.result`,
  };
}

/** Slurm's name of a service's jobs (`nubes-<service>`), by which squeue and scancel find them. */
export function slurmJobName(serviceName: string): string {
  return `nubes-${serviceName}`;
}

/**
 * The sbatch options every job of `service` gets; two invocations with equal options may share one array.
 * `--parsable`, the array range and the output paths are added per submission by `submissionArgs`.
 */
export function serviceOptions(service: ServiceSpec, config: SlurmExecutorConfig): string[] {
  const args = [`--job-name=${slurmJobName(service.name)}`, '--nodes=1', '--ntasks=1'];
  const partition = service.slurm.partition ?? config.partition;
  const account = service.slurm.account ?? config.account;
  const qos = service.slurm.qos ?? config.qos;
  if (partition !== undefined) args.push(`--partition=${partition}`);
  if (account !== undefined) args.push(`--account=${account}`);
  if (qos !== undefined) args.push(`--qos=${qos}`);
  args.push(`--cpus-per-task=${Math.max(1, Math.ceil(service.cpu))}`);
  if (service.memoryBytes > 0) args.push(`--mem=${Math.ceil(service.memoryBytes / 1024 ** 2)}M`);
  if (service.timeoutMs > 0)
    args.push(`--time=${timeLimitMinutes(service.timeoutMs, config.timeLimitGraceMs)}`);
  const gres = service.slurm.gres ?? (service.enableGpu ? 'gpu:1' : null);
  if (gres !== null) args.push(`--gres=${gres}`);
  // A job whose node fails is not run again behind the platform's back: the platform retries it.
  args.push('--no-requeue');
  args.push(...config.options, ...service.slurm.options);
  return args;
}

/**
 * Slurm's time limit, in whole minutes (its granularity): the service's timeout plus a grace, since the
 * supervisor enforces the timeout itself to the millisecond and reports it; Slurm's limit is the backstop.
 */
export function timeLimitMinutes(timeoutMs: number, graceMs: number): number {
  return Math.max(1, Math.ceil((timeoutMs + graceMs) / 60_000));
}

/**
 * The full sbatch command line of one submission whose files are in `dir`: a plain job (task 0), or with
 * `array` (Slurm's `--array` list, e.g. `0-499` or `0-4,6-9`) a job array. The batch script's own output
 * (Slurm's messages about the task: a time limit, a cancel) goes to `i.slurm`, or with `intoLog` is
 * appended to the task's log `i.log`, which the batch script then only appends to: one file fewer per task
 * for the node to create and the server to read and delete.
 */
export function submissionArgs(
  options: string[],
  dir: string,
  array: string | null,
  intoLog = false,
): string[] {
  const args = ['--parsable', ...options, `--chdir=${dir}`];
  const output = `${dir}/${array !== null ? '%a' : '0'}.${intoLog ? 'log' : 'slurm'}`;
  if (array !== null) args.push(`--array=${array}`);
  args.push(`--output=${output}`, `--error=${output}`);
  if (intoLog) args.push('--open-mode=append');
  args.push(`${dir}/job.sh`);
  return args;
}

/** Slurm's `--array` list of ascending indexes, runs written as ranges (`0-4,6,8-9`). */
export function arraySpec(indexes: number[]): string {
  const parts: string[] = [];
  for (let at = 0; at < indexes.length;) {
    const first = indexes[at] ?? 0;
    let last = first;
    while (indexes[at + 1] === last + 1) {
      last += 1;
      at += 1;
    }
    at += 1;
    parts.push(first === last ? String(first) : `${first}-${last}`);
  }
  return parts.join(',');
}

/**
 * The batch script: picks the task's files by SLURM_ARRAY_TASK_ID (0 for a plain job); does the job itself
 * when the task has a shell file (shell-supervisor.ts), else runs the Node supervisor on its invocation
 * file, with the script's output appended to the task's log, where Slurm puts its own messages (time
 * limit, cancel; submissionArgs with `intoLog`).
 */
export function batchScript(options: {
  dir: string;
  node: string;
  supervisor: string;
  service: string;
}): string {
  const dir = shellQuote(options.dir);
  return [
    '#!/bin/sh',
    `# Nubes: jobs of service ${options.service.replace(/[^a-z0-9-]/g, '')}`,
    'task="${SLURM_ARRAY_TASK_ID:-0}"',
    `dir=${dir}`,
    'if [ -f "$dir/$task.sh" ]; then',
    '. "$dir/$task.sh"',
    SHELL_SUPERVISOR.trim(),
    'fi',
    `export NUBES_INVOCATION_FILE=${dir}/"$task.json" NUBES_RESULT_FILE=${dir}/"$task.result"`,
    // The AWS SDK warns about Node 20 on every start; job logs are the user's, not the SDK's.
    'export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true',
    `exec ${shellQuote(options.node)} ${shellQuote(options.supervisor)} </dev/null >${dir}/"$task.out" 2>>${dir}/"$task.log"`,
    '',
  ].join('\n');
}

/** Quotes a value for a POSIX shell: single quotes, with each `'` written as `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
