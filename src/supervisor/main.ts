#!/usr/bin/env node
/**
 * @module supervisor/main
 * Entry point of the standalone supervisor: `node dist/src/supervisor/main.js < event.json`.
 * See standalone.ts for what it does and standalone-config.ts for the environment it reads.
 */
import { Readable } from 'node:stream';
import { createLogger } from '../core/index.js';
import { readInvocationFile } from './invocation-file.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { S3Settings } from './standalone-config.js';
import { runStandalone } from './standalone.js';

/** Loads the S3 store only when a job needs one (createS3ObjectStore itself loads the AWS SDK lazily). */
async function createS3Store(settings: S3Settings): Promise<ObjectStore> {
  const { createS3ObjectStore } = await import('../storage/index.js');
  return createS3ObjectStore({ ...settings, forcePathStyle: true });
}

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
process.exitCode = await runStandalone(
  { stdin, stdout: process.stdout, stderr: process.stderr, env, logger },
  createS3Store,
);
