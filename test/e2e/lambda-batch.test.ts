/**
 * SCAR's `lambda-batch` mode end to end against the in-test AWS endpoint (not live): the real server with
 * the Lambda executor as the function executor (declaring a 2-second limit, Lambda's own being 900 s) and
 * the Batch executor as the batch executor, both talking to in-test Lambda, Batch and CloudWatch Logs
 * endpoints that run each function invocation and each Batch container on this host (the real Nubes Lambda
 * runtime and standalone supervisor, staging through the server's own S3 endpoint). A job past Lambda's
 * limit is resubmitted to Batch, one too big for Lambda goes there at once, one that fits stays on Lambda;
 * the job's history and log show every run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { S3Client } from '@aws-sdk/client-s3';
import { finishedJob } from '../support/job-history.js';
import { getText, putText } from '../support/s3-client.js';
import { FakeAws } from '../executors/aws/fake-aws.js';
import { FakeBatch } from '../executors/aws/fake-batch.js';
import { ACCOUNT, FakeLambda } from '../executors/aws/fake-lambda.js';
import { FakeLogs } from '../executors/aws/fake-logs.js';

const ROLE = `arn:aws:iam::${ACCOUNT}:role/nubes-functions`;
const IMAGE = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/nubes/busybox:1`;
const S3_KEY = 'NUBESLAMBDABATCH0001';
const S3_SECRET = 'lambda-batch-e2e-secret';

void describe('hybrid lambda-batch execution: Lambda as function, AWS Batch as batch (in-test endpoint, not live)', () => {
  let server: ServerProcess;
  let aws: FakeAws;
  let lambda: FakeLambda;
  let batch: FakeBatch;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nubes-lambda-batch-'));
    const logs = new FakeLogs();
    lambda = new FakeLambda(logs);
    batch = new FakeBatch(logs);
    aws = new FakeAws();
    aws.register('lambda', lambda);
    aws.register('batch', batch);
    aws.register('logs', logs);
    await aws.start();
    const wrapper = async (name: string, main: string) => {
      const path = join(dir, name);
      await writeFile(
        path,
        `#!/bin/sh\nexec "${process.execPath}" "${join(process.cwd(), 'dist', 'src', 'supervisor', main)}"\n`,
      );
      await chmod(path, 0o755);
      return path;
    };
    const s3Port = await freePort();
    const storage = { endpoint: `http://127.0.0.1:${s3Port}`, accessKey: S3_KEY, secretKey: S3_SECRET };
    const connection = {
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDNUBESTEST', secretAccessKey: 'not-a-real-secret' },
    };
    server = await startServer({
      s3Port,
      env: {
        NUBES_S3_ACCESS_KEY: S3_KEY,
        NUBES_S3_SECRET_KEY: S3_SECRET,
        NUBES_EXECUTORS: JSON.stringify({
          lambda: {
            ...connection,
            endpoints: { lambda: aws.url, logs: aws.url, s3: aws.url },
            role: ROLE,
            entryPoint: [await wrapper('nubes-lambda', 'lambda-main.js')],
            maxTimeoutSeconds: 2,
            storage,
          },
          batch: {
            ...connection,
            endpoints: { batch: aws.url, logs: aws.url },
            jobQueue: { name: 'nubes-jobs' },
            computeEnvironment: {
              name: 'nubes-ce',
              subnets: ['subnet-0123456789abcdef0'],
              securityGroupIds: ['sg-0123456789abcdef0'],
            },
            supervisorPath: await wrapper('nubes-supervisor', 'main.js'),
            pollIntervalMs: 100,
            storage,
          },
        }),
        NUBES_EXECUTION_ROLES: JSON.stringify({ function: 'lambda', batch: 'batch' }),
      },
    });
  });

  after(async () => {
    await server?.cleanup();
    await aws?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The server's S3 endpoint with the keys it was started with (credentials.json holds generated ones). */
  function client(): S3Client {
    return new S3Client({
      endpoint: server.s3Url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async function deploy(name: string, fields: Record<string, unknown>): Promise<void> {
    const created = await server.api('/system/services', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name,
        image: IMAGE,
        execution_mode: 'lambda-batch',
        memory: '256Mi',
        cpu: '1',
        max_retries: 0,
        input: [{ storage_provider: 'minio.default', path: `${name}/in` }],
        output: [{ storage_provider: 'minio.default', path: `${name}/out` }],
        ...fields,
      }),
    });
    assert.equal(created.status, 201, await created.text());
    // Deployed to both roles: the function and the job definition exist before any job.
    assert.ok(lambda.fn(`nubes-${name}`) !== undefined, 'no Lambda function');
    assert.ok(
      batch.definitions.some((d) => d.name === `nubes-${name}` && d.status === 'ACTIVE'),
      'no job definition',
    );
  }

  const script = (seconds: number) =>
    [
      'echo started',
      `sleep ${seconds}`,
      'tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH")"',
      'echo finished',
    ].join('\n');

  test("a job past Lambda's limit is resubmitted to AWS Batch; the history and the log show both runs", async () => {
    await deploy('longjob', { script: script(4) });
    const s3 = client();
    await putText(s3, 'longjob', 'in/a.txt', 'slow work\n');
    assert.equal(
      await waitFor(() => getText(s3, 'longjob', 'out/a.txt'), 60_000, 'longjob/out/a.txt'),
      'SLOW WORK\n',
    );

    const [jobId, job] = await finishedJob(server, 'longjob');
    assert.equal(job.status, 'Succeeded');
    assert.deepEqual(
      job.runs.map((run) => [run.executor, run.role, run.status, run.error?.code ?? null]),
      [
        ['lambda', 'function', 'failed', 'JOB_TIMEOUT'],
        ['batch', 'batch', 'succeeded', null],
      ],
    );
    assert.match(job.runs[0]?.note ?? '', /limit of 2000 ms; resubmitted to the batch executor \(batch\)/);
    const log = await (await server.api(`/system/logs/longjob/${jobId}`)).text();
    assert.match(
      log,
      /=== run 1: function on lambda: failed .*===\nstarted\n\[nubes\] the job exceeded its time limit of 2 s/,
    );
    assert.match(log, /=== run 2: batch on batch: succeeded ===\nstarted\nfinished\n/);
    assert.equal(aws.calls('Invoke').length, 1);
    assert.equal(aws.calls('SubmitJob').length, 1);
    assert.deepEqual(aws.invalid, []);
  });

  test('a job asking for more memory than Lambda has goes to AWS Batch at once', async () => {
    await deploy('bigjob', { script: script(0), memory: '12Gi' });
    const s3 = client();
    await putText(s3, 'bigjob', 'in/b.txt', 'big\n');
    assert.equal(
      await waitFor(() => getText(s3, 'bigjob', 'out/b.txt'), 60_000, 'bigjob/out/b.txt'),
      'BIG\n',
    );
    const [, job] = await finishedJob(server, 'bigjob');
    assert.deepEqual(
      job.runs.map((run) => [run.executor, run.role, run.status]),
      [
        ['lambda', 'function', 'skipped'],
        ['batch', 'batch', 'succeeded'],
      ],
    );
    assert.match(job.runs[0]?.note ?? '', /over the limit of 10737418240/);
  });

  test('a job that fits Lambda stays there', async () => {
    await deploy('smalljob', { script: script(0) });
    const s3 = client();
    await putText(s3, 'smalljob', 'in/c.txt', 'small\n');
    assert.equal(
      await waitFor(() => getText(s3, 'smalljob', 'out/c.txt'), 30_000, 'smalljob/out/c.txt'),
      'SMALL\n',
    );
    const [, job] = await finishedJob(server, 'smalljob');
    assert.deepEqual(
      job.runs.map((run) => [run.executor, run.role, run.status]),
      [['lambda', 'function', 'succeeded']],
    );
  });
});
