/**
 * @module cli/storage-client
 * A service's files, read and written straight through S3 as oscar-cli does: `minio.default` with the
 * credentials GET /system/config hands out, or a provider the service itself defines (`minio.<id>`,
 * `s3.<id>`). The AWS SDK is imported on first use.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Agent } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { PlatformError } from '../core/index.js';
import type { ApiClient } from './api-client.js';
import type { Service } from './api-schemas.js';
import { countingStream, type ProgressSink } from './progress.js';

/** Where a provider is and how to sign for it. */
export interface ProviderAccess {
  /** undefined for AWS S3 itself. */
  endpoint: string | undefined;
  verifyTls: boolean;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/** A `bucket/key…` path split in two. */
export interface RemotePath {
  bucket: string;
  key: string;
}

/** An object in a listing. */
export interface RemoteObject {
  path: string;
  size: number;
  lastModified: Date | undefined;
}

/** The provider every service's own store answers to. */
export const DEFAULT_PROVIDER = 'minio.default';

/** `minio` alone means `minio.default`, as in OSCAR. */
export function normalizeProvider(provider: string): string {
  const trimmed = provider.trim();
  return trimmed === 'minio' ? DEFAULT_PROVIDER : trimmed;
}

/** Whether an argument names a storage provider (`minio`, `minio.x`, `s3.x`, …) rather than a path. */
export function looksLikeProvider(value: string): boolean {
  if (value === 'minio') return true;
  const match = /^(minio|s3|onedata|webdav)\.([^/]+)$/.exec(value);
  return match !== null;
}

/** Splits `bucket/folder/file` into bucket and key (leading and trailing slashes ignored). */
export function splitRemotePath(path: string): RemotePath {
  const trimmed = path.trim().replace(/^\/+/, '');
  const slash = trimmed.indexOf('/');
  const bucket = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const key = slash < 0 ? '' : trimmed.slice(slash + 1);
  if (bucket === '')
    throw new PlatformError('VALIDATION_FAILED', `remote path "${path}" has no bucket`, {
      details: { hint: 'write it as BUCKET/FOLDER/FILE' },
    });
  return { bucket, key };
}

/** The credentials for `provider` as seen by this service. */
export async function providerAccess(
  client: ApiClient,
  service: Service,
  provider: string,
): Promise<ProviderAccess> {
  const name = normalizeProvider(provider);
  if (name === DEFAULT_PROVIDER) {
    const { minio_provider: minio } = await client.systemConfig();
    return {
      endpoint: minio.endpoint,
      verifyTls: minio.verify,
      region: minio.region,
      credentials: { accessKeyId: minio.access_key, secretAccessKey: minio.secret_key },
    };
  }
  const [type, id] = name.split('.', 2) as [string, string | undefined];
  const defined =
    type === 'minio' || type === 's3' ? service.storage_providers?.[type]?.[id ?? ''] : undefined;
  if (defined === undefined || defined === null) {
    const supported = type === 'minio' || type === 's3';
    throw new PlatformError(
      'VALIDATION_FAILED',
      supported
        ? `service "${service.name}" defines no storage provider "${name}"`
        : `storage provider type "${type}" is not supported by the CLI`,
      {
        details: { hint: `the CLI reaches ${DEFAULT_PROVIDER} and the minio/s3 providers a service defines` },
      },
    );
  }
  return {
    endpoint: defined.endpoint ?? undefined,
    verifyTls: defined.verify ?? true,
    region: defined.region ?? 'us-east-1',
    credentials:
      defined.access_key && defined.secret_key
        ? { accessKeyId: defined.access_key, secretAccessKey: defined.secret_key }
        : undefined,
  };
}

/** An S3 client for a provider: path-style addressing, checksums only when S3 requires them (MinIO and older stores). */
export async function createS3Client(access: ProviderAccess): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    region: access.region,
    ...(access.endpoint === undefined ? {} : { endpoint: access.endpoint, forcePathStyle: true }),
    ...(access.credentials === undefined ? {} : { credentials: access.credentials }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(access.verifyTls ? {} : { requestHandler: { httpsAgent: new Agent({ rejectUnauthorized: false }) } }),
  });
}

