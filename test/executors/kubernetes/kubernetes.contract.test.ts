/**
 * @module test/executors/kubernetes/kubernetes.contract.test
 * The shared executor contract against the Kubernetes executor and an in-test API server (not a live
 * cluster): each Job's pod runs as a host process with the real supervisor, staging through the real S3
 * endpoint; timeouts are the Job's activeDeadlineSeconds, cancel and close delete the Job.
 */
import { runExecutorContract } from '../executor.contract.js';
import { TestDataDir } from '../helpers.js';
import { startKubeFixture } from './kube-fixture.js';

runExecutorContract({
  name: 'kubernetes (in-test endpoint, not live)',
  capabilities: { timeout: true, cancel: true, logs: true },
  async create() {
    const fixture = await startKubeFixture();
    const data = await TestDataDir.create();
    const executor = await fixture.executor({ pollIntervalMs: 50 });
    return {
      executor,
      store: fixture.s3.store,
      dataDir: data.root,
      adapt: (service) => ({ ...service, executor: 'kubernetes', image: 'registry.example/busybox:1' }),
      running: (name) => Promise.resolve(fixture.api.runningJobs(name)),
      async dispose() {
        await fixture.close();
        await data.remove();
      },
    };
  },
});
