import { test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/state/index.js';
import { createFsObjectStore, type StorageEvent } from '../../src/storage/index.js';
import { runObjectStoreContract } from './object-store.contract.js';

runObjectStoreContract('fs (embedded)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-fs-contract-'));
  const db = openDatabase(join(dir, 'nubes.db'), { durable: false });
  const events: StorageEvent[] = [];
  const store = await createFsObjectStore({
    db,
    rootDir: join(dir, 'objects'),
    onEvent: (event) => events.push(event),
  });
  return {
    store,
    events,
    async cleanup() {
      await store.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

test('fs store contract suite registered', () => undefined);