/** Uploads a local file, reporting bytes as the body streams. */
export async function uploadFile(
  s3: S3Client,
  localPath: string,
  remote: RemotePath,
  progress: ProgressSink,
): Promise<void> {
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const { size } = await stat(localPath);
  const body = createReadStream(localPath).pipe(countingStream(progress));
  try {
    await s3.send(
      new PutObjectCommand({ Bucket: remote.bucket, Key: remote.key, Body: body, ContentLength: size }),
    );
  } catch (error) {
    throw storageError(error, remote);
  }
}

/** The size of a remote object (for a progress bar's total). */
export async function objectSize(s3: S3Client, remote: RemotePath): Promise<number | undefined> {
  const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
  try {
    return (await s3.send(new HeadObjectCommand({ Bucket: remote.bucket, Key: remote.key }))).ContentLength;
  } catch (error) {
    throw storageError(error, remote);
  }
}

/** Downloads an object to a local file, written under a temporary name and renamed when complete. */
export async function downloadFile(
  s3: S3Client,
  remote: RemotePath,
  localPath: string,
  progress: ProgressSink,
): Promise<void> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  let body: Readable;
  try {
    body = (await s3.send(new GetObjectCommand({ Bucket: remote.bucket, Key: remote.key }))).Body as Readable;
  } catch (error) {
    throw storageError(error, remote);
  }
  const partial = `${localPath}.nubes-partial`;
  try {
    await pipeline(body, countingStream(progress), createWriteStream(partial));
    await rename(partial, localPath);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** Every object under a path (the key taken as a prefix). */
export async function listObjects(s3: S3Client, remote: RemotePath): Promise<RemoteObject[]> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const objects: RemoteObject[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await s3.send(
        new ListObjectsV2Command({
          Bucket: remote.bucket,
          Prefix: remote.key || undefined,
          ContinuationToken: token,
        }),
      );
    } catch (error) {
      throw storageError(error, remote);
    }
    for (const item of page.Contents ?? []) {
      if (item.Key === undefined || item.Key.endsWith('/')) continue;
      objects.push({
        path: `${remote.bucket}/${item.Key}`,
        size: item.Size ?? 0,
        lastModified: item.LastModified,
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return objects;
}

/** The most recently modified object under a path. */
export function latestObject(objects: RemoteObject[]): RemoteObject | undefined {
  return objects.reduce<RemoteObject | undefined>((latest, object) => {
    if (latest === undefined) return object;
    return (object.lastModified?.getTime() ?? 0) > (latest.lastModified?.getTime() ?? 0) ? object : latest;
  }, undefined);
}

/** S3 failures as platform errors (S3 answers with its own error names). */
function storageError(error: unknown, remote: RemotePath): PlatformError {
  const name = (error as { name?: string }).name ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const where = `${remote.bucket}/${remote.key}`;
  if (name === 'NoSuchBucket')
    return new PlatformError('BUCKET_NOT_FOUND', `bucket "${remote.bucket}" does not exist`, {
      cause: error,
    });
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404)
    return new PlatformError('OBJECT_NOT_FOUND', `no file at ${where}`, { cause: error });
  if (
    name === 'AccessDenied' ||
    name === 'InvalidAccessKeyId' ||
    name === 'SignatureDoesNotMatch' ||
    status === 403
  ) {
    return new PlatformError('FORBIDDEN', `the storage refused access to ${where} (${name || status})`, {
      cause: error,
    });
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET' || name === 'TimeoutError') {
    return new PlatformError(
      'STORAGE_UNREACHABLE',
      `cannot reach the storage for ${where}: ${(error as Error).message}`,
      {
        cause: error,
        details: {
          hint: 'the S3 endpoint comes from GET /system/config; check that the server announces an address reachable from here',
        },
      },
    );
  }
  return new PlatformError(
    status !== undefined && status < 500 ? 'BAD_REQUEST' : 'STORAGE_UNREACHABLE',
    `storage error on ${where}: ${(error as Error).message || name}`,
    {
      cause: error,
    },
  );
}
