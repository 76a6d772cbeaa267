/**
 * @module scheduler/accounts
 * Tenants (who submit jobs, with quotas) and sites (infrastructures that run partitions). Each has its
 * own token, shown once at creation and stored only as a SHA-256 hash; there is no shared secret.
 * The admin acts as the implicit tenant `admin`.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PlatformError, randomSecret, type Clock } from '../core/index.js';
import type { Db } from '../state/index.js';

export const ADMIN_TENANT = 'admin';

export interface Tenant {
  name: string;
  maxConcurrentJobs: number;
  maxPartitions: number;
  createdAt: number;
}

export interface Site {
  name: string;
  slots: number;
  lastSeenAt: number | null;
  createdAt: number;
}

const nameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'lower-case letters, digits and dashes, at most 63, not starting with a dash',
  );

export const tenantInputSchema = z
  .object({
    name: nameSchema,
    maxConcurrentJobs: z.number().int().min(1).max(100_000).default(10),
    maxPartitions: z.number().int().min(1).max(1_000_000).default(100),
  })
  .strict();

export const siteInputSchema = z.object({ name: nameSchema }).strict();

/** SHA-256 of a token: what the tables keep. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Whether two token hashes (64 hex digits) are equal, in time that does not depend on where they differ.
 * Both sides are already SHA-256 digests, so they need no second hashing (core's safeEqual hashes its
 * inputs to compare strings of any length, which costs two digests on every partition call).
 */
export function sameTokenHash(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const SITE_TOKEN_CACHE_SIZE = 10_000;

/** Quotas of the admin's own jobs. */
const ADMIN_QUOTAS = { maxConcurrentJobs: 1_000_000, maxPartitions: 1_000_000 };

/** Tenants and sites, with token authentication. */
export class Accounts {
  /**
   * Site tokens already verified, and the site each opens: a site agent sends its token with every
   * partition call. A site's token never changes and a site is never removed (anything that changes either
   * must clear this map); unknown tokens are not remembered.
   */
  private readonly siteTokens = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  createTenant(input: z.input<typeof tenantInputSchema>): { tenant: Tenant; token: string } {
    const parsed = tenantInputSchema.parse(input);
    if (parsed.name === ADMIN_TENANT)
      throw new PlatformError('CONFLICT', 'the tenant name "admin" is reserved');
    const token = `nbt_${randomSecret(24)}`;
    const createdAt = this.clock.now();
    const info = this.db
      .prepare(
        `INSERT INTO sched_tenants (name, token_hash, max_concurrent_jobs, max_partitions, created_at)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING`,
      )
      .run(parsed.name, hashToken(token), parsed.maxConcurrentJobs, parsed.maxPartitions, createdAt);
    if (info.changes === 0) throw new PlatformError('CONFLICT', `tenant "${parsed.name}" already exists`);
    return { tenant: { ...parsed, createdAt }, token };
  }

  listTenants(): Tenant[] {
    return this.db
      .prepare<[], { name: string; max_concurrent_jobs: number; max_partitions: number; created_at: number }>(
        'SELECT name, max_concurrent_jobs, max_partitions, created_at FROM sched_tenants ORDER BY name',
      )
      .all()
      .map((row) => ({
        name: row.name,
        maxConcurrentJobs: row.max_concurrent_jobs,
        maxPartitions: row.max_partitions,
        createdAt: row.created_at,
      }));
  }

  /** The tenant holding this token, or null. */
  tenantByToken(token: string): string | null {
    const row = this.db
      .prepare<[string], { name: string }>('SELECT name FROM sched_tenants WHERE token_hash = ?')
      .get(hashToken(token));
    return row?.name ?? null;
  }

  quotas(tenant: string): { maxConcurrentJobs: number; maxPartitions: number } {
    if (tenant === ADMIN_TENANT) return ADMIN_QUOTAS;
    const row = this.db
      .prepare<[string], { max_concurrent_jobs: number; max_partitions: number }>(
        'SELECT max_concurrent_jobs, max_partitions FROM sched_tenants WHERE name = ?',
      )
      .get(tenant);
    if (!row) throw new PlatformError('NOT_FOUND', `no tenant "${tenant}"`);
    return { maxConcurrentJobs: row.max_concurrent_jobs, maxPartitions: row.max_partitions };
  }

  createSite(input: z.input<typeof siteInputSchema>): { site: Site; token: string } {
    const parsed = siteInputSchema.parse(input);
    const token = `nbs_${randomSecret(24)}`;
    const createdAt = this.clock.now();
    const info = this.db
      .prepare(
        `INSERT INTO sched_sites (name, token_hash, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING`,
      )
      .run(parsed.name, hashToken(token), createdAt);
    if (info.changes === 0) throw new PlatformError('CONFLICT', `site "${parsed.name}" already exists`);
    return { site: { name: parsed.name, slots: 0, lastSeenAt: null, createdAt }, token };
  }

  listSites(): Site[] {
    return this.db
      .prepare<[], { name: string; slots: number; last_seen_at: number | null; created_at: number }>(
        'SELECT name, slots, last_seen_at, created_at FROM sched_sites ORDER BY name',
      )
      .all()
      .map((row) => ({
        name: row.name,
        slots: row.slots,
        lastSeenAt: row.last_seen_at,
        createdAt: row.created_at,
      }));
  }

  /** Checks a site's token; UNAUTHENTICATED when it does not match the named site. */
  authenticateSite(name: string, token: string): void {
    let site = this.siteTokens.get(token);
    if (site === undefined) {
      site = this.db
        .prepare<[string], { name: string }>('SELECT name FROM sched_sites WHERE token_hash = ?')
        .get(hashToken(token))?.name;
      if (site !== undefined) {
        if (this.siteTokens.size >= SITE_TOKEN_CACHE_SIZE) this.siteTokens.clear();
        this.siteTokens.set(token, site);
      }
    }
    if (site !== name) throw new PlatformError('UNAUTHENTICATED', `wrong token for site "${name}"`);
  }

  /** A site declares its slots (registration and heartbeat). */
  touchSite(name: string, slots?: number): void {
    if (slots === undefined) {
      this.db.prepare('UPDATE sched_sites SET last_seen_at = ? WHERE name = ?').run(this.clock.now(), name);
    } else {
      this.db
        .prepare('UPDATE sched_sites SET last_seen_at = ?, slots = ? WHERE name = ?')
        .run(this.clock.now(), slots, name);
    }
  }
}
