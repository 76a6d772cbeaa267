/**
 * @module test/executors/local.contract.test
 * The shared executor contract against the local executor (real child processes, sandbox auto).
 */
import { join } from 'node:path';
import { silentLogger } from '../../src/core/index.js';
import { createLocalExecutor } from '../../src/executors/index.js';
import { runExecutorContract, removeDir } from './executor.contract.js';
import { TestDataDir, processesWithEnv } from './helpers.js';
import { MemoryObjectStore } from './memory-store.js';

runExecutorContract({
  name: 'local',
  capabilities: { timeout: true, cancel: true, logs: true },
  async create() {
    const data = await TestDataDir.create();
    const store = new MemoryObjectStore({ filesDir: join(data.root, 'objects') });
    const executor = await createLocalExecutor({
      dataDir: data.root,
      sandbox: 'auto',
      maxConcurrentJobs: 4,
      killGraceMs: 500,
      store,
      logger: silentLogger(),
    });
    return {
      executor,
      store,
      dataDir: data.root,
      adapt: (service) => service,
      running: async (name) => (await processesWithEnv(`CONTRACT_TAG=${name}`)).map((pid) => `pid ${pid}`),
      dispose: () => removeDir(data.root),
    };
  },
});
