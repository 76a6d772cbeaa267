/**
 * @module test/executors/kubernetes/kube-fixture
 * The Kubernetes executor against the in-test API server, with the platform's real S3 endpoint for the
 * pods' supervisor to stage through: what the Kubernetes tests and the contract run share.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/core/index.js';
import type { Executor } from '../../../src/executors/executor.js';
import { kubernetesExecutorConfigSchema } from '../../../src/executors/kubernetes/index.js';
import { createKubernetesExecutor } from '../../../src/executors/kubernetes/kubernetes-executor.js';
import { ACCESS_KEY_ID, SECRET_KEY, startS3Fixture, type S3Fixture } from '../../s3api/s3-fixture.js';
import { FakeKubeApi } from './fake-kube-api.js';
import { processKubelet, writeSupervisorWrapper } from './process-kubelet.js';

export const NAMESPACE = 'nubes-test';

export interface KubeFixture {
  api: FakeKubeApi;
  s3: S3Fixture;
  dir: string;
  kubeconfigPath: string;
  supervisorPath: string;
  /** Creates an executor on this fixture; `overrides` are merged into its raw configuration. */
  executor(overrides?: Record<string, unknown>): Promise<Executor>;
  close(): Promise<void>;
}

export async function startKubeFixture(): Promise<KubeFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-kube-'));
  const api = new FakeKubeApi(processKubelet());
  await api.start();
  const s3 = await startS3Fixture();
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, api.kubeconfig());
  const supervisorPath = await writeSupervisorWrapper(dir);
  return {
    api,
    s3,
    dir,
    kubeconfigPath,
    supervisorPath,
    executor(overrides = {}) {
      const config = kubernetesExecutorConfigSchema.parse({
        kubeconfig: kubeconfigPath,
        namespace: NAMESPACE,
        pollIntervalMs: 50,
        initialBackoffMs: 10,
        imagePullPolicy: 'IfNotPresent',
        supervisor: { image: 'registry.example/nubes/supervisor:1', path: supervisorPath },
        storage: { endpoint: s3.url, accessKey: ACCESS_KEY_ID, secretKey: SECRET_KEY },
        ...overrides,
      });
      return createKubernetesExecutor({ config, logger: silentLogger() });
    },
    async close() {
      await api.close();
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
