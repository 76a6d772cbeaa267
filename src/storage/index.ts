/**
 * @module storage
 * Object storage: the ObjectStore contract, the embedded filesystem store (default) and the store over any
 * S3-compatible service, plus the key and bucket-name rules every layer shares.
 */
export type {
  BucketInfo,
  BucketVisibility,
  ContentHeaders,
  CopyOptions,
  ObjectConditions,
  ByteRange,
  GetResult,
  ListOptions,
  ListResult,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  StorageEvent,
  StorageEventHook,
  StorageEventName,
} from './object-store.js';
export { validateObjectKey, decodeObjectKey, MAX_KEY_BYTES } from './object-key.js';
export { validateBucketName } from './bucket-name.js';
export { compareKeys } from './key-order.js';
export { MAX_LIST_KEYS } from './list-keys.js';
export { createFsObjectStore, FsObjectStore, type FsObjectStoreOptions } from './fs/fs-object-store.js';
export { createS3ObjectStore, type S3ObjectStoreOptions } from './s3/s3-object-store.js';
export { checkConditions, hasConditions } from './conditions.js';
export type { ObjectScope, ScopedKey, ScopedKeyIssuer } from './scoped-access.js';
