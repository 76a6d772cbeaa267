#!/usr/bin/env node
/**
 * @module supervisor/main
 * Entry point of the standalone supervisor: `node dist/src/supervisor/main.js < event.json`.
 * See standalone.ts for what it does and standalone-config.ts for the environment it reads.
 */
import { createLogger, PlatformError } from '../core/index.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { S3Settings } from './standalone-config.js';
import { runStandalone } from './standalone.js';

type S3StoreModule = {
  createS3ObjectStore?: (options: {
    endpoint: string;
    accessKeyId: string;
    secretAccessKey: string;
    region: string;
    forcePathStyle: boolean;
  }) => ObjectStore | Promise<ObjectStore>;
};

/**
 * Loads the S3 store only when a job needs one, keeping the AWS SDK out of the start-up path. The module is
 * named through a variable because storage/index.ts is being written alongside; once it exports
 * createS3ObjectStore this can become a plain `import()`.
 */
async function createS3Store(settings: S3Settings): Promise<ObjectStore> {
  const specifier = '../storage/index.js';
  const storage = (await import(specifier)) as S3StoreModule;
  if (typeof storage.createS3ObjectStore !== 'function') {
    throw new PlatformError('STORAGE_UNREACHABLE', 'this build has no S3 object store (createS3ObjectStore)');
  }
  return await storage.createS3ObjectStore({ ...settings, forcePathStyle: true });
}

const logger = createLogger({ name: 'supervisor', level: process.env.NUBES_LOG_LEVEL ?? 'warn' });
process.exitCode = await runStandalone(
  { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, logger },
  createS3Store,
);
