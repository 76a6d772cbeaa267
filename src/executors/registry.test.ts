import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlatformError, silentLogger } from '../core/index.js';
import type { ObjectStore } from '../storage/object-store.js';
import { createExecutor, executorRegistry, isExecutorName } from './registry.js';

// The local executor never touches the store when it is only created and closed.
const store = {} as ObjectStore;

void test('the registry knows local, and its schema applies defaults and rejects unknown fields', () => {
  assert.ok(isExecutorName('local'));
  assert.ok(!isExecutorName('toString'));
  const parsed = executorRegistry.local.configSchema.parse({ maxConcurrentJobs: 3 });
  assert.equal(parsed.sandbox, 'auto');
  assert.equal(parsed.memoryLimit, 'auto');
  assert.equal(
    executorRegistry.local.configSchema.safeParse({ maxConcurrentJobs: 3, sandbx: 'none' }).success,
    false,
  );
});

void test('createExecutor: unknown names and invalid configs are CONFIG_INVALID, naming the field', async () => {
  const context = { dataDir: '/nonexistent', store, logger: silentLogger() };
  await assert.rejects(
    createExecutor('slurmx', {}, context),
    (error: unknown) =>
      error instanceof PlatformError && error.code === 'CONFIG_INVALID' && /known: local/.test(error.message),
  );
  await assert.rejects(
    createExecutor('local', { maxConcurrentJobs: 0 }, context),
    (error: unknown) =>
      error instanceof PlatformError &&
      error.code === 'CONFIG_INVALID' &&
      /maxConcurrentJobs/.test(error.message),
  );
});

void test('createExecutor builds the local executor from a valid config', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'nubes-registry-'));
  try {
    const executor = await createExecutor(
      'local',
      { maxConcurrentJobs: 2, sandbox: 'none' },
      { dataDir, store, logger: silentLogger() },
    );
    assert.equal(executor.name, 'local');
    assert.equal(executor.capabilities.maxConcurrency, 2);
    await executor.close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
