/**
 * @module test/storage/fs-store-fixture
 * A temporary database and object directory for embedded-store tests.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/state/index.js';
import { createFsObjectStore, type FsObjectStore, type StorageEventHook } from '../../src/storage/index.js';

export interface FsFixture {
  dir: string;
  rootDir: string;
  dbPath: string;
  db: Db;
  store: FsObjectStore;
  /** Every file under the object root (relative paths), the temporary folder included. */
  files(): Promise<string[]>;
  reopen(onEvent?: StorageEventHook): Promise<FsObjectStore>;
  close(): Promise<void>;
}

export async function startFsFixture(
  options: { onEvent?: StorageEventHook; rootDir?: string } = {},
): Promise<FsFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-fs-'));
  const rootDir = options.rootDir ?? join(dir, 'objects');
  const dbPath = join(dir, 'nubes.db');
  const fixture: FsFixture = {
    dir,
    rootDir,
    dbPath,
    db: openDatabase(dbPath),
    store: undefined as unknown as FsObjectStore,
    async files() {
      const entries = await readdir(rootDir, { recursive: true, withFileTypes: true });
      return entries
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath ?? entry.path, entry.name).slice(rootDir.length + 1))
        .sort();
    },
    async reopen(onEvent) {
      await fixture.store.close();
      fixture.store = await createFsObjectStore({ db: fixture.db, rootDir, ...(onEvent ? { onEvent } : {}) });
      return fixture.store;
    },
    async close() {
      await fixture.store.close();
      fixture.db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  fixture.store = await createFsObjectStore({
    db: fixture.db,
    rootDir,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  return fixture;
}
