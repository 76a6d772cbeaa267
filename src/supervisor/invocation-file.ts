/**
 * @module supervisor/invocation-file
 * One invocation written to a file for the standalone supervisor, for hosts that start many supervisors
 * from one submission (a Slurm job array: each task finds its own file by its index). The file replaces
 * stdin and the per-job environment: `env` holds the variables standalone-config.ts reads (the service in
 * FUNCTION_CONFIG, the job's S3 key, JOB_UUID…), `event` the event. It holds secrets: its writer makes it
 * readable by the job's user alone (mode 0600).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PlatformError } from '../core/index.js';

export interface InvocationFile {
  /** Environment variables for the supervisor, on top of its own environment. */
  env: Record<string, string>;
  /** The event, as the supervisor would read it on stdin. */
  event: string;
}

const invocationFileSchema = z
  .object({
    version: z.literal(1),
    env: z.record(z.string()),
    event: z.string(),
  })
  .strict();

/** The file's content for `file`. */
export function formatInvocationFile(file: InvocationFile): string {
  return JSON.stringify({ version: 1, env: file.env, event: file.event });
}

/** Reads and validates an invocation file; CONFIG_INVALID when it is missing or malformed. */
export async function readInvocationFile(path: string): Promise<InvocationFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PlatformError('CONFIG_INVALID', `cannot read the invocation file ${path}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PlatformError('CONFIG_INVALID', `the invocation file ${path} is not JSON`, { cause: error });
  }
  const checked = invocationFileSchema.safeParse(parsed);
  if (!checked.success) {
    const issues = checked.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new PlatformError('CONFIG_INVALID', `invalid invocation file ${path}: ${issues.join('; ')}`);
  }
  return { env: checked.data.env, event: checked.data.event };
}
