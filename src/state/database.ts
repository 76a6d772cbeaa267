/**
 * @module state/database
 * Opens the platform's SQLite database (better-sqlite3) in WAL mode with full fsync on commit, and applies
 * migrations. One connection per process: better-sqlite3 is synchronous, so a transaction never interleaves
 * with another in the same process.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PlatformError } from '../core/index.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export interface OpenDatabaseOptions {
  /** `synchronous=FULL` (default) makes every commit durable before it returns. */
  durable?: boolean;
}

export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.durable === false ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new PlatformError(
      'CONFIG_INVALID',
      `the database schema (version ${current}) is newer than this Nubes (version ${MIGRATIONS.length})`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    const sql = MIGRATIONS[version] ?? '';
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

/**
 * Runs `fn` (which commits) with `synchronous = NORMAL`, then restores FULL. In WAL mode a NORMAL commit is
 * safe against a killed process (the WAL is in the OS's cache) but not against a power cut until the next
 * FULL commit syncs the WAL. Used for job state transitions, which a lost lease or a re-run repairs; never
 * for the commit that acknowledges an upload.
 */
export function withRelaxedSync<T>(db: Db, fn: () => T): T {
  const sync = syncStatementsOf(db);
  sync.normal.run();
  try {
    return fn();
  } finally {
    sync.full.run();
  }
}

/** The two pragmas, prepared once per connection (they run around every relaxed commit). */
const syncStatements = new WeakMap<Db, { normal: Database.Statement; full: Database.Statement }>();

function syncStatementsOf(db: Db): { normal: Database.Statement; full: Database.Statement } {
  let statements = syncStatements.get(db);
  if (statements === undefined) {
    statements = {
      normal: db.prepare('PRAGMA synchronous = NORMAL'),
      full: db.prepare('PRAGMA synchronous = FULL'),
    };
    syncStatements.set(db, statements);
  }
  return statements;
}

/** `PRAGMA integrity_check`: 'ok' or the list of problems. */
export function integrityCheck(db: Db): string {
  const rows = db.pragma('integrity_check') as { integrity_check: string }[];
  return rows.map((row) => row.integrity_check).join('\n');
}
