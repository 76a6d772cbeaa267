/**
 * @module supervisor/sync-response
 * The answer of a synchronous call, by OSCAR's rules: one output file -> that file in base64; several ->
 * a zip of them all, in base64; none -> the script's output. Nubes addition, the raw mode (`/run?raw=true`):
 * the same choice, but the bytes themselves with a content type (the file's, `application/zip`, text).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ZipFile } from 'yazl';
import type { ErrorData } from '../core/index.js';
import type { InvocationResult } from '../executors/executor.js';
import { contentTypeOf } from './content-type.js';

export interface SyncResponseOptions {
  /** Answer bytes with their content type instead of OSCAR's base64. @default false */
  raw?: boolean;
}

/** The answer of a sync call, and what the caller needs when the job failed instead. */
export interface SyncResponse {
  /** The job failed: the caller answers an error carrying `error`, `exitCode` and `log`. */
  failed: boolean;
  exitCode: number | null;
  error: ErrorData | null;
  /** The job's log (the script's stdout and stderr). */
  log: string;
  /** Which rule produced the body. */
  source: 'file' | 'zip' | 'log';
  contentType: string;
  body: Buffer;
}

const TEXT = 'text/plain; charset=utf-8';

/** Builds the answer while the output files still exist (before the work folder is removed). */
export async function buildSyncResponse(
  result: InvocationResult,
  logText: string,
  options: SyncResponseOptions = {},
): Promise<SyncResponse> {
  const base = {
    failed: result.status === 'failed',
    exitCode: result.exitCode,
    error: result.error,
    log: logText,
  };
  if (base.failed || result.outputFiles.length === 0) {
    return { ...base, source: 'log', contentType: TEXT, body: Buffer.from(logText) };
  }
  const raw = options.raw === true;
  const [single] = result.outputFiles;
  if (result.outputFiles.length === 1 && single !== undefined) {
    const data = await readFile(join(result.outputDir, single));
    return raw
      ? { ...base, source: 'file', contentType: contentTypeOf(single), body: data }
      : { ...base, source: 'file', contentType: TEXT, body: Buffer.from(data.toString('base64')) };
  }
  const zip = await zipFiles(result.outputDir, result.outputFiles);
  return raw
    ? { ...base, source: 'zip', contentType: 'application/zip', body: zip }
    : { ...base, source: 'zip', contentType: TEXT, body: Buffer.from(zip.toString('base64')) };
}

/** A zip of the given files (names relative to `dir`, kept as entry names). */
export async function zipFiles(dir: string, names: string[]): Promise<Buffer> {
  const zip = new ZipFile();
  for (const name of names) zip.addFile(join(dir, name), name);
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
    zip.on('error', reject);
  });
  zip.end();
  return done;
}
