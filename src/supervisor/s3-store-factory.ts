/**
 * @module supervisor/s3-store-factory
 * The store of provider `minio.default` for the standalone supervisor programs (main.ts, lambda-main.ts),
 * loaded only when a job needs one (createS3ObjectStore itself loads the AWS SDK lazily).
 */
import type { ObjectStore } from '../storage/object-store.js';
import type { S3Settings } from './standalone-config.js';

export async function createS3Store(settings: S3Settings): Promise<ObjectStore> {
  const { createS3ObjectStore } = await import('../storage/index.js');
  return createS3ObjectStore({ ...settings, forcePathStyle: true });
}
