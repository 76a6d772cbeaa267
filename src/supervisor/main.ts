#!/usr/bin/env node
/**
 * @module supervisor/main
 * Entry point of the standalone supervisor: `node dist/src/supervisor/main.js < event.json`.
 * See standalone.ts for what it does and standalone-config.ts for the environment it reads.
 */
import { Readable } from 'node:stream';
import { createLogger } from '../core/index.js';
import { readInvocationFile } from './invocation-file.js';
import { createS3Store } from './s3-store-factory.js';
import { runStandalone } from './standalone.js';

// The job's log is the user's: the AWS SDK's notice about its future Node versions does not belong there.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const logger = createLogger({ name: 'supervisor', level: process.env.NUBES_LOG_LEVEL ?? 'warn' });
// A Slurm array task reads its invocation from a file (NUBES_INVOCATION_FILE) instead of stdin and env.
const fromFile = process.env.NUBES_INVOCATION_FILE;
let env: Record<string, string | undefined> = process.env;
let stdin: Readable = process.stdin;
if (fromFile !== undefined) {
  try {
    const file = await readInvocationFile(fromFile);
    env = { ...process.env, ...file.env };
    stdin = Readable.from([Buffer.from(file.event)]);
  } catch (error) {
    logger.error({ err: error }, 'cannot read the invocation file');
    process.exit(1);
  }
}
// Slurm stops a job (scancel, its time limit) with SIGTERM to every process of it, SIGKILL KillWait later:
// the script is stopped as a cancelled job and its folder removed in between.
const stopped = new AbortController();
for (const name of ['SIGTERM', 'SIGINT'] as const) process.once(name, () => stopped.abort());
process.exitCode = await runStandalone(
  { stdin, stdout: process.stdout, stderr: process.stderr, env, logger, signal: stopped.signal },
  createS3Store,
);
