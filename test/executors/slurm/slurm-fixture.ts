/**
 * @module test/executors/slurm/slurm-fixture
 * What a Slurm executor test needs around it: a real test cluster (test/support/slurm-cluster.ts), the
 * platform's S3 endpoint over an embedded store, answering the jobs' scoped keys as the platform does,
 * and executors configured for both.
 */
import { silentLogger, systemClock } from '../../../src/core/index.js';
import { ScopedKeys } from '../../../src/s3api/index.js';
import {
  createSlurmExecutor,
  slurmExecutorConfigSchema,
  type SlurmExecutor,
} from '../../../src/executors/slurm/index.js';
import {
  ACCESS_KEY_ID,
  PRINCIPAL,
  SECRET_KEY,
  startS3Fixture,
  type S3Fixture,
} from '../../s3api/s3-fixture.js';
import { startSlurmCluster, type SlurmTestCluster } from '../../support/slurm-cluster.js';

export interface SlurmFixture {
  cluster: SlurmTestCluster;
  s3: S3Fixture;
  keys: ScopedKeys;
  /** A Slurm executor for this cluster; `overrides` are raw configuration (NUBES_EXECUTORS' form). */
  executor(overrides?: Record<string, unknown>): Promise<SlurmExecutor>;
  /** Jobs of `serviceName` that Slurm has not finished, as `id state`. */
  activeJobs(serviceName: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function startSlurmFixture(
  options: { nodes?: number; cpusPerNode?: number } = {},
): Promise<SlurmFixture> {
  const cluster = await startSlurmCluster(options);
  const keys = new ScopedKeys(systemClock);
  let s3: S3Fixture;
  try {
    s3 = await startS3Fixture({
      resolveSecret: (accessKeyId) => {
        if (accessKeyId === ACCESS_KEY_ID)
          return { secretKey: SECRET_KEY, principal: PRINCIPAL, admin: true };
        const scoped = keys.resolve(accessKeyId);
        return scoped === null ? null : { secretKey: scoped.secretKey, principal: `job:${accessKeyId}` };
      },
      scopeOf: (accessKeyId) => keys.resolve(accessKeyId)?.scope ?? null,
    });
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return {
    cluster,
    s3,
    keys,
    executor(overrides = {}) {
      const config = slurmExecutorConfigSchema.parse(cluster.executorConfig(overrides));
      return createSlurmExecutor({
        config,
        dataDir: cluster.dir,
        logger: silentLogger(),
        storage: { endpoint: () => s3.url, region: 'us-east-1', keys },
      });
    },
    async activeJobs(serviceName) {
      const out = await cluster.command('squeue', [
        '-h',
        '-t',
        'PENDING,RUNNING,COMPLETING,CONFIGURING,SUSPENDED',
        `--name=nubes-${serviceName}`,
        '-o',
        '%i %T',
      ]);
      return out.stdout.split('\n').filter((line) => line.trim() !== '');
    },
    async close() {
      try {
        await s3.close();
      } finally {
        await cluster.stop();
      }
    },
  };
}
