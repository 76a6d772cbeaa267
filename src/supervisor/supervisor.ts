/**
 * @module supervisor/supervisor
 * One invocation from start to end, following OSCAR's FaaS supervisor contract: create TMP_INPUT_DIR and
 * TMP_OUTPUT_DIR, stage the input in, build the environment, run the script (through the given runner),
 * upload what it left in TMP_OUTPUT_DIR to every matching output. Unlike OSCAR's supervisor, a non-zero exit
 * code fails the job, and then nothing is uploaded.
 * Every failure ends as a `failed` result carrying the error as data; this function does not throw.
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/index.js';
import { PlatformError, toPlatformError, type ErrorData } from '../core/index.js';
import type { Invocation, InvocationResult } from '../executors/executor.js';
import type { ObjectStore } from '../storage/object-store.js';
import { ProviderSet, type ProviderFactory } from '../storage/providers/index.js';
import { buildJobEnvironment } from './environment.js';
import type { ScriptOutcome, ScriptRunner, ReadOnlyBind } from './script-runner.js';
import { stageHttpBody, stageObject, stageFromProvider } from './stage-in.js';
import {
  DEFAULT_PROVIDER,
  checkOutputProviders,
  listOutputFiles,
  uploadOutputs,
  type UploadedObject,
} from './stage-out.js';

export interface SupervisorDeps {
  /** The embedded store (provider `minio.default`): inputs come from it, outputs go to it. */
  store: ObjectStore;
  /**
   * Connects to the other providers the service names (its `storageProviders` settings).
   * @default createStorageProvider
   */
  providerFactory?: ProviderFactory;
  /** Starts the script: the local executor's sandboxed runner, or the plain runner. */
  runScript: ScriptRunner;
  logger: Logger;
}

/** Runs one invocation; resolves with its result, `failed` results included. */
export async function runSupervised(invocation: Invocation, deps: SupervisorDeps): Promise<InvocationResult> {
  const startedMs = Date.now();
  const inputDir = join(invocation.workDir, 'input');
  const outputDir = join(invocation.workDir, 'output');
  const log = deps.logger.child({ jobId: invocation.jobId, service: invocation.service.name });
  const outputs: UploadedObject[] = [];
  let outcome: ScriptOutcome | null = null;
  let outputFiles: string[] = [];
  const providers = new ProviderSet(invocation.service.storageProviders, deps.providerFactory);

  const finish = (error: ErrorData | null): InvocationResult => ({
    status: error === null ? 'succeeded' : 'failed',
    exitCode: outcome?.exitCode ?? null,
    termSignal: outcome?.termSignal ?? null,
    error,
    outputs,
    outputFiles,
    outputDir,
    startedMs,
    finishedMs: Date.now(),
  });

  try {
    // Before any work: an output we cannot write to would only fail after the compute was spent.
    checkOutputProviders(invocation.service.output, providers);
    if (invocation.signal.aborted) throw cancelledError();
    await Promise.all([mkdir(inputDir, { recursive: true }), mkdir(outputDir, { recursive: true })]);
    const [staged, command] = await Promise.all([
      stageInput(invocation, inputDir, deps, providers),
      writeScript(invocation.workDir, invocation.service.script),
    ]);
    const { env, notes } = buildJobEnvironment({
      jobId: invocation.jobId,
      service: invocation.service,
      event: invocation.event,
      object: invocation.input,
      workDir: invocation.workDir,
      inputDir,
      outputDir,
      inputFilePath: staged.path,
    });
    await appendNotes(invocation.logPath, notes);

    log.debug({ command }, 'script starting');
    outcome = await deps.runScript.run({
      jobId: invocation.jobId,
      command,
      env,
      workDir: invocation.workDir,
      readOnlyBinds: staged.binds,
      logPath: invocation.logPath,
      timeoutMs: invocation.service.timeoutMs,
      memoryBytes: invocation.service.memoryBytes,
      signal: invocation.signal,
    });
    log.debug({ outcome }, 'script ended');

    const listing = await listOutputFiles(outputDir);
    outputFiles = listing.files.map((file) => file.name);
    await appendNotes(
      invocation.logPath,
      listing.skipped.map((entry) => `not uploaded: ${entry}`),
    );

    const failure = outcomeError(outcome, invocation);
    if (failure !== null) {
      await appendNotes(invocation.logPath, [failure.message]);
      return finish(failure.toData());
    }
    outputs.push(
      ...(await uploadOutputs(
        deps.store,
        invocation.service.output,
        listing.files,
        // The events domain's servicePrincipal(): outputs never re-trigger the service that wrote them.
        `service:${invocation.service.name}`,
        providers,
        invocation.signal,
      )),
    );
    return finish(null);
  } catch (thrown) {
    const error = toPlatformError(thrown);
    if (error.code === 'INTERNAL') log.error({ err: thrown }, 'supervisor failure');
    await appendNotes(invocation.logPath, [`job failed: ${error.message}`]).catch(() => undefined);
    return finish(error.toData());
  } finally {
    await providers.close();
  }
}

