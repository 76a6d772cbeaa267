/**
 * @module s3api/scoped-keys
 * Short-lived S3 keys for one job running on another machine (a Slurm node, a pod): the key may read only
 * the named input objects and write only under the named output prefixes, expires on its own, and is
 * revoked when the job ends. With a state store they are also kept there (the secret sealed, as the
 * other secrets are), so that a job still running on its node when the server restarts can still stage its
 * outputs out until the key expires; without one they live in this process's memory only. Writes to the
 * store wait for the end of the current tick and go as one transaction (a burst of 500 jobs costs one
 * commit, not 500): a job is submitted to its node well after that, so none runs with an unsaved key.
 * Revocations take effect in memory at once; their writes are committed without a sync of their own
 * (see withRelaxedSync: they survive a killed process, and the next new key's commit syncs them), so the
 * end of each job costs no wait for the disk.
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { newAccessKeyId, randomSecret, type Clock } from '../core/index.js';
import { withRelaxedSync, type Db } from '../state/index.js';
import type { ObjectScope, ScopedKey, ScopedKeyIssuer } from '../storage/index.js';

export type { ObjectScope, ScopedKey, ScopedKeyIssuer };

interface Entry {
  secretKey: string;
  scope: ObjectScope;
  expiresMs: number;
}

/** Prefix of every scoped key id, so a log reader tells them from users' keys at a glance. */
const SCOPED_KEY_PREFIX = 'NJ';

/** Where keys are kept across restarts: the state store and the box that seals their secrets. */
export interface ScopedKeyPersistence {
  db: Db;
  box: { seal(plaintext: string): string; open(sealed: string): string };
}

const storedScopeSchema = z.object({
  read: z.array(z.object({ bucket: z.string(), key: z.string() })),
  write: z.array(z.object({ bucket: z.string(), prefix: z.string() })),
});

export class ScopedKeys implements ScopedKeyIssuer {
  private readonly keys = new Map<string, Entry>();
  /** Store writes of this tick: a key to save (its entry) or to delete (null), by id. */
  private readonly pending = new Map<string, Entry | null>();
  private flushing = false;
  /** The earliest expiry among the keys: sweeps before it have nothing to do (a burst issues hundreds). */
  private nextExpiryMs = Infinity;
  /** The store's statements, prepared once. */
  private readonly statements: { insert: Database.Statement; remove: Database.Statement } | null;

  /** With `persistence`, the keys still live in the store are loaded (expired ones deleted). */
  constructor(
    private readonly clock: Clock,
    private readonly persistence: ScopedKeyPersistence | null = null,
  ) {
    this.statements =
      persistence === null
        ? null
        : {
            insert: persistence.db.prepare(
              'INSERT OR REPLACE INTO scoped_keys (access_key_id, secret, scope, expires_at) VALUES (?, ?, ?, ?)',
            ),
            remove: persistence.db.prepare('DELETE FROM scoped_keys WHERE access_key_id = ?'),
          };
    if (persistence === null) return;
    persistence.db.prepare('DELETE FROM scoped_keys WHERE expires_at <= ?').run(clock.now());
    const rows = persistence.db
      .prepare('SELECT access_key_id, secret, scope, expires_at FROM scoped_keys')
      .all() as { access_key_id: string; secret: string; scope: string; expires_at: number }[];
    for (const row of rows) {
      try {
        const scope = storedScopeSchema.parse(JSON.parse(row.scope));
        const secretKey = persistence.box.open(row.secret);
        this.keys.set(row.access_key_id, { secretKey, scope, expiresMs: row.expires_at });
        this.nextExpiryMs = Math.min(this.nextExpiryMs, row.expires_at);
      } catch {
        // Damaged, or sealed under another secrets key: the key is dropped (its job fails to stage), not
        // the server's start.
        this.save(row.access_key_id, null);
      }
    }
  }

  issue(scope: ObjectScope, ttlMs: number): ScopedKey {
    this.sweep();
    const accessKeyId = `${SCOPED_KEY_PREFIX}${newAccessKeyId().slice(SCOPED_KEY_PREFIX.length)}`;
    const secretAccessKey = randomSecret(30);
    const expiresMs = this.clock.now() + ttlMs;
    const entry = { secretKey: secretAccessKey, scope: cloneScope(scope), expiresMs };
    this.keys.set(accessKeyId, entry);
    this.nextExpiryMs = Math.min(this.nextExpiryMs, expiresMs);
    this.save(accessKeyId, entry);
    return { accessKeyId, secretAccessKey, expiresMs };
  }

  revoke(accessKeyId: string): void {
    if (this.keys.delete(accessKeyId)) this.save(accessKeyId, null);
  }

  /** Writes what this tick changed now (also called by the next tick on its own). */
  flush(): void {
    this.flushing = false;
    const { persistence, statements } = this;
    if (persistence === null || statements === null || this.pending.size === 0) return;
    const changes = [...this.pending];
    this.pending.clear();
    const write = persistence.db.transaction(() => {
      for (const [id, entry] of changes) {
        if (entry === null) statements.remove.run(id);
        else
          statements.insert.run(
            id,
            persistence.box.seal(entry.secretKey),
            JSON.stringify(entry.scope),
            entry.expiresMs,
          );
      }
    });
    // A new key must be on disk before its job can reach a node; revocations alone need no sync.
    if (changes.some(([, entry]) => entry !== null)) write();
    else withRelaxedSync(persistence.db, () => write());
  }

  private save(accessKeyId: string, entry: Entry | null): void {
    if (this.persistence === null) return;
    this.pending.set(accessKeyId, entry);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      try {
        this.flush();
      } catch {
        // The keys still work from memory; only a restart before the next write would lose them.
      }
    });
  }

  /** The secret and scope of a live key; null for unknown, revoked and expired keys. */
  resolve(accessKeyId: string): { secretKey: string; scope: ObjectScope } | null {
    const entry = this.keys.get(accessKeyId);
    if (entry === undefined) return null;
    if (entry.expiresMs <= this.clock.now()) {
      this.revoke(accessKeyId);
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
    if (now < this.nextExpiryMs) return;
    this.nextExpiryMs = Infinity;
    for (const [id, entry] of this.keys) {
      if (entry.expiresMs > now) {
        this.nextExpiryMs = Math.min(this.nextExpiryMs, entry.expiresMs);
        continue;
      }
      this.keys.delete(id);
      this.save(id, null);
    }
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
