/**
 * @module test/executors/podman.contract.test
 * The shared executor contract against the container executor: real Podman (runc) running a busybox image
 * built here.
 */
import { join } from 'node:path';
import { silentLogger } from '../../src/core/index.js';
import { createPodmanExecutor, podmanExecutorConfigSchema } from '../../src/executors/podman/index.js';
import { buildBusyboxImage, containerToolsMissing, containersLabelled } from '../support/busybox-image.js';
import { runExecutorContract, removeDir } from './executor.contract.js';
import { TestDataDir } from './helpers.js';
import { MemoryObjectStore } from './memory-store.js';

const missing = await containerToolsMissing();
if (missing !== null) {
  console.log(
    `# skipped: the container executor contract needs podman, runc and busybox-static (${missing})`,
  );
} else {
  runExecutorContract({
    name: 'container (podman, busybox image)',
    capabilities: { timeout: true, cancel: true, logs: true },
    jobTimeoutMs: 60_000,
    async create() {
      const data = await TestDataDir.create();
      const image = await buildBusyboxImage();
      const store = new MemoryObjectStore({ filesDir: join(data.root, 'objects') });
      const executor = await createPodmanExecutor({
        ...podmanExecutorConfigSchema.parse({ maxConcurrentJobs: 4, killGraceMs: 500 }),
        store,
        logger: silentLogger(),
      });
      return {
        executor,
        store,
        dataDir: data.root,
        adapt: (service) => ({ ...service, executor: 'container', image: image.name }),
        running: (name) => containersLabelled('nubes.service', name),
        async dispose() {
          await image.remove();
          await removeDir(data.root);
        },
      };
    },
  });
}
