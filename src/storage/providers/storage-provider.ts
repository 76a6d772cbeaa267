/**
 * @module storage/providers/storage-provider
 * The contract every storage provider a service names in FDL implements (`minio.<id>`, `s3.<id>`,
 * `webdav.<id>`, `onedata.<id>`): fetch one object into a file, store one file as an object. The embedded
 * store (`minio.default`) is not a provider: the supervisor reads and writes it directly, without copies.
 *
 * Failures are PlatformErrors: a provider that cannot be reached is STORAGE_UNREACHABLE (retryable, so
 * the queue tries the job again), a refused login UNAUTHENTICATED or FORBIDDEN, a missing object
 * OBJECT_NOT_FOUND (not retryable).
 */

/** Where an object is: `bucket` is the first segment of an FDL path (a top folder for WebDAV/Onedata). */
export interface ObjectLocation {
  bucket: string;
  key: string;
}

export interface UploadSource {
  /** A regular file on this machine. */
  path: string;
  sizeBytes: number;
  contentType: string;
}

export interface StorageProvider {
  /** `<type>.<id>`, as the FDL names it. */
  readonly id: string;
  /** Writes the object's bytes into `destination`, which must not exist yet. */
  download(location: ObjectLocation, destination: string, signal?: AbortSignal): Promise<void>;
  /** Stores the file as the object at `location`, replacing any object there. */
  upload(location: ObjectLocation, source: UploadSource, signal?: AbortSignal): Promise<void>;
  /** Releases connections; the provider is not used afterwards. */
  close(): Promise<void>;
}