async function stageInput(
  invocation: Invocation,
  inputDir: string,
  deps: SupervisorDeps,
  providers: ProviderSet,
): Promise<{ path: string | null; binds: ReadOnlyBind[] }> {
  const provider = invocation.input?.provider ?? DEFAULT_PROVIDER;
  if (invocation.kind === 'storage' && invocation.input !== null && provider !== DEFAULT_PROVIDER) {
    const staged = await stageFromProvider(
      await providers.get(provider),
      invocation.input,
      inputDir,
      invocation.signal,
    );
    return { path: staged.path, binds: [] };
  }
  if (invocation.kind === 'storage' && invocation.input !== null) {
    const staged = await stageObject(deps.store, invocation.input, inputDir, deps.runScript.bindsFiles);
    return { path: staged.path, binds: staged.bind === null ? [] : [staged.bind] };
  }
  if (invocation.bodyPath !== null) {
    const staged = await stageHttpBody(invocation.bodyPath, inputDir);
    return { path: staged.path, binds: [] };
  }
  return { path: null, binds: [] };
}

/** Writes the script into the work folder; returns its argv (direct exec with a shebang, /bin/sh otherwise). */
async function writeScript(workDir: string, script: string): Promise<string[]> {
  const path = join(workDir, 'script.sh');
  await writeFile(path, script, { mode: 0o700 });
  return script.startsWith('#!') ? [path] : ['/bin/sh', path];
}

/** The error a script's outcome stands for, or null when it succeeded. */
export function outcomeError(
  outcome: ScriptOutcome,
  invocation: Pick<Invocation, 'service'>,
): PlatformError | null {
  const details = { exitCode: outcome.exitCode, termSignal: outcome.termSignal };
  switch (outcome.reason) {
    case 'timeout':
      return new PlatformError(
        'JOB_TIMEOUT',
        `the job exceeded its time limit of ${invocation.service.timeoutMs / 1000} s and was killed`,
        { details },
      );
    case 'cancelled':
      return cancelledError(details);
    case 'out-of-memory':
      return new PlatformError(
        'JOB_OUT_OF_MEMORY',
        `the job exceeded its memory limit of ${formatBytes(invocation.service.memoryBytes)} and was killed`,
        { details },
      );
    case 'exited':
      if (outcome.exitCode === 0) return null;
      return new PlatformError(
        'JOB_FAILED',
        outcome.exitCode !== null
          ? `the script exited with code ${outcome.exitCode}`
          : `the script was killed by ${outcome.termSignal ?? 'a signal'}`,
        { details },
      );
  }
}

function cancelledError(details?: unknown): PlatformError {
  return new PlatformError('JOB_CANCELLED', 'the job was cancelled', { details });
}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  return `${bytes} bytes`;
}

/** Supervisor lines in the job's log are prefixed, so users can tell them from their script's output. */
async function appendNotes(logPath: string, notes: string[]): Promise<void> {
  if (notes.length === 0) return;
  await appendFile(logPath, notes.map((note) => `[nubes] ${note}\n`).join(''));
}
