/**
 * @module supervisor/standalone
 * The supervisor as a program of its own, for hosts where Nubes is not the parent process (a container, a
 * Slurm job, Lambda): the event on stdin, the service in FUNCTION_CONFIG, storage through an S3 endpoint.
 * It runs the script unsandboxed (the host confines it) or, where asked (a Slurm node), under Landlock or in
 * bubblewrap; echoes the script's output to stderr as it comes
 * (the host's job log), prints the sync response on stdout and returns the script's exit code.
 * The object store is made by an injected factory, so this module does not load the AWS SDK itself.
 */
import { constants as fsConstants } from 'node:fs';
import { access, appendFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { constants as osConstants } from 'node:os';
import type { Logger } from '../core/index.js';
import { PlatformError, newJobId, toPlatformError } from '../core/index.js';
import type { Invocation, InvocationResult } from '../executors/executor.js';
import type { ObjectStore } from '../storage/object-store.js';
import { parseEvent } from './event-parser.js';
import { probeLandlock } from './landlock.js';
import { createPlainRunner, type PlainRunnerSandbox } from './plain-runner.js';
import { buildRemoteAnswer } from './remote-answer.js';
import { formatResultLine } from './result-line.js';
import { loadStandaloneConfig, type S3Settings, type StandaloneConfig } from './standalone-config.js';
import { runSupervised } from './supervisor.js';
import { buildSyncResponse } from './sync-response.js';

/** Makes the store of provider `minio.default` from the S3 settings. */
export type StoreFactory = (settings: S3Settings) => Promise<ObjectStore>;

export interface StandaloneIo {
  stdin: Readable;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  logger: Logger;
  /** Aborted when the host stops the job (SIGTERM from scancel or a time limit): the script is killed and
   * the job's folder removed before the process exits. */
  signal?: AbortSignal;
}

/** Exit status when the job hit its time limit (as timeout(1) reports it). */
export const TIMEOUT_EXIT_CODE = 124;

/**
 * The sandbox asked for that this host can make: Landlock where its kernel has it, else bubblewrap where it
 * is installed; else a note in the job's log and none (or SANDBOX_UNAVAILABLE when one is required). Only
 * the folders this host has are hidden.
 */
async function usableSandbox(
  config: StandaloneConfig,
  logPath: string,
  mirror: NodeJS.WritableStream | null,
): Promise<PlainRunnerSandbox | null> {
  const sandbox = config.sandbox;
  if (sandbox === null) return null;
  const present = async (path: string, mode: number) =>
    access(path, mode).then(
      () => true,
      () => false,
    );
  const hiddenDirs: string[] = [];
  for (const dir of sandbox.hiddenDirs) if (await present(dir, fsConstants.F_OK)) hiddenDirs.push(dir);
  const why: string[] = [];
  if (sandbox.landlockPath !== null) {
    const landlockPath = sandbox.landlockPath;
    const reason = (await present(landlockPath, fsConstants.X_OK))
      ? await probeLandlock(landlockPath)
      : `the Landlock helper (${landlockPath}) is not installed on this host`;
    // The folder of the jobs' own folders is hidden too (the job's is granted back).
    const tmpDirs = [...new Set([tmpdir(), config.workRoot ?? tmpdir()])];
    if (reason === null) return { kind: 'landlock', landlockPath, hiddenDirs, tmpDirs };
    why.push(reason);
  }
  if (sandbox.bwrapPath !== null) {
    if (await present(sandbox.bwrapPath, fsConstants.X_OK)) {
      if (why.length > 0)
        await note(`Landlock is not available (${why.join('; ')}): the script runs in bubblewrap`);
      return { kind: 'bwrap', bwrapPath: sandbox.bwrapPath, hiddenDirs };
    }
    why.push(`bubblewrap (${sandbox.bwrapPath}) is not installed on this host`);
  }
  if (sandbox.required)
    throw new PlatformError('SANDBOX_UNAVAILABLE', `the sandbox is required but ${why.join('; ')}`);
  await note(`the script runs without a sandbox: ${why.join('; ')}`);
  return null;

  async function note(text: string): Promise<void> {
    const line = `[nubes] ${text}\n`;
    await appendFile(logPath, line);
    mirror?.write(line);
  }
}

/** One supervised run in a fresh folder; `dispose` removes the folder once the caller has read it. */
export interface StandaloneRun {
  result: InvocationResult;
  /** The job's log as written (the script's output and the supervisor's notes). */
  log: string;
  dispose(): Promise<void>;
}

/**
 * Runs the event (`eventBytes`) through the supervisor with `config` and the store of `minio.default`;
 * a failed job is a result, not an exception (used by runStandalone and the Lambda runtime).
 */
export async function superviseEvent(
  config: StandaloneConfig,
  eventBytes: Buffer,
  store: ObjectStore,
  options: { logger: Logger; mirror: NodeJS.WritableStream | null; signal?: AbortSignal },
): Promise<StandaloneRun> {
  const event = parseEvent(eventBytes.toString('utf8'));
  const root = await mkdtemp(join(config.workRoot ?? tmpdir(), 'nubes-job-'));
  const dispose = () => rm(root, { recursive: true, force: true });
  try {
    const workDir = join(root, 'work');
    const logPath = join(root, 'job.log');
    await mkdir(workDir);
    let bodyPath: string | null = null;
    if (event.kind === 'http') {
      bodyPath = join(root, 'body');
      await writeFile(bodyPath, eventBytes);
    }
    const invocation: Invocation = {
      jobId: config.jobId ?? newJobId(config.service.name),
      service: config.service,
      kind: event.kind,
      event: event.kind === 'storage' ? event.event : eventBytes.toString('utf8'),
      input:
        event.kind === 'storage'
          ? {
              provider: event.provider,
              bucket: event.bucket,
              key: event.key,
              eventTimeIso: event.eventTimeIso,
            }
          : null,
      bodyPath,
      workDir,
      logPath,
      signal: options.signal ?? new AbortController().signal,
    };
    const result = await runSupervised(invocation, {
      store,
      runScript: createPlainRunner({
        mirror: options.mirror,
        sandbox: await usableSandbox(config, logPath, options.mirror),
      }),
      logger: options.logger,
    });
    const log = await readFile(logPath, 'utf8').catch(() => '');
    return { result, log, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/**
 * The store of `minio.default`: made on first use (a job with no input and no outputs never loads the
 * SDK), or a stand-in that fails clearly when no endpoint is configured.
 */
export function openStore(config: StandaloneConfig, createStore: StoreFactory): ObjectStore {
  const s3 = config.s3;
  return s3 === null ? unreachableStore() : lazyStore(() => createStore(s3));
}

/** Runs one invocation end to end; resolves with the process exit code. */
export async function runStandalone(io: StandaloneIo, createStore: StoreFactory): Promise<number> {
  let store: ObjectStore | null = null;
  let run: StandaloneRun | null = null;
  try {
    const config = loadStandaloneConfig(io.env);
    const eventBytes = await readAll(io.stdin);
    store = openStore(config, createStore);
    run = await superviseEvent(config, eventBytes, store, {
      logger: io.logger,
      mirror: io.stderr,
      ...(io.signal === undefined ? {} : { signal: io.signal }),
    });
    // Behind OpenFaaS's classic watchdog (a Knative pod), a caller that asks for it (the header
    // X-Nubes-Answer: json, given to this process as Http_X_Nubes_Answer) gets the whole answer as JSON:
    // the result, the log and the output files. Others get OSCAR's response.
    if (io.env.Http_X_Nubes_Answer === 'json') {
      io.stdout.write(JSON.stringify(await buildRemoteAnswer(run, true)));
      return 0;
    }
    const { result, log } = run;
    const response = await buildSyncResponse(result, log, { raw: config.rawResponse });
    if (result.status === 'failed') {
      io.logger.error({ error: result.error }, 'job failed');
    } else {
      io.stdout.write(response.body);
    }
    if (config.resultLine) io.stderr.write(`\n${formatResultLine(result)}`);
    if (config.resultFile !== null) await writeResultFile(config.resultFile, result);
    return exitCodeOf(result);
  } catch (thrown) {
    const error = toPlatformError(thrown);
    io.logger.error({ error: error.toData() }, 'supervisor failed');
    // Even a supervisor that could not start the job reports why, when it knows where to.
    const resultFile = io.env.NUBES_RESULT_FILE;
    if (resultFile !== undefined && resultFile.startsWith('/')) {
      const now = Date.now();
      await writeResultFile(resultFile, {
        status: 'failed',
        exitCode: null,
        termSignal: null,
        error: error.toData(),
        outputs: [],
        outputFiles: [],
        outputDir: '',
        startedMs: now,
        finishedMs: now,
      }).catch(() => undefined);
    }
    return 1;
  } finally {
    await run?.dispose();
    await store?.close().catch(() => undefined);
  }
}

/** The process exit code for a result: the script's own, 128+signal, 124 for a timeout, 1 otherwise. */
export function exitCodeOf(result: InvocationResult): number {
  if (result.status === 'succeeded') return 0;
  if (result.error?.code === 'JOB_TIMEOUT') return TIMEOUT_EXIT_CODE;
  if (result.exitCode !== null) return result.exitCode === 0 ? 1 : result.exitCode;
  if (result.termSignal !== null) {
    const number = (osConstants.signals as Record<string, number | undefined>)[result.termSignal];
    if (number !== undefined) return 128 + number;
  }
  return 1;
}

/** Writes the result line aside and renames it into place, so that a watcher never reads half of it. */
async function writeResultFile(path: string, result: InvocationResult): Promise<void> {
  const partial = `${path}.partial`;
  await writeFile(partial, formatResultLine(result), { mode: 0o600 });
  await rename(partial, path);
}

/** A store that is created by its first call (and closed only if it was). */
function lazyStore(create: () => Promise<ObjectStore>): ObjectStore {
  let made: Promise<ObjectStore> | null = null;
  const get = (): Promise<ObjectStore> => (made ??= create());
  return new Proxy({} as ObjectStore, {
    get(_target, property: keyof ObjectStore) {
      if (property === 'close')
        return () => (made === null ? Promise.resolve() : made.then((s) => s.close()));
      return (...args: unknown[]) =>
        get().then((store) => (store[property] as (...a: unknown[]) => unknown).apply(store, args));
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** Stands in when no S3 endpoint is configured: a job that needs storage fails with a clear message. */
function unreachableStore(): ObjectStore {
  const fail = (): Promise<never> =>
    Promise.reject(
      new PlatformError(
        'STORAGE_UNREACHABLE',
        'no object store configured: set NUBES_S3_ENDPOINT and its keys',
      ),
    );
  return {
    createBucket: fail,
    ensureBucket: fail,
    headBucket: fail,
    listBuckets: fail,
    deleteBucket: fail,
    updateBucket: fail,
    copy: fail,
    put: fail,
    get: fail,
    head: fail,
    list: fail,
    delete: fail,
    localPath: fail,
    close: () => Promise.resolve(),
  };
}
