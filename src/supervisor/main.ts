#!/usr/bin/env node
/**
 * @module supervisor/main
 * Entry point of the standalone supervisor: `node dist/src/supervisor/main.js < event.json`.
 * See standalone.ts for what it does and standalone-config.ts for the environment it reads.
 */
import { createLogger } from '../core/index.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { S3Settings } from './standalone-config.js';
import { runStandalone } from './standalone.js';

/** Loads the S3 store only when a job needs one (createS3ObjectStore itself loads the AWS SDK lazily). */
async function createS3Store(settings: S3Settings): Promise<ObjectStore> {
  const { createS3ObjectStore } = await import('../storage/index.js');
  return createS3ObjectStore({ ...settings, forcePathStyle: true });
}

const logger = createLogger({ name: 'supervisor', level: process.env.NUBES_LOG_LEVEL ?? 'warn' });
process.exitCode = await runStandalone(
  { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, logger },
  createS3Store,
);
