/**
 * @module supervisor/result-line
 * How a standalone supervisor on another machine (a Kubernetes pod, AWS Batch, Lambda) reports its result
 * to the executor that started it: one last line in its log, `nubes-result {json}`. The log is the one
 * channel every such backend already returns (pod logs, CloudWatch Logs), so no callback into the platform
 * is needed. Only the data a remote run can report travels: paths on that machine mean nothing here.
 */
import { z } from 'zod';
import type { ErrorData } from '../core/index.js';
import { ERROR_CODES } from '../core/index.js';
import type { InvocationResult } from '../executors/executor.js';

/** Marks the result line; chosen so that no ordinary script output starts with it by chance. */
export const RESULT_LINE_PREFIX = 'nubes-result ';

/** What a remote run reports. */
export interface RemoteResult {
  status: 'succeeded' | 'failed';
  exitCode: number | null;
  termSignal: string | null;
  error: ErrorData | null;
  outputs: { provider: string; bucket: string; key: string }[];
  startedMs: number;
  finishedMs: number;
  /**
   * How long the run took, from a reporter without a wall clock (the Slurm executor's shell path), which
   * says 0 for startedMs and finishedMs; the executor dates the end itself.
   */
  durationMs?: number | null;
}

const errorCodeSchema = z
  .string()
  .refine((code): code is keyof typeof ERROR_CODES => Object.hasOwn(ERROR_CODES, code), 'unknown code');

const remoteResultSchema = z.object({
  status: z.enum(['succeeded', 'failed']),
  exitCode: z.number().int().nullable(),
  termSignal: z.string().nullable(),
  error: z
    .object({
      code: errorCodeSchema,
      message: z.string(),
      retryable: z.boolean(),
      details: z.unknown().optional(),
    })
    .nullable(),
  outputs: z.array(z.object({ provider: z.string(), bucket: z.string(), key: z.string() })),
  startedMs: z.number(),
  finishedMs: z.number(),
  durationMs: z.number().int().min(0).nullable().optional(),
});

/** The result line for `result` (ends with a newline). */
export function formatResultLine(result: InvocationResult): string {
  const remote: RemoteResult = {
    status: result.status,
    exitCode: result.exitCode,
    termSignal: result.termSignal,
    error: result.error,
    outputs: result.outputs,
    startedMs: result.startedMs,
    finishedMs: result.finishedMs,
  };
  return `${RESULT_LINE_PREFIX}${JSON.stringify(remote)}\n`;
}

/**
 * Splits a remote log into the user's log and the reported result (the last valid result line; null when
 * the supervisor never got to report, e.g. the pod was killed or the image has no supervisor).
 */
export function splitResultLine(log: string): { log: string; result: RemoteResult | null } {
  const lines = log.split('\n');
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index] ?? '';
    if (!line.startsWith(RESULT_LINE_PREFIX)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line.slice(RESULT_LINE_PREFIX.length));
    } catch {
      continue;
    }
    const checked = remoteResultSchema.safeParse(parsed);
    if (!checked.success) continue;
    lines.splice(index, 1);
    return { log: lines.join('\n'), result: checked.data };
  }
  return { log, result: null };
}
