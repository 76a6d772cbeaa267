/**
 * @module storage/providers/s3-provider
 * `minio.<id>` and `s3.<id>`: any S3-compatible service (MinIO, RustFS, Ceph RGW, AWS S3, another Nubes)
 * through the AWS SDK v3, by way of the S3 object store. Path-style addressing for every service with an
 * endpoint (self-hosted services rarely have wildcard DNS); AWS S3 itself uses virtual-hosted style.
 */
import { createWriteStream } from 'node:fs';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PlatformError } from '../../core/index.js';
import type { ObjectStore } from '../object-store.js';
import { createS3ObjectStore } from '../s3/s3-object-store.js';
import type { ObjectLocation, StorageProvider, UploadSource } from './storage-provider.js';

export interface S3ProviderSettings {
  endpoint: string | null;
  region: string;
  accessKey: string | null;
  secretKey: string | null;
  verifyTls: boolean;
}

/** Attempts per request: few, so that an unreachable service fails the job soon (the queue retries it). */
const PROVIDER_MAX_ATTEMPTS = 2;
const PROVIDER_CONNECT_TIMEOUT_MS = 5_000;

export async function createS3Provider(id: string, settings: S3ProviderSettings): Promise<StorageProvider> {
  let accessKeyId = settings.accessKey;
  let secretAccessKey = settings.secretKey;
  let sessionToken: string | undefined;
  if (accessKeyId === null || secretAccessKey === null) {
    // OSCAR's rule for S3 without keys: the SDK's default chain, here its environment variables. A role's
    // keys (a Lambda function's) are temporary and only valid with their session token.
    accessKeyId = process.env.AWS_ACCESS_KEY_ID ?? null;
    secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY ?? null;
    sessionToken = process.env.AWS_SESSION_TOKEN;
  }
  if (accessKeyId === null || secretAccessKey === null) {
    throw new PlatformError('CONFIG_INVALID', `storage provider ${id} has no access_key and secret_key`, {
      details: { provider: id },
    });
  }
  const store = await createS3ObjectStore({
    endpoint: settings.endpoint ?? undefined,
    region: settings.region,
    accessKeyId,
    secretAccessKey,
    ...(sessionToken === undefined || sessionToken === '' ? {} : { sessionToken }),
    forcePathStyle: settings.endpoint !== null,
    verifyTls: settings.verifyTls,
    maxAttempts: PROVIDER_MAX_ATTEMPTS,
    connectionTimeoutMs: PROVIDER_CONNECT_TIMEOUT_MS,
  });
  return new S3Provider(id, store);
}

class S3Provider implements StorageProvider {
  constructor(
    readonly id: string,
    private readonly store: ObjectStore,
  ) {}

  async download(location: ObjectLocation, destination: string): Promise<void> {
    const { body } = await this.store.get(location.bucket, location.key).catch((error: unknown) => {
      throw named(this.id, error);
    });
    await pipeline(body, createWriteStream(destination, { flags: 'wx' }));
  }

  async upload(location: ObjectLocation, source: UploadSource): Promise<void> {
    const body = createReadStream(source.path);
    try {
      await this.store.put(location.bucket, location.key, body, {
        contentType: source.contentType,
        expectedSize: source.sizeBytes,
      });
    } catch (error) {
      throw named(this.id, error);
    } finally {
      body.destroy();
    }
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** Puts the provider's id into the message, so that a job's log says which storage failed. */
function named(id: string, error: unknown): unknown {
  if (!(error instanceof PlatformError)) return error;
  return new PlatformError(error.code, `storage provider ${id}: ${error.message}`, {
    details: { provider: id, ...(isObject(error.details) ? error.details : {}) },
    retryable: error.retryable,
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
