/**
 * @module mapreduce/process-tasks
 * Map and reduce attempts whose function is a process (a MARLA-style Python file, any executable in
 * Hadoop Streaming style, or a user's JS module, which must not run inside the server), run as invocations on the job's executor: sandboxed, memory-limited, their
 * output captured as the task's log. The chunk and the merged reducer input are files in the task's work
 * folder, the only folder the sandbox lets the process write.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../core/index.js';
import type { Executor, InvocationResult } from '../executors/index.js';
import type { ServiceSpec } from '../fdl/index.js';
import type { ObjectStore } from '../storage/index.js';
import {
  JS_RUNNER,
  MARLA_RUNNER,
  shellQuote,
  writeJsModule,
  writeProcessFunction,
} from './function-files.js';
import type { FunctionSource, MapReduceSpec } from './job-model.js';
import { copyRangeToFile } from './task-io.js';

/** Bytes of pairs a Python reducer is given per call (MARLA gave 3 % of the reducer's memory). */
const PYTHON_REDUCE_BATCH_FRACTION = 0.03;

function taskService(spec: MapReduceSpec, script: string): ServiceSpec {
  return {
    name: `mapreduce-${spec.name}`,
    image: '',
    script,
    cpu: 1,
    memoryBytes: spec.memoryBytes,
    enableGpu: false,
    logLevel: 'INFO',
    variables: {},
    storageProviders: {},
    secrets: {},
    input: [],
    output: [],
    ephemeralStorageBytes: 0,
    timeoutMs: 0,
    maxConcurrency: 0,
    retry: { maxAttempts: 1, initialBackoffMs: 0, maxBackoffMs: 0 },
    executor: spec.executor,
    network: 'none',
    slurm: { partition: null, account: null, qos: null, gres: null, options: [] },
    executionMode: null,
    synchronous: { minScale: null, maxScale: null },
    visibility: 'private',
    allowedUsers: [],
    labels: {},
    annotations: {},
  };
}

async function invoke(
  executor: Executor,
  service: ServiceSpec,
  taskId: string,
  taskDir: string,
  logPath: string,
  signal: AbortSignal,
): Promise<InvocationResult> {
  const result = await executor.run({
    jobId: taskId,
    service,
    kind: 'http',
    event: '',
    input: null,
    bodyPath: null,
    workDir: taskDir,
    logPath,
    signal,
  });
  if (result.status !== 'succeeded') {
    const error = result.error ?? { code: 'JOB_FAILED', message: 'the task failed', retryable: true };
    throw new PlatformError(error.code, error.message, { details: { exitCode: result.exitCode } });
  }
  return result;
}

/**
 * The command that runs a function: `[interpreter, runner, file]` for Python and JS (the runner takes the
 * mode and files after them), `[file]` for an executable.
 */
async function functionCommand(source: FunctionSource, taskDir: string, role: string): Promise<string[]> {
  if (source.kind === 'js') {
    const runner = join(taskDir, 'js-runner.mjs');
    await writeFile(runner, JS_RUNNER);
    return [process.execPath, runner, await writeJsModule(source, taskDir, role)];
  }
  const path = await writeProcessFunction(source, taskDir, role);
  if (source.kind === 'python') {
    const runner = join(taskDir, 'marla_runner.py');
    await writeFile(runner, MARLA_RUNNER);
    return ['python3', runner, path];
  }
  return [path];
}

/** Runs a process mapper over one chunk; resolves with the file of `key\tvalue` lines it produced. */
export async function runProcessMap(options: {
  store: ObjectStore;
  executor: Executor;
  spec: MapReduceSpec;
  input: { bucket: string; key: string; start: number; end: number };
  taskDir: string;
  taskId: string;
  logPath: string;
  signal: AbortSignal;
}): Promise<string> {
  const { spec, input, taskDir } = options;
  const chunk = join(taskDir, 'chunk');
  const pairs = join(taskDir, 'pairs');
  await copyRangeToFile(options.store, input.bucket, input.key, input.start, input.end, chunk);
  const command = await functionCommand(spec.mapper, taskDir, 'mapper');
  const q = (values: string[]) => values.map(shellQuote).join(' ');
  const [interpreter, runner, file] = command as [string, string, string];
  const combiner =
    spec.mapper.kind === 'js' && spec.combiner?.kind === 'js'
      ? [(await functionCommand(spec.combiner, taskDir, 'combiner'))[2] as string]
      : [];
  const script =
    spec.mapper.kind === 'executable'
      ? `exec ${q(command)} < ${shellQuote(chunk)} > ${shellQuote(pairs)}\n`
      : `exec ${q([interpreter, runner, 'map', file, chunk, pairs, ...combiner])}\n`;
  await invoke(
    options.executor,
    taskService(spec, script),
    options.taskId,
    taskDir,
    options.logPath,
    options.signal,
  );
  return pairs;
}

/** Runs a process reducer over its merged, sorted `key\tvalue` lines; writes its output to `outPath`. */
export async function runProcessReduce(options: {
  executor: Executor;
  spec: MapReduceSpec;
  merged: string;
  outPath: string;
  taskDir: string;
  taskId: string;
  logPath: string;
  signal: AbortSignal;
}): Promise<void> {
  const { spec, taskDir } = options;
  // The process writes inside its work folder (the only place it may), and the file is moved out after.
  const out = join(taskDir, 'out');
  const command = await functionCommand(spec.reducer, taskDir, 'reducer');
  const q = (values: string[]) => values.map(shellQuote).join(' ');
  const batch = String(Math.max(64 * 1024, Math.floor(spec.memoryBytes * PYTHON_REDUCE_BATCH_FRACTION)));
  const [interpreter, runner, file] = command as [string, string, string];
  const script =
    spec.reducer.kind === 'python'
      ? `exec ${q([interpreter, runner, 'reduce', file, options.merged, out, batch])}\n`
      : spec.reducer.kind === 'js'
        ? `exec ${q([interpreter, runner, 'reduce', file, options.merged, out])}\n`
        : `exec ${q(command)} < ${shellQuote(options.merged)} > ${shellQuote(out)}\n`;
  await invoke(
    options.executor,
    taskService(spec, script),
    options.taskId,
    taskDir,
    options.logPath,
    options.signal,
  );
  const { rename } = await import('node:fs/promises');
  await rename(out, options.outPath);
}
