/**
 * @module auth/user-store
 * Users, their groups, personal API tokens (only hashes kept) and per-user S3 keys (secrets sealed) in the
 * state store.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/index.js';
import { PlatformError, newAccessKeyId, randomSecret } from '../core/index.js';
import type { Db } from '../state/index.js';
import { UNLIMITED, type Quotas } from './quotas.js';
import type { SecretBox } from './secret-box.js';

export interface UserRecord {
  name: string;
  source: 'local' | 'oidc';
  admin: boolean;
  groups: string[];
  /** Limits set for this user (the rest come from the defaults). */
  quotas: Partial<Quotas>;
  createdMs: number;
}

export interface TokenInfo {
  id: string;
  user: string;
  label: string;
  createdMs: number;
  expiresMs: number | null;
  lastUsedMs: number | null;
}

interface UserRow {
  name: string;
  source: string;
  admin: number;
  quotas: string;
  created_at: number;
}

interface TokenRow {
  id: string;
  user: string;
  label: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

/** User names: OIDC subjects (`1234@egi.eu`), e-mail addresses or plain names. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;
/** Personal tokens look like `nubes_pat_<id>_<secret>` so that a leaked one is recognisable. */
export const TOKEN_PREFIX = 'nubes_pat_';

export function validateUserName(name: string): string {
  if (!USER_NAME.test(name)) {
    throw new PlatformError(
      'VALIDATION_FAILED',
      `user name "${name.slice(0, 140)}" must be 1-128 letters, digits or . _ @ + - and start with a letter or digit`,
      { details: { field: 'name' } },
    );
  }
  return name;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function toUser(row: UserRow, groups: string[]): UserRecord {
  return {
    name: row.name,
    source: row.source === 'oidc' ? 'oidc' : 'local',
    admin: row.admin === 1,
    groups,
    quotas: JSON.parse(row.quotas) as Partial<Quotas>,
    createdMs: row.created_at,
  };
}

function toToken(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    user: row.user,
    label: row.label,
    createdMs: row.created_at,
    expiresMs: row.expires_at,
    lastUsedMs: row.last_used_at,
  };
}

export class UserStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly box: SecretBox,
  ) {}

  find(name: string): UserRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM users WHERE name = ?`).get(name) as UserRow | undefined;
    if (!row) return undefined;
    return toUser(row, this.groupsOf(name));
  }

  get(name: string): UserRecord {
    const user = this.find(name);
    if (!user) throw new PlatformError('USER_NOT_FOUND', `no user named "${name}"`);
    return user;
  }

  list(): UserRecord[] {
    const rows = this.db.prepare(`SELECT * FROM users ORDER BY name`).all() as UserRow[];
    return rows.map((row) => toUser(row, this.groupsOf(row.name)));
  }

  private groupsOf(name: string): string[] {
    return (
      this.db.prepare(`SELECT grp FROM user_groups WHERE user = ? ORDER BY grp`).all(name) as {
        grp: string;
      }[]
    ).map((row) => row.grp);
  }

  /** Creates a user; USER_EXISTS when the name is taken. */
  create(input: {
    name: string;
    source: 'local' | 'oidc';
    admin?: boolean;
    groups?: string[];
    quotas?: Partial<Quotas>;
  }): UserRecord {
    validateUserName(input.name);
    const now = this.clock.now();
    this.db.transaction(() => {
      if (this.db.prepare(`SELECT 1 FROM users WHERE name = ?`).get(input.name)) {
        throw new PlatformError('USER_EXISTS', `user "${input.name}" already exists`);
      }
      this.db
        .prepare(`INSERT INTO users (name, source, admin, quotas, created_at) VALUES (?, ?, ?, ?, ?)`)
        .run(input.name, input.source, input.admin ? 1 : 0, JSON.stringify(input.quotas ?? {}), now);
      this.replaceGroups(input.name, input.groups ?? []);
    })();
    return this.get(input.name);
  }

  /** Updates the fields given; the rest stay. */
  update(
    name: string,
    changes: { admin?: boolean; groups?: string[]; quotas?: Partial<Quotas> },
  ): UserRecord {
    this.db.transaction(() => {
      const user = this.get(name);
      if (changes.admin !== undefined)
        this.db.prepare(`UPDATE users SET admin = ? WHERE name = ?`).run(changes.admin ? 1 : 0, name);
      if (changes.quotas !== undefined) {
        this.db
          .prepare(`UPDATE users SET quotas = ? WHERE name = ?`)
          .run(JSON.stringify({ ...user.quotas, ...changes.quotas }), name);
      }
      if (changes.groups !== undefined) this.replaceGroups(name, changes.groups);
    })();
    return this.get(name);
  }

  /** An OIDC user as their token describes them: created on first sight, groups refreshed. */
  upsertOidcUser(name: string, groups: string[]): UserRecord {
    const existing = this.find(name);
    if (!existing) return this.create({ name, source: 'oidc', groups });
    const same = existing.groups.length === groups.length && existing.groups.every((g) => groups.includes(g));
    if (same) return existing;
    return this.update(name, { groups });
  }

  delete(name: string): void {
    this.get(name);
    this.db.prepare(`DELETE FROM users WHERE name = ?`).run(name);
  }

  private replaceGroups(name: string, groups: string[]): void {
    this.db.prepare(`DELETE FROM user_groups WHERE user = ?`).run(name);
    const insert = this.db.prepare(`INSERT OR IGNORE INTO user_groups (user, grp) VALUES (?, ?)`);
    for (const group of groups) insert.run(name, group);
  }

  /** A new personal token; the token itself is returned once and only its hash is kept. */
  createToken(user: string, label: string, ttlMs: number | null): { token: string; info: TokenInfo } {
    this.get(user);
    const id = randomBytes(6).toString('hex');
    const token = `${TOKEN_PREFIX}${id}_${randomSecret(32)}`;
    const now = this.clock.now();
    const expires = ttlMs === null ? null : now + ttlMs;
    this.db
      .prepare(
        `INSERT INTO api_tokens (id, user, label, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(id, user, label, hashToken(token), now, expires);
    return {
      token,
      info: { id, user, label, createdMs: now, expiresMs: expires, lastUsedMs: null },
    };
  }

  listTokens(user: string): TokenInfo[] {
    const rows = this.db
      .prepare(
        `SELECT id, user, label, created_at, expires_at, last_used_at FROM api_tokens WHERE user = ? ORDER BY created_at, id`,
      )
      .all(user) as TokenRow[];
    return rows.map(toToken);
  }

  /** Revokes one of `user`'s tokens; TOKEN_NOT_FOUND when there is none with that id. */
  revokeToken(user: string, id: string): void {
    const result = this.db.prepare(`DELETE FROM api_tokens WHERE id = ? AND user = ?`).run(id, user);
    if (result.changes === 0)
      throw new PlatformError('TOKEN_NOT_FOUND', `user "${user}" has no token "${id}"`);
  }

  /** The user a personal token belongs to, or null when it is unknown, revoked or expired. */
  userOfToken(token: string): UserRecord | null {
    const row = this.db
      .prepare(`SELECT id, user, expires_at, last_used_at FROM api_tokens WHERE hash = ?`)
      .get(hashToken(token)) as
      { id: string; user: string; expires_at: number | null; last_used_at: number | null } | undefined;
    if (!row) return null;
    const now = this.clock.now();
    if (row.expires_at !== null && row.expires_at <= now) return null;
    // Recorded at most once a minute: a busy client must not turn every request into a write.
    if (row.last_used_at === null || now - row.last_used_at > 60_000)
      this.db.prepare(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`).run(now, row.id);
    return this.find(row.user) ?? null;
  }

  /** A new S3 key pair for `user`; the secret is returned once and kept sealed. */
  createS3Key(user: string): { accessKey: string; secretKey: string } {
    this.get(user);
    const accessKey = newAccessKeyId();
    const secretKey = randomSecret(30);
    this.db
      .prepare(`INSERT INTO s3_keys (access_key, user, secret_sealed, created_at) VALUES (?, ?, ?, ?)`)
      .run(accessKey, user, this.box.seal(secretKey), this.clock.now());
    return { accessKey, secretKey };
  }

  listS3Keys(user: string): { accessKey: string; createdMs: number }[] {
    return (
      this.db
        .prepare(`SELECT access_key, created_at FROM s3_keys WHERE user = ? ORDER BY created_at`)
        .all(user) as { access_key: string; created_at: number }[]
    ).map((row) => ({ accessKey: row.access_key, createdMs: row.created_at }));
  }

  deleteS3Key(user: string, accessKey: string): void {
    const result = this.db
      .prepare(`DELETE FROM s3_keys WHERE access_key = ? AND user = ?`)
      .run(accessKey, user);
    if (result.changes === 0)
      throw new PlatformError('TOKEN_NOT_FOUND', `user "${user}" has no S3 key "${accessKey}"`);
  }

  /** The holder and secret of an S3 access key (for SigV4), or null. */
  s3Secret(accessKey: string): { user: UserRecord; secretKey: string } | null {
    const row = this.db
      .prepare(`SELECT user, secret_sealed FROM s3_keys WHERE access_key = ?`)
      .get(accessKey) as { user: string; secret_sealed: string } | undefined;
    if (!row) return null;
    const user = this.find(row.user);
    return user ? { user, secretKey: this.box.open(row.secret_sealed) } : null;
  }

  /** Effective quotas of a user: their own limits over the defaults. */
  quotasOf(name: string, defaults: Quotas = UNLIMITED): Quotas {
    const user = this.find(name);
    return { ...defaults, ...(user?.quotas ?? {}) };
  }
}
