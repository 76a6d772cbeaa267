/**
 * @module s3api/scoped-keys
 * Short-lived S3 keys for one job running on another machine (a Slurm node, a pod): the key may read only
 * the named input objects and write only under the named output prefixes, expires on its own, and is
 * revoked when the job ends. The keys live in this process's memory only: a restarted server runs its
 * queued jobs again with fresh keys, and the old ones are gone with the old process.
 */
import { newAccessKeyId, randomSecret, type Clock } from '../core/index.js';
import type { ObjectScope, ScopedKey, ScopedKeyIssuer } from '../storage/index.js';

export type { ObjectScope, ScopedKey, ScopedKeyIssuer };

interface Entry {
  secretKey: string;
  scope: ObjectScope;
  expiresMs: number;
}

/** Prefix of every scoped key id, so a log reader tells them from users' keys at a glance. */
const SCOPED_KEY_PREFIX = 'NJ';

export class ScopedKeys implements ScopedKeyIssuer {
  private readonly keys = new Map<string, Entry>();

  constructor(private readonly clock: Clock) {}

  issue(scope: ObjectScope, ttlMs: number): ScopedKey {
    this.sweep();
    const accessKeyId = `${SCOPED_KEY_PREFIX}${newAccessKeyId().slice(SCOPED_KEY_PREFIX.length)}`;
    const secretAccessKey = randomSecret(30);
    const expiresMs = this.clock.now() + ttlMs;
    this.keys.set(accessKeyId, { secretKey: secretAccessKey, scope: cloneScope(scope), expiresMs });
    return { accessKeyId, secretAccessKey, expiresMs };
  }

  revoke(accessKeyId: string): void {
    this.keys.delete(accessKeyId);
  }

  /** The secret and scope of a live key; null for unknown, revoked and expired keys. */
  resolve(accessKeyId: string): { secretKey: string; scope: ObjectScope } | null {
    const entry = this.keys.get(accessKeyId);
    if (entry === undefined) return null;
    if (entry.expiresMs <= this.clock.now()) {
      this.keys.delete(accessKeyId);
      return null;
    }
    return { secretKey: entry.secretKey, scope: entry.scope };
  }

  /** Keys currently live (expired ones not counted). */
  get size(): number {
    this.sweep();
    return this.keys.size;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [id, entry] of this.keys) if (entry.expiresMs <= now) this.keys.delete(id);
  }
}

/**
 * Whether a request under `scope` may go ahead: reads of the listed objects, and uploads (single PUT,
 * multipart create/part/complete/abort) under the listed prefixes. Nothing else: no listing, no bucket
 * operations, no deletes, no copies (a copy would read an object the scope does not name).
 */
export function scopeAllows(
  scope: ObjectScope,
  request: {
    method: string;
    bucket: string | null;
    key: string | null;
    params: Map<string, string>;
    copySource: boolean;
  },
): boolean {
  const { method, bucket, key, params } = request;
  if (bucket === null || key === null) return false;
  if (method === 'GET' || method === 'HEAD') {
    if (params.has('uploadId')) return false;
    return scope.read.some((entry) => entry.bucket === bucket && entry.key === key);
  }
  const writable = scope.write.some((entry) => entry.bucket === bucket && key.startsWith(entry.prefix));
  if (!writable || request.copySource) return false;
  if (method === 'PUT' || method === 'POST') return true;
  // Aborting one's own multipart upload; deleting objects is not an upload.
  return method === 'DELETE' && params.has('uploadId');
}

function cloneScope(scope: ObjectScope): ObjectScope {
  return {
    read: scope.read.map((entry) => ({ ...entry })),
    write: scope.write.map((entry) => ({ ...entry })),
  };
}
