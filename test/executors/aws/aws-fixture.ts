/**
 * @module test/executors/aws/aws-fixture
 * The AWS executors against the in-test AWS endpoint (not live), with the platform's real S3 endpoint as
 * the store the functions stage through (provider `minio.default`) and as the stand-in for AWS S3 buckets
 * (`s3.*`, reached with the role credentials the fake gives each function, as Lambda does).
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlatformError, silentLogger } from '../../../src/core/index.js';
import { batchExecutorConfigSchema } from '../../../src/executors/batch/index.js';
import { createBatchExecutor } from '../../../src/executors/batch/batch-executor.js';
import type { Executor } from '../../../src/executors/executor.js';
import { lambdaExecutorConfigSchema } from '../../../src/executors/lambda/index.js';
import { createLambdaExecutor, type LambdaExecutor } from '../../../src/executors/lambda/lambda-executor.js';
import { ACCESS_KEY_ID, SECRET_KEY, startS3Fixture, type S3Fixture } from '../../s3api/s3-fixture.js';
import { FakeAws } from './fake-aws.js';
import { FakeBatch, type FakeBatchOptions } from './fake-batch.js';
import { ACCOUNT, FakeLambda, type FakeLambdaOptions } from './fake-lambda.js';
import { FakeLogs } from './fake-logs.js';
import { FakeS3Notifications } from './fake-s3-notifications.js';

export const ROLE = `arn:aws:iam::${ACCOUNT}:role/nubes-functions`;
export const IMAGE = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/nubes/busybox:1`;

export interface AwsFixture {
  aws: FakeAws;
  lambda: FakeLambda;
  batch: FakeBatch;
  logs: FakeLogs;
  s3n: FakeS3Notifications;
  s3: S3Fixture;
  dir: string;
  /** The image entry point: runs dist/src/supervisor/lambda-main.js with node. */
  entryPoint: string;
  lambdaExecutor(overrides?: Record<string, unknown>): Promise<LambdaExecutor>;
  /** A Batch executor whose queue and compute environment it creates itself (unless overridden). */
  batchExecutor(overrides?: Record<string, unknown>): Promise<Executor>;
  close(): Promise<void>;
}

export async function startAwsFixture(
  options: { lambda?: FakeLambdaOptions; batch?: FakeBatchOptions } = {},
): Promise<AwsFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-aws-'));
  const s3 = await startS3Fixture();
  const aws = new FakeAws();
  const logs = new FakeLogs();
  const lambda = new FakeLambda(logs, {
    roleCredentials: {
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_KEY,
      sessionToken: 'role-session-token',
    },
    ...options.lambda,
  });
  const s3n = new FakeS3Notifications(lambda);
  const batch = new FakeBatch(logs, {
    roleCredentials: {
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_KEY,
      sessionToken: 'role-session-token',
    },
    ...options.batch,
  });
  aws.register('batch', batch);
  aws.register('lambda', lambda);
  aws.register('logs', logs);
  aws.register('s3', s3n);
  await aws.start();
  const entryPoint = join(dir, 'nubes-lambda');
  const main = join(process.cwd(), 'dist', 'src', 'supervisor', 'lambda-main.js');
  await writeFile(entryPoint, `#!/bin/sh\nexec "${process.execPath}" "${main}"\n`);
  await chmod(entryPoint, 0o755);
  const supervisorPath = join(dir, 'nubes-supervisor');
  const supervisorMain = join(process.cwd(), 'dist', 'src', 'supervisor', 'main.js');
  await writeFile(supervisorPath, `#!/bin/sh\nexec "${process.execPath}" "${supervisorMain}"\n`);
  await chmod(supervisorPath, 0o755);
  const executors: Executor[] = [];
  return {
    aws,
    lambda,
    batch,
    logs,
    s3n,
    s3,
    dir,
    entryPoint,
    async lambdaExecutor(overrides = {}) {
      const config = lambdaExecutorConfigSchema.parse({
        region: 'us-east-1',
        endpoints: { lambda: aws.url, logs: aws.url, s3: aws.url },
        credentials: { accessKeyId: 'AKIDNUBESTEST', secretAccessKey: 'not-a-real-secret' },
        role: ROLE,
        entryPoint: [entryPoint],
        storage: { endpoint: s3.url, accessKey: ACCESS_KEY_ID, secretKey: SECRET_KEY },
        functionS3Endpoint: s3.url,
        logPollIntervalMs: 50,
        logGraceMs: 5000,
        ...overrides,
      });
      const executor = await createLambdaExecutor({ config, logger: silentLogger() });
      executors.push(executor);
      return executor;
    },
    async batchExecutor(overrides = {}) {
      const config = batchExecutorConfigSchema.parse({
        region: 'us-east-1',
        endpoints: { batch: aws.url, logs: aws.url },
        credentials: { accessKeyId: 'AKIDNUBESTEST', secretAccessKey: 'not-a-real-secret' },
        jobQueue: { name: 'nubes-jobs' },
        computeEnvironment: {
          name: 'nubes-ce',
          type: 'EC2',
          maxvCpus: 16,
          instanceTypes: ['optimal'],
          subnets: ['subnet-0123456789abcdef0'],
          securityGroupIds: ['sg-0123456789abcdef0'],
          instanceRole: 'ecsInstanceRole',
        },
        jobRoleArn: ROLE,
        supervisorPath,
        storage: { endpoint: s3.url, accessKey: ACCESS_KEY_ID, secretKey: SECRET_KEY },
        pollIntervalMs: 50,
        ...overrides,
      });
      const executor = await createBatchExecutor({ config, logger: silentLogger() });
      executors.push(executor);
      return executor;
    },
    async close() {
      await Promise.allSettled(executors.map((executor) => executor.close()));
      await aws.close();
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An `assert.rejects` check: a PlatformError with `code` (and a message matching `pattern`). */
export function rejectsWith(code: string, pattern?: RegExp) {
  return (error: unknown): boolean =>
    error instanceof PlatformError &&
    error.code === code &&
    (pattern === undefined || pattern.test(error.message));
}
