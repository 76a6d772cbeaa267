/**
 * @module s3api
 * The S3-compatible HTTP front of an ObjectStore, and presigned URLs for it.
 */
export {
  createS3Server,
  DEFAULT_MAX_OBJECT_BYTES,
  type S3Server,
  type S3ServerOptions,
} from './s3-server.js';
export { presignUrl, type PresignOptions } from './sigv4/presign.js';
export type { SecretResolver } from './sigv4/authenticate.js';
export { S3_ERRORS, type S3ErrorCode } from './s3-errors.js';
export {
  ScopedKeys,
  scopeAllows,
  type ObjectScope,
  type ScopedKey,
  type ScopedKeyIssuer,
} from './scoped-keys.js';
