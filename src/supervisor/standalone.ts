/**
 * @module supervisor/standalone
 * The supervisor as a program of its own, for hosts where Nubes is not the parent process (a container, a
 * Slurm job, Lambda): the event on stdin, the service in FUNCTION_CONFIG, storage through an S3 endpoint.
 * It runs the script unsandboxed (the host confines it), echoes the script's output to stderr as it comes
 * (the host's job log), prints the sync response on stdout and returns the script's exit code.
 * The object store is made by an injected factory, so this module does not load the AWS SDK itself.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { constants as osConstants } from 'node:os';
import type { Logger } from '../core/index.js';
import { PlatformError, newJobId, toPlatformError } from '../core/index.js';
import type { Invocation, InvocationResult } from '../executors/executor.js';
import type { ObjectStore } from '../storage/object-store.js';
import { parseEvent } from './event-parser.js';
import { createPlainRunner } from './plain-runner.js';
import { formatResultLine } from './result-line.js';
import { loadStandaloneConfig, type S3Settings } from './standalone-config.js';
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
}

/** Exit status when the job hit its time limit (as timeout(1) reports it). */
export const TIMEOUT_EXIT_CODE = 124;

/** Runs one invocation end to end; resolves with the process exit code. */
export async function runStandalone(io: StandaloneIo, createStore: StoreFactory): Promise<number> {
  let root: string | null = null;
  let store: ObjectStore | null = null;
  try {
    const config = loadStandaloneConfig(io.env);
    const eventBytes = await readAll(io.stdin);
    const event = parseEvent(eventBytes.toString('utf8'));
    store = config.s3 === null ? unreachableStore() : await createStore(config.s3);

    root = await mkdtemp(join(config.workRoot ?? tmpdir(), 'nubes-job-'));
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
      signal: new AbortController().signal,
    };
    const result = await runSupervised(invocation, {
      store,
      runScript: createPlainRunner({ mirror: io.stderr }),
      logger: io.logger,
    });
    const log = await readFile(logPath, 'utf8').catch(() => '');
    const response = await buildSyncResponse(result, log, { raw: config.rawResponse });
    if (result.status === 'failed') {
      io.logger.error({ error: result.error }, 'job failed');
    } else {
      io.stdout.write(response.body);
    }
    if (config.resultLine) io.stderr.write(`\n${formatResultLine(result)}`);
    return exitCodeOf(result);
  } catch (thrown) {
    const error = toPlatformError(thrown);
    io.logger.error({ error: error.toData() }, 'supervisor failed');
    return 1;
  } finally {
    await store?.close().catch(() => undefined);
    if (root !== null) await rm(root, { recursive: true, force: true });
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
