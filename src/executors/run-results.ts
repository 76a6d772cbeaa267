/**
 * @module executors/run-results
 * Small pieces every remote executor (Kubernetes, Lambda, Batch) needs around a run: the result of a run
 * that failed before it produced anything, its log file, and a wait that ends early when the run is
 * cancelled or the executor closes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ErrorData } from '../core/index.js';
import type { InvocationResult } from './executor.js';

/** A run that failed with `error`, without outputs. */
export function failedRun(startedMs: number, exitCode: number | null, error: ErrorData): InvocationResult {
  return {
    status: 'failed',
    exitCode,
    termSignal: null,
    error,
    outputs: [],
    outputFiles: [],
    outputDir: '',
    startedMs,
    finishedMs: Date.now(),
  };
}

/** Writes (or appends to) a run's log file, creating its folder. */
export async function writeRunLog(path: string, text: string, append = false): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text, append ? { flag: 'a' } : undefined);
}

/** Waits `ms`, or less when `signal` aborts; never rejects, so a poll loop checks the signal itself. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
