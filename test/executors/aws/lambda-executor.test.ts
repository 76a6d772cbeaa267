/**
 * @module test/executors/aws/lambda-executor.test
 * The Lambda executor against the in-test AWS endpoint (not live): the requests the official SDK sends
 * (checked against the Lambda, CloudWatch Logs and S3 API references), function states and updates,
 * Lambda's limits, sync and Event invocations with the real runtime and supervisor, S3 triggers merged
 * into a bucket's existing notifications, throttling, error replies and malformed replies.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../../../src/core/index.js';
import { functionName } from '../../../src/executors/lambda/index.js';
import type { ServiceSpec } from '../../../src/fdl/service-spec.js';
import { TestDataDir, makeOutput, makeService, readLog, waitFor } from '../helpers.js';
import { IMAGE, ROLE, rejectsWith, startAwsFixture, type AwsFixture } from './aws-fixture.js';
import { ACCOUNT } from './fake-lambda.js';

const MIB = 1024 * 1024;
let fixture: AwsFixture;
let data: TestDataDir;
let counter = 0;

function service(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return makeService({
    name: `lt-${process.pid}-${++counter}`,
    executor: 'lambda',
    image: IMAGE,
    script: 'echo "hello from $JOB_UUID"\n',
    ...overrides,
  });
}

before(async () => {
  fixture = await startAwsFixture();
  data = await TestDataDir.create();
  await fixture.s3.store.ensureBucket('results');
});

after(async () => {
  await fixture.close();
  await data.remove();
});

void describe('Lambda executor: functions (in-test endpoint, not live)', () => {
  test('deploy creates a container-image function from the service and waits until it is Active', async () => {
    const executor = await fixture.lambdaExecutor();
    const spec = service({
      memoryBytes: 512 * MIB,
      timeoutMs: 30_000,
      ephemeralStorageBytes: 2048 * MIB,
      variables: { GREETING: 'hi' },
      secrets: { API_TOKEN: 's3cret' },
    });
    const result = await executor.deploy(spec);
    assert.deepEqual(result.warnings, []);
    const [create] = fixture.aws.calls('CreateFunction').slice(-1);
    const body = create?.json as Record<string, unknown>;
    assert.equal(body.FunctionName, `nubes-${spec.name}`);
    assert.equal(body.PackageType, 'Image');
    assert.deepEqual(body.Code, { ImageUri: IMAGE });
    assert.equal(body.Role, ROLE);
    assert.equal(body.MemorySize, 512);
    // The service's 30 s plus 10 s for the supervisor to stop the script, upload and report.
    assert.equal(body.Timeout, 40);
    assert.deepEqual(body.EphemeralStorage, { Size: 2048 });
    assert.deepEqual(body.ImageConfig, { EntryPoint: [fixture.entryPoint], Command: [] });
    const variables = (body.Environment as { Variables: Record<string, string> }).Variables;
    assert.equal(variables.NUBES_SECRET_NAMES, 'API_TOKEN');
    assert.equal(variables.API_TOKEN, 's3cret');
    assert.equal(variables.NUBES_S3_ENDPOINT, fixture.s3.url);
    const config = JSON.parse(
      Buffer.from(variables.FUNCTION_CONFIG ?? '', 'base64').toString('utf8'),
    ) as ServiceSpec;
    assert.deepEqual(config.secrets, {}, 'secrets stay out of the definition');
    assert.equal(config.variables.GREETING, 'hi');
    assert.deepEqual(body.Tags, { 'nubes:service': spec.name });
    // It was Pending after creation: deploy waited for Active before returning.
    assert.equal(fixture.lambda.fn(`nubes-${spec.name}`) !== undefined, true);
    assert.ok(fixture.aws.calls('GetFunctionConfiguration').length >= 1);
    const [retries] = fixture.aws.calls('PutFunctionEventInvokeConfig').slice(-1);
    assert.deepEqual(retries?.json, { MaximumRetryAttempts: 0 });
    assert.deepEqual(fixture.aws.invalid, []);
  });

  test('redeploy updates code, then configuration, each after the previous update ended; unchanged does nothing', async () => {
    const executor = await fixture.lambdaExecutor();
    const spec = service();
    await executor.deploy(spec);
    const before = fixture.aws.requests.length;
    await executor.deploy(spec);
    const unchanged = fixture.aws.requests.slice(before).map((r) => r.operation);
    assert.ok(
      !unchanged.includes('UpdateFunctionCode') && !unchanged.includes('UpdateFunctionConfiguration'),
      unchanged.join(),
    );

    const changed = { ...spec, image: `${IMAGE}-v2`, memoryBytes: 1024 * MIB };
    const mark = fixture.aws.requests.length;
    // The fake refuses (409) an update while another is in progress: this passes only if deploy waits.
    await executor.deploy(changed);
    const operations = fixture.aws.requests.slice(mark).map((r) => r.operation);
    const code = operations.indexOf('UpdateFunctionCode');
    const configuration = operations.indexOf('UpdateFunctionConfiguration');
    assert.ok(code !== -1 && configuration > code, operations.join());
    assert.ok(operations.slice(code, configuration).includes('GetFunctionConfiguration'), operations.join());
    const fn = fixture.lambda.fn(`nubes-${spec.name}`);
    assert.equal(fn?.imageUri, `${IMAGE}-v2`);
    assert.equal(fn?.request.MemorySize, 1024);
  });

  test("what is over Lambda's limits is clamped with a warning: memory, timeout, /tmp, GPU", async () => {
    const executor = await fixture.lambdaExecutor();
    const spec = service({
      memoryBytes: 20 * 1024 * MIB,
      timeoutMs: 2000 * 1000,
      ephemeralStorageBytes: 20 * 1024 * MIB,
      enableGpu: true,
      cpu: 1,
    });
    const { warnings } = await executor.deploy(spec);
    const fn = fixture.lambda.fn(`nubes-${spec.name}`);
    assert.equal(fn?.request.MemorySize, 10_240);
    assert.equal(fn?.request.Timeout, 900);
    assert.equal(fn?.request.EphemeralStorage?.Size, 10_240);
    for (const pattern of [/^memory:/, /^timeout:/, /^ephemeral_storage_request:/, /^enable_gpu:/]) {
      assert.ok(
        warnings.some((w) => pattern.test(w)),
        `${String(pattern)} in ${warnings.join(' | ')}`,
      );
    }
    assert.deepEqual(executor.capabilities.limits, { timeoutMs: 900_000, memoryBytes: 10_240 * MIB });
    assert.equal(executor.capabilities.gpu, false);
  });

  test('a definition over the 4 KB environment travels in the envelope; secrets over it are refused by Lambda', async () => {
    const executor = await fixture.lambdaExecutor();
    const big = service({ script: `# ${'x'.repeat(5000)}\necho big script ran\n` });
    await executor.deploy(big);
    const variables = fixture.lambda.fn(`nubes-${big.name}`)?.request.Environment?.Variables ?? {};
    assert.equal(variables.FUNCTION_CONFIG, undefined);
    const invocation = await data.invocation(big, { body: '{}' });
    const result = await executor.run(invocation);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.match(await readLog(invocation), /big script ran/);

    const secretive = service({ secrets: { HUGE: 'y'.repeat(5000) } });
    await assert.rejects(
      executor.deploy(secretive),
      rejectsWith('BACKEND_REJECTED', /InvalidParameterValueException.*4KB/),
    );
  });

  test('undeploy deletes the function; undeploying an unknown service is not an error', async () => {
    const executor = await fixture.lambdaExecutor();
    const spec = service();
    await executor.deploy(spec);
    await executor.undeploy(spec.name);
    assert.equal(fixture.lambda.fn(`nubes-${spec.name}`), undefined);
    await executor.undeploy(spec.name);
    assert.deepEqual(fixture.aws.invalid, []);
  });
});

void describe('Lambda executor: invocations (in-test endpoint, not live)', () => {
  test('a sync call returns the output files, written into the job folder for the response', async () => {
    const executor = await fixture.lambdaExecutor();
    const spec = service({ script: 'tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/upper.txt"\n' });
    await executor.deploy(spec);
    const invocation = await data.invocation(spec, { body: '{"text":"shout"}' });
    const result = await executor.run(invocation);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFiles, ['upper.txt']);
    assert.equal(await readFile(join(result.outputDir, 'upper.txt'), 'utf8'), '{"TEXT":"SHOUT"}');
    const [invoke] = fixture.aws.calls('Invoke').slice(-1);
    assert.equal(invoke?.headers['x-amz-invocation-type'], 'RequestResponse');
    assert.equal(invoke?.headers['x-amz-log-type'], 'Tail');
    const envelope = JSON.parse(invoke?.raw.toString('utf8') ?? '{}') as {
      nubes: { jobId: string; returnFiles: boolean };
    };
    assert.equal(envelope.nubes.jobId, invocation.jobId);
    assert.equal(envelope.nubes.returnFiles, true);
  });

  test("the function's own timeout (Lambda kills the environment) is JOB_TIMEOUT, with the log tail", async () => {
    const executor = await fixture.lambdaExecutor({ defaultTimeoutSeconds: 1 });
    const spec = service({ script: 'echo before the sleep\nsleep 30\n' });
    await executor.deploy(spec);
    const invocation = await data.invocation(spec, { body: '{}' });
    const result = await executor.run(invocation);
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'JOB_TIMEOUT', JSON.stringify(result.error));
    assert.match(await readLog(invocation), /before the sleep/);
    assert.ok(
      await waitFor(() => Promise.resolve(fixture.lambda.liveProcesses(`nubes-${spec.name}`).length === 0)),
    );
  });

  test('Event invocations are followed in CloudWatch Logs to their result, across log pages', async () => {
    const executor = await fixture.lambdaExecutor({ invocationType: 'Event' });
    const spec = service({
      script:
        'for i in $(seq 1 60); do echo "line $i"; done\ncat "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/copy.txt"\n',
      output: [makeOutput('results/event')],
    });
    await executor.deploy(spec);
    await fixture.s3.store.ensureBucket('inputs');
    await fixture.s3.store.put('inputs', 'event/in.txt', Buffer.from('via event'));
    const invocation = await data.invocation(spec, { input: { bucket: 'inputs', key: 'event/in.txt' } });
    invocation.event = JSON.stringify({
      Records: [
        { eventSource: 'minio:s3', s3: { bucket: { name: 'inputs' }, object: { key: 'event/in.txt' } } },
      ],
    });
    const result = await executor.run(invocation);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(
      result.outputs.map((o) => `${o.bucket}/${o.key}`),
      ['results/event/copy.txt'],
    );
    const log = await readLog(invocation);
    assert.match(log, /line 1\n/);
    assert.match(log, /line 60\n/);
    assert.doesNotMatch(log, /nubes-result|START RequestId|END RequestId/);
    const [invoke] = fixture.aws.calls('Invoke').slice(-1);
    assert.equal(invoke?.headers['x-amz-invocation-type'], 'Event');
    // More than one page of matches was read (the fake's pages hold 25 events).
    assert.ok(
      fixture.aws
        .calls('FilterLogEvents')
        .some((r) => (r.json as { nextToken?: string }).nextToken !== undefined),
    );
    assert.deepEqual(fixture.aws.invalid, []);
  });

  test('an Event invocation killed at the function timeout is JOB_TIMEOUT from its REPORT line', async () => {
    const executor = await fixture.lambdaExecutor({ invocationType: 'Event', defaultTimeoutSeconds: 1 });
    const spec = service({ script: 'sleep 30\n' });
    await executor.deploy(spec);
    const invocation = await data.invocation(spec, { input: { bucket: 'results', key: 'none' } });
    invocation.event = '{"not":"a storage event"}';
    const result = await executor.run(invocation);
    assert.equal(result.error?.code, 'JOB_TIMEOUT', JSON.stringify(result.error));
  });

  test('cancel stops waiting with JOB_CANCELLED, saying that Lambda runs the invocation on', async () => {
    const executor = await fixture.lambdaExecutor();
    const spec = service({ script: 'sleep 3\n' });
    await executor.deploy(spec);
    const controller = new AbortController();
    const invocation = await data.invocation(spec, { body: '{}', signal: controller.signal });
    const run = executor.run(invocation);
    assert.ok(
      await waitFor(() => Promise.resolve(fixture.lambda.busyEnvironments(`nubes-${spec.name}`).length > 0)),
    );
    controller.abort();
    const result = await run;
    assert.equal(result.error?.code, 'JOB_CANCELLED');
    assert.match(result.error?.message ?? '', /cannot stop a running invocation/);
  });

  test('throttling (429 with Retry-After) is retried by the SDK; past the attempts it is BACKEND_THROTTLED', async () => {
    const executor = await fixture.lambdaExecutor({ maxAttempts: 3 });
    const spec = service({ script: 'echo ok\n' });
    await executor.deploy(spec);
    const throttled = {
      status: 429,
      headers: { 'x-amzn-errortype': 'TooManyRequestsException', 'retry-after': '0' },
      body: {
        Type: 'User',
        message: 'Rate Exceeded.',
        Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      },
    };
    const before = fixture.aws.calls('Invoke').length;
    fixture.aws.inject('Invoke', throttled, throttled);
    const result = await executor.run(await data.invocation(spec, { body: '{}' }));
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.equal(fixture.aws.calls('Invoke').length - before, 3);

    fixture.aws.inject('Invoke', throttled, throttled, throttled);
    await assert.rejects(executor.run(await data.invocation(spec, { body: '{}' })), (error: unknown) => {
      assert.ok(error instanceof PlatformError);
      assert.equal(error.code, 'BACKEND_THROTTLED');
      assert.equal(error.retryable, true);
      assert.equal((error.details as { awsError: string }).awsError, 'TooManyRequestsException');
      return true;
    });
  });

  test('error replies become coded errors; a malformed reply is refused, not trusted', async () => {
    const executor = await fixture.lambdaExecutor({ maxAttempts: 1 });
    const spec = service();
    fixture.aws.inject('CreateFunction', {
      status: 400,
      headers: { 'x-amzn-errortype': 'InvalidParameterValueException' },
      body: { Type: 'User', message: 'The role defined for the function cannot be assumed by Lambda.' },
    });
    await assert.rejects(executor.deploy(spec), rejectsWith('BACKEND_REJECTED', /cannot be assumed/));
    fixture.aws.inject('GetFunction', {
      status: 503,
      headers: { 'x-amzn-errortype': 'ServiceException' },
      body: { message: 'down' },
    });
    await assert.rejects(executor.deploy(spec), rejectsWith('BACKEND_THROTTLED'));
    fixture.aws.inject('GetFunction', { status: 200, body: { Configuration: { FunctionName: 7 } } });
    await assert.rejects(
      executor.deploy(spec),
      rejectsWith('BACKEND_REJECTED', /unexpected reply to GetFunction/),
    );
    fixture.aws.inject('Invoke', {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { statusCode: 200, body: 'not a Nubes answer' },
    });
    await executor.deploy(spec);
    await assert.rejects(
      executor.run(await data.invocation(spec, { body: '{}' })),
      rejectsWith('BACKEND_REJECTED'),
    );
  });
});

void describe('Lambda executor: S3 triggers (in-test endpoint, not live)', () => {
  const bucket = 'photos';
  const otherArn = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:someone-else`;
  before(() => {
    fixture.lambda.addForeignFunction('someone-else', [bucket, 'shared']);
  });

  test('deploy adds its entry to the bucket, keeping every other notification; an upload runs the function', async () => {
    await fixture.s3.store.ensureBucket(bucket);
    fixture.s3n.createBucket(bucket, [
      {
        kind: 'lambda',
        id: 'theirs',
        arn: otherArn,
        events: ['s3:ObjectCreated:*'],
        filterRules: [{ name: 'prefix', value: 'raw/' }],
      },
      {
        kind: 'queue',
        id: 'audit',
        arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:audit`,
        events: ['s3:ObjectRemoved:*'],
        filterRules: [],
      },
      {
        kind: 'topic',
        id: 'alerts',
        arn: `arn:aws:sns:us-east-1:${ACCOUNT}:alerts`,
        events: ['s3:ObjectCreated:*'],
        filterRules: [{ name: 'suffix', value: '.err' }],
      },
    ]);
    const executor = await fixture.lambdaExecutor();
    const spec = service({
      script: 'wc -c < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/size.txt"\n',
      input: [{ provider: 's3.aws', path: `${bucket}/in`, bucket, folder: 'in', prefixes: [], suffixes: [] }],
      output: [makeOutput('results/sizes')],
    });
    await executor.deploy(spec);
    const name = functionName({ functionPrefix: 'nubes-' }, spec.name);
    const [permission] = fixture.aws.calls('AddPermission').slice(-1);
    assert.deepEqual(permission?.json, {
      StatementId: `nubes-s3-${bucket}`,
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      SourceArn: `arn:aws:s3:::${bucket}`,
      SourceAccount: ACCOUNT,
    });
    const entries = fixture.s3n.notifications(bucket)?.entries ?? [];
    assert.deepEqual(entries.map((e) => e.id).sort(), ['alerts', 'audit', `nubes-${name}-0`, 'theirs']);
    const ours = entries.find((e) => e.id === `nubes-${name}-0`);
    assert.deepEqual(ours?.filterRules, [{ name: 'prefix', value: 'in/' }]);
    assert.deepEqual(ours?.events, ['s3:ObjectCreated:*']);

    // S3's side: the object lands in the bucket, the bucket invokes the function with an aws:s3 event, and
    // the function reads it from AWS S3 with its role and writes its output to the platform's store.
    await fixture.s3.store.put(bucket, 'in/pic one.jpg', Buffer.from('12345'));
    assert.equal(fixture.s3n.objectCreated(bucket, 'in/pic one.jpg', 5), 1);
    assert.ok(
      await waitFor(
        async () => (await fixture.s3.store.head('results', 'sizes/size.txt').catch(() => null)) !== null,
        20_000,
      ),
      `no output; function log: ${fixture.logs.messages(`/aws/lambda/${name}`, '').join('')}`,
    );
    const { body } = await fixture.s3.store.get('results', 'sizes/size.txt');
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
    assert.equal(Buffer.concat(chunks).toString('utf8').trim(), '5');

    // Redeploy is idempotent: still one entry of ours, the permission already there is fine.
    await executor.deploy(spec);
    assert.equal(
      (fixture.s3n.notifications(bucket)?.entries ?? []).filter((e) => e.id.startsWith(`nubes-${name}`))
        .length,
      1,
    );

    await executor.undeploy(spec.name);
    assert.deepEqual((fixture.s3n.notifications(bucket)?.entries ?? []).map((e) => e.id).sort(), [
      'alerts',
      'audit',
      'theirs',
    ]);
    assert.ok(fixture.aws.calls('RemovePermission').length >= 1);
    assert.deepEqual(fixture.aws.invalid, []);
  });

  test("a trigger overlapping another function's is refused by S3 and deploy fails with BACKEND_REJECTED", async () => {
    fixture.s3n.createBucket('shared', [
      {
        kind: 'lambda',
        id: 'theirs',
        arn: otherArn,
        events: ['s3:ObjectCreated:*'],
        filterRules: [{ name: 'prefix', value: 'in/' }],
      },
    ]);
    const executor = await fixture.lambdaExecutor();
    const spec = service({
      input: [
        { provider: 's3.aws', path: 'shared/in', bucket: 'shared', folder: 'in', prefixes: [], suffixes: [] },
      ],
    });
    await assert.rejects(executor.deploy(spec), rejectsWith('BACKEND_REJECTED', /overlap/));
    assert.deepEqual(
      fixture.s3n.notifications('shared')?.entries.map((e) => e.id),
      ['theirs'],
    );
  });
});
