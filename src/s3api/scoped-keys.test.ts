import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretBox } from '../auth/secret-box.js';
import { openDatabase } from '../state/index.js';
import { ScopedKeys } from './scoped-keys.js';

const scope = { read: [{ bucket: 'data', key: 'in/a b.txt' }], write: [{ bucket: 'data', prefix: 'out/' }] };

test('with a state store, live keys outlive the process that issued them; revoked and expired ones do not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-scoped-keys-'));
  try {
    let now = 1_000_000;
    const clock = { now: () => now };
    const box = createSecretBox(randomBytes(32));
    const db = openDatabase(join(dir, 'nubes.db'));
    const first = new ScopedKeys(clock, { db, box });
    const kept = first.issue(scope, 60_000);
    const revoked = first.issue(scope, 60_000);
    const short = first.issue(scope, 1_000);
    first.revoke(revoked.accessKeyId);
    first.flush();

    // The secret is sealed at rest.
    const stored = db.prepare('SELECT secret FROM scoped_keys').all() as { secret: string }[];
    assert.equal(stored.length, 2);
    for (const row of stored) {
      assert.ok(box.isSealed(row.secret));
      assert.ok(!row.secret.includes(kept.secretAccessKey));
    }

    // A restart: a new process reads the same store.
    now += 5_000;
    const second = new ScopedKeys(clock, { db, box });
    assert.deepEqual(second.resolve(kept.accessKeyId), { secretKey: kept.secretAccessKey, scope });
    assert.equal(second.resolve(revoked.accessKeyId), null);
    assert.equal(second.resolve(short.accessKeyId), null, 'expired before the restart');
    assert.equal((db.prepare('SELECT count(*) AS n FROM scoped_keys').get() as { n: number }).n, 1);

    // Revoked after the restart (the job ended): gone for the next one too.
    second.revoke(kept.accessKeyId);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(new ScopedKeys(clock, { db, box }).resolve(kept.accessKeyId), null);
    db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a stored key that cannot be opened is dropped, not the start', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-scoped-keys-'));
  try {
    const clock = { now: () => 1_000 };
    const db = openDatabase(join(dir, 'nubes.db'));
    const issued = new ScopedKeys(clock, { db, box: createSecretBox(randomBytes(32)) });
    const key = issued.issue(scope, 60_000);
    issued.flush();
    const other = new ScopedKeys(clock, { db, box: createSecretBox(randomBytes(32)) });
    assert.equal(other.resolve(key.accessKeyId), null);
    other.flush();
    assert.equal((db.prepare('SELECT count(*) AS n FROM scoped_keys').get() as { n: number }).n, 0);
    db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('without a state store, keys live in memory and expire on their own', () => {
  let now = 0;
  const keys = new ScopedKeys({ now: () => now });
  const key = keys.issue(scope, 1_000);
  assert.equal(keys.resolve(key.accessKeyId)?.secretKey, key.secretAccessKey);
  now = 1_000;
  assert.equal(keys.resolve(key.accessKeyId), null);
  assert.equal(keys.size, 0);
});
