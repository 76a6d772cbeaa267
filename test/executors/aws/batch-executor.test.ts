/**
 * @module test/executors/aws/batch-executor.test
 * The AWS Batch executor against the in-test AWS endpoint (not live): the compute environment and queue it
 * creates (and waits for), job definitions with their resources and revisions, jobs submitted and followed
 * to their end with logs from CloudWatch Logs, Batch's own timeout, its size limits, throttling, error
 * replies and malformed replies. Every request is checked against the Batch API reference's shapes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Executor } from '../../../src/executors/executor.js';
import type { ServiceSpec } from '../../../src/fdl/service-spec.js';
import { TestDataDir, makeService, readLog, waitFor } from '../helpers.js';
import { IMAGE, ROLE, rejectsWith, startAwsFixture, type AwsFixture } from './aws-fixture.js';

const MIB = 1024 * 1024;
let fixture: AwsFixture;
let data: TestDataDir;
let executor: Executor;
let counter = 0;

function service(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return makeService({
    name: `bt-${process.pid}-${++counter}`,
    executor: 'batch',
    image: IMAGE,
    script: 'echo "batch job $JOB_UUID"\n',
    ...overrides,
  });
}

function env(list: unknown): Record<string, string> {
  return Object.fromEntries((list as { name: string; value: string }[]).map((e) => [e.name, e.value]));
}

before(async () => {
  // One second of a Batch attempt duration lasts 20 ms here (Batch's minimum is 60 s).
  fixture = await startAwsFixture({ batch: { attemptSecondMs: 20 } });
  data = await TestDataDir.create();
  executor = await fixture.batchExecutor();
});

after(async () => {
  await fixture.close();
  await data.remove();
});

void describe('Batch executor: infrastructure and job definitions (in-test endpoint, not live)', () => {
  test('the first deploy creates the compute environment, waits until it is VALID, then creates the queue', async () => {
    await executor.deploy(service());
    const [environment] = fixture.aws.calls('CreateComputeEnvironment');
    assert.deepEqual(environment?.json, {
      computeEnvironmentName: 'nubes-ce',
      type: 'MANAGED',
      state: 'ENABLED',
      computeResources: {
        type: 'EC2',
        maxvCpus: 16,
        subnets: ['subnet-0123456789abcdef0'],
        securityGroupIds: ['sg-0123456789abcdef0'],
        minvCpus: 0,
        instanceTypes: ['optimal'],
        instanceRole: 'ecsInstanceRole',
      },
      tags: { 'nubes:managed': 'true' },
    });
    // The fake refuses a queue on an environment still CREATING: the queue exists, so deploy waited.
    const [queue] = fixture.aws.calls('CreateJobQueue');
    assert.deepEqual((queue?.json as { computeEnvironmentOrder: unknown }).computeEnvironmentOrder, [
      { order: 1, computeEnvironment: 'nubes-ce' },
    ]);
    await executor.deploy(service());
    assert.equal(fixture.aws.calls('CreateComputeEnvironment').length, 1);
    assert.equal(fixture.aws.calls('CreateJobQueue').length, 1);
    // Another executor finds them and creates nothing.
    const second = await fixture.batchExecutor();
    await second.deploy(service());
    assert.equal(fixture.aws.calls('CreateJobQueue').length, 1);
    assert.deepEqual(fixture.aws.invalid, []);
  });

  test('a missing queue that may not be created is CONFIG_INVALID', async () => {
    const strict = await fixture.batchExecutor({
      jobQueue: { name: 'absent-queue', create: false },
      computeEnvironment: undefined,
    });
    await assert.rejects(strict.deploy(service()), rejectsWith('CONFIG_INVALID', /absent-queue/));
  });

  test('the job definition: image, supervisor command, vCPU, memory, GPU, time limit, the service in its environment', async () => {
    const spec = service({
      cpu: 4,
      memoryBytes: 12 * 1024 * MIB,
      enableGpu: true,
      timeoutMs: 3600_000,
      secrets: { TOKEN: 'x' },
    });
    const { warnings } = await executor.deploy(spec);
    assert.deepEqual(warnings, []);
    const [register] = fixture.aws.calls('RegisterJobDefinition').slice(-1);
    const body = register?.json as Record<string, unknown> & { containerProperties: Record<string, unknown> };
    assert.equal(body.jobDefinitionName, `nubes-${spec.name}`);
    assert.equal(body.type, 'container');
    assert.equal(body.containerProperties.image, IMAGE);
    assert.deepEqual(body.containerProperties.command, [
      '/bin/sh',
      '-c',
      `printf '%s' "$EVENT" | ${fixture.dir}/nubes-supervisor`,
    ]);
    assert.deepEqual(body.containerProperties.resourceRequirements, [
      { type: 'VCPU', value: '4' },
      { type: 'MEMORY', value: '12288' },
      { type: 'GPU', value: '1' },
    ]);
    assert.equal(body.containerProperties.jobRoleArn, ROLE);
    assert.deepEqual(body.timeout, { attemptDurationSeconds: 3610 });
    assert.deepEqual(body.retryStrategy, { attempts: 1 });
    const variables = env(body.containerProperties.environment);
    assert.equal(variables.NUBES_SECRET_NAMES, 'TOKEN');
    assert.equal(variables.NUBES_RESULT_LINE, '1');
    assert.ok((variables.FUNCTION_CONFIG ?? '').length > 0);
  });

  test('redeploy registers a new revision only when something changed, and retires the older one', async () => {
    const spec = service();
    await executor.deploy(spec);
    const registered = fixture.aws.calls('RegisterJobDefinition').length;
    await executor.deploy(spec);
    assert.equal(fixture.aws.calls('RegisterJobDefinition').length, registered);
    await executor.deploy({ ...spec, memoryBytes: 512 * MIB });
    const revisions = fixture.batch.definitions.filter((d) => d.name === `nubes-${spec.name}`);
    assert.deepEqual(
      revisions.map((d) => `${d.revision}:${d.status}`),
      ['1:INACTIVE', '2:ACTIVE'],
    );
    await executor.undeploy(spec.name);
    assert.ok(
      fixture.batch.definitions
        .filter((d) => d.name === `nubes-${spec.name}`)
        .every((d) => d.status === 'INACTIVE'),
    );
  });

  test('on Fargate: fractional vCPUs as Fargate takes them, and no GPU (a warning)', async () => {
    const fargate = await fixture.batchExecutor({
      jobQueue: { name: 'fargate-jobs' },
      computeEnvironment: {
        name: 'fargate-ce',
        type: 'FARGATE',
        maxvCpus: 8,
        subnets: ['subnet-0123456789abcdef0'],
        securityGroupIds: ['sg-0123456789abcdef0'],
      },
      executionRoleArn: ROLE,
    });
    const { warnings } = await fargate.deploy(
      service({ cpu: 0.3, memoryBytes: 1024 * MIB, enableGpu: true }),
    );
    assert.ok(
      warnings.some((w) => /^enable_gpu: Fargate has no GPU/.test(w)),
      warnings.join(' | '),
    );
    const [register] = fixture.aws.calls('RegisterJobDefinition').slice(-1);
    const body = register?.json as {
      containerProperties: { resourceRequirements: unknown };
      platformCapabilities: unknown;
    };
    assert.deepEqual(body.containerProperties.resourceRequirements, [
      { type: 'VCPU', value: '0.5' },
      { type: 'MEMORY', value: '1024' },
    ]);
    assert.deepEqual(body.platformCapabilities, ['FARGATE']);
    assert.equal(fargate.capabilities.gpu, false);
    assert.deepEqual(fixture.aws.invalid, []);
  });
});

void describe('Batch executor: jobs (in-test endpoint, not live)', () => {
  test('a job is submitted with only its event and id, followed to SUCCEEDED, its log live from CloudWatch', async () => {
    const spec = service({ script: 'echo first line\nsleep 1\necho second line\n' });
    await executor.deploy(spec);
    const invocation = await data.invocation(spec, { body: '{"x":1}', event: '{"x":1}' });
    const run = executor.run(invocation);
    assert.ok(await waitFor(async () => /first line/.test(await readLog(invocation)), 10_000), 'no live log');
    assert.doesNotMatch(await readLog(invocation), /second line/);
    const result = await run;
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.match(await readLog(invocation), /first line\nsecond line/);
    assert.doesNotMatch(await readLog(invocation), /nubes-result/);
    const [submit] = fixture.aws.calls('SubmitJob').slice(-1);
    const body = submit?.json as Record<string, unknown> & { containerOverrides: { environment: unknown } };
    assert.equal(body.jobQueue, 'nubes-jobs');
    assert.equal(body.jobDefinition, `nubes-${spec.name}`);
    assert.deepEqual(env(body.containerOverrides.environment), {
      EVENT: '{"x":1}',
      JOB_UUID: invocation.jobId,
    });
    assert.ok(fixture.aws.calls('GetLogEvents').length > 0);
  });

  test("Batch's own attempt duration ends a job with JOB_TIMEOUT", async () => {
    // 70 s of service timeout + 10 s: the fake kills the attempt after 80 compressed seconds (1.6 s).
    const spec = service({ script: 'echo going\nsleep 30\n', timeoutMs: 70_000 });
    await executor.deploy(spec);
    const invocation = await data.invocation(spec, { body: '{}' });
    const result = await executor.run(invocation);
    assert.equal(result.error?.code, 'JOB_TIMEOUT', JSON.stringify(result.error));
    assert.match(result.error?.message ?? '', /attempt duration exceeded timeout/);
  });

  test('an event over the 8 KiB of container overrides is refused by Batch: BACKEND_REJECTED', async () => {
    const spec = service();
    await executor.deploy(spec);
    const big = JSON.stringify({ data: 'z'.repeat(9000) });
    await assert.rejects(
      executor.run(await data.invocation(spec, { body: big, event: big })),
      rejectsWith('BACKEND_REJECTED', /ClientException.*8192/),
    );
  });

  test('throttling is retried by the SDK, client errors are BACKEND_REJECTED, a malformed reply is refused', async () => {
    const spec = service({ script: 'true\n' });
    await executor.deploy(spec);
    const throttled = {
      status: 429,
      headers: { 'x-amzn-errortype': 'TooManyRequestsException', 'retry-after': '0' },
      body: { message: 'Too Many Requests' },
    };
    const before = fixture.aws.calls('SubmitJob').length;
    fixture.aws.inject('SubmitJob', throttled, throttled);
    const ok = await executor.run(await data.invocation(spec, { body: '{}', event: '{}' }));
    assert.equal(ok.status, 'succeeded', JSON.stringify(ok.error));
    assert.equal(fixture.aws.calls('SubmitJob').length - before, 3);

    fixture.aws.inject('SubmitJob', {
      status: 400,
      headers: { 'x-amzn-errortype': 'ClientException' },
      body: { message: 'Job Queue is DISABLED' },
    });
    await assert.rejects(
      executor.run(await data.invocation(spec, { body: '{}', event: '{}' })),
      rejectsWith('BACKEND_REJECTED', /DISABLED/),
    );
    fixture.aws.inject('DescribeJobs', {
      status: 200,
      body: { jobs: [{ jobId: 'x', jobName: 'y', status: 'EXPLODED' }] },
    });
    await assert.rejects(
      executor.run(await data.invocation(spec, { body: '{}', event: '{}' })),
      rejectsWith('BACKEND_REJECTED', /unexpected reply to DescribeJobs/),
    );
    assert.deepEqual(fixture.aws.invalid, []);
  });
});
