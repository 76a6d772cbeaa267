/**
 * @module storage/scoped-access
 * The shape of short-lived, narrowly scoped S3 keys for one job running on another machine (a Slurm
 * node, a pod): which objects it may read and under which prefixes it may write. The S3 endpoint
 * (s3api/scoped-keys.ts) issues and checks them; executors ask for them through this interface.
 */

/** What a scoped key may touch. */
export interface ObjectScope {
  /** Objects it may read (GET, HEAD), by exact key. */
  read: { bucket: string; key: string }[];
  /** Prefixes under which it may write objects (PUT, multipart upload). `''` is the whole bucket. */
  write: { bucket: string; prefix: string }[];
}

export interface ScopedKey {
  accessKeyId: string;
  secretAccessKey: string;
  expiresMs: number;
}

/** Issues keys limited to `scope` that expire after `ttlMs`, and revokes them early. */
export interface ScopedKeyIssuer {
  issue(scope: ObjectScope, ttlMs: number): ScopedKey;
  revoke(accessKeyId: string): void;
}
