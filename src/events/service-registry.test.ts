import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../state/index.js';
import { validateServiceJson } from '../fdl/index.js';
import { ServiceRegistry, type Sealer } from './service-registry.js';

/** Reversible and visibly different from its input: enough to see what is sealed. */
const sealer: Sealer = {
  seal: (plaintext) => `sealed:${Buffer.from(plaintext).toString('base64')}`,
  open: (sealed) => Buffer.from(sealed.slice('sealed:'.length), 'base64').toString(),
};
const clock = { now: () => 1_000 };

void test('storage provider credentials and secrets are sealed at rest and restored on load', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-registry-'));
  try {
    const db = openDatabase(join(dir, 'nubes.db'), { durable: false });
    const registry = new ServiceRegistry(db, clock, sealer);
    const json = validateServiceJson({
      name: 'svc',
      image: 'i',
      environment: { secrets: { API_KEY: 'api-secret-value' } },
      output: [{ storage_provider: 's3.lab', path: 'b/out' }],
      storage_providers: {
        s3: { lab: { endpoint: 'http://h', access_key: 'AK', secret_key: 'provider-secret-value' } },
      },
    });
    registry.save(json, { token: 't'.repeat(64), owner: 'admin', replace: false });
    const row = db.prepare(`SELECT definition, secrets_sealed FROM services`).get() as {
      definition: string;
      secrets_sealed: string;
    };
    assert.ok(!row.definition.includes('provider-secret-value'), row.definition);
    assert.ok(!row.definition.includes('api-secret-value'), row.definition);
    assert.match(row.secrets_sealed, /^sealed:/);

    const reloaded = new ServiceRegistry(db, clock, sealer).get('svc');
    assert.deepEqual(reloaded.json.storage_providers, json.storage_providers);
    assert.deepEqual(reloaded.spec.secrets, { API_KEY: 'api-secret-value' });
    assert.equal(
      (reloaded.spec.storageProviders['s3.lab'] as { secretKey: string } | undefined)?.secretKey,
      'provider-secret-value',
    );

    // A row sealed the older way (a map of secrets, providers in the definition) is read, then sealed anew.
    db.prepare(`UPDATE services SET definition = ?, secrets_sealed = ?`).run(
      JSON.stringify({ ...json, environment: {} }),
      sealer.seal(JSON.stringify({ API_KEY: 'api-secret-value' })),
    );
    const legacy = new ServiceRegistry(db, clock, sealer).get('svc');
    assert.deepEqual(legacy.spec.secrets, { API_KEY: 'api-secret-value' });
    assert.equal(
      (legacy.spec.storageProviders['s3.lab'] as { secretKey: string } | undefined)?.secretKey,
      'provider-secret-value',
    );
    const resealed = db.prepare(`SELECT definition FROM services`).get() as { definition: string };
    assert.ok(!resealed.definition.includes('provider-secret-value'));
    db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
