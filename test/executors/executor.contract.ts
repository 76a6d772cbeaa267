/**
 * @module test/executors/executor.contract
 * The behaviour every Executor must have, run against each implementation in a few lines:
 *
 *     runExecutorContract({ name: 'local', create: makeSubject, capabilities: { ... } });
 *
 * Cases: submit and succeed (input staged in, output staged out), fail with the script's exit code, time
 * out, cancel, logs (stdout and stderr of the script), idempotent deploy and undeploy, and close leaving
 * nothing running. Each case deploys a service of its own with a unique name, so a subject may be shared.
 *
 * The scripts are plain POSIX sh that busybox runs (`echo`, `cat`, `sleep`, `exit`), so container images
 * built from a busybox root filesystem pass too. Backends that cannot run here (Kubernetes, AWS) answer
 * from an in-test endpoint; `CONTRACT_SCRIPTS` names the scripts so such an endpoint can play them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Executor, Invocation, InvocationResult } from '../../src/executors/executor.js';
import type { ServiceSpec, StorageIoSpec } from '../../src/fdl/service-spec.js';
import type { ObjectStore } from '../../src/storage/object-store.js';

/** One executor under test, with what the suite needs around it. */
export interface ExecutorContractSubject {
  executor: Executor;
  /** The store the executor stages through: the suite puts inputs here and reads outputs back. */
  store: ObjectStore;
  /** A folder for work folders and logs (the job runner's role); created by the subject. */
  dataDir: string;
  /** Turns the suite's service into one this executor runs (its `executor` name, image, extras). */
  adapt(service: ServiceSpec): ServiceSpec;
  /**
   * What of the service named `serviceName` still runs on the backend (processes, containers, Slurm jobs),
   * described for the failure message; [] when nothing does. Every contract service also sets the
   * variable `CONTRACT_TAG` to its name, so processes can be found by their environment.
   */
  running(serviceName: string): Promise<string[]>;
  /** Removes what the subject made besides the executor (closed by the suite or by the subject). */
  dispose(): Promise<void>;
}

/** What the backend supports; a case it cannot support is skipped and says why. */
export interface ExecutorContractCapabilities {
  /** Whether a service's `timeoutMs` ends a job with JOB_TIMEOUT. */
  timeout: boolean;
  /** Whether aborting an invocation's signal cancels it (JOB_CANCELLED). */
  cancel: boolean;
  /** Whether the script's stdout and stderr reach `invocation.logPath`. */
  logs: boolean;
  /** Whether they reach it while the job runs (not only at its end). @default logs */
  liveLogs?: boolean;
}

export interface ExecutorContractOptions {
  name: string;
  /** Makes a fresh subject; called once for the shared cases and once for the close case. */
  create(): Promise<ExecutorContractSubject>;
  capabilities: ExecutorContractCapabilities;
  /** Longest a short job may take here from submission to result (Slurm and containers are slower). @default 30000 */
  jobTimeoutMs?: number;
}

/** The scripts the contract runs, by case, so an in-test endpoint can recognise and play them. */
export const CONTRACT_SCRIPTS = {
  succeed: [
    'echo "contract stdout $CONTRACT_TAG"',
    'echo "contract stderr $CONTRACT_TAG" >&2',
    'cat "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/result.txt"',
  ].join('\n'),
  fail: ['echo "contract about to fail"', 'exit 7'].join('\n'),
  /** Prints `started`, then outlives any test (ended by timeout, cancel or close). */
  longRunning: ['echo started', 'sleep 120', 'echo finished'].join('\n'),
} as const;

/** The contract's buckets (created by the suite in the subject's store). */
export const CONTRACT_BUCKETS = { input: 'contract-in', output: 'contract-out' } as const;

/** A resolved service with the contract's defaults (before the subject adapts it). */
export function contractService(
  name: string,
  script: string,
  overrides: Partial<ServiceSpec> = {},
): ServiceSpec {
  return {
    name,
    image: '',
    script,
    cpu: 0.5,
    memoryBytes: 128 * 1024 * 1024,
    enableGpu: false,
    logLevel: 'INFO',
    storageProviders: {},
    variables: { CONTRACT_TAG: name },
    secrets: {},
    input: [storageIo(CONTRACT_BUCKETS.input, name)],
    output: [storageIo(CONTRACT_BUCKETS.output, name)],
    ephemeralStorageBytes: 0,
    timeoutMs: 0,
    maxConcurrency: 0,
    retry: { maxAttempts: 1, initialBackoffMs: 1000, maxBackoffMs: 60000 },
    executor: 'local',
    network: 'none',
    slurm: { partition: null, account: null, qos: null, gres: null, options: [] },
    executionMode: null,
    synchronous: { minScale: null, maxScale: null },
    visibility: 'private',
    allowedUsers: [],
    labels: {},
    annotations: {},
    ...overrides,
  };
}

function storageIo(bucket: string, folder: string): StorageIoSpec {
  return {
    provider: 'minio.default',
    path: `${bucket}/${folder}`,
    bucket,
    folder,
    prefixes: [],
    suffixes: [],
  };
}

/** Registers the contract cases for one executor. */
export function runExecutorContract(options: ExecutorContractOptions): void {
  const jobTimeoutMs = options.jobTimeoutMs ?? 30_000;
  const caps = options.capabilities;
  const liveLogs = caps.liveLogs ?? caps.logs;

  void describe(`Executor contract: ${options.name}`, () => {
    let subject: ExecutorContractSubject;

    before(async () => {
      subject = await options.create();
      await subject.store.ensureBucket(CONTRACT_BUCKETS.input);
      await subject.store.ensureBucket(CONTRACT_BUCKETS.output);
    });

    after(async () => {
      if (subject === undefined) return;
      try {
        await subject.executor.close();
      } finally {
        await subject.dispose();
      }
    });

    void test('submit and succeed: the input is staged in, the output staged out, exit code 0', async () => {
      const service = subject.adapt(contractService(uniqueName('ok'), CONTRACT_SCRIPTS.succeed));
      await subject.executor.deploy(service);
      const payload = `contract input ${randomBytes(6).toString('hex')}\n`;
      const key = `${service.name}/data file.txt`;
      await subject.store.put(CONTRACT_BUCKETS.input, key, Buffer.from(payload));

      const invocation = await makeInvocation(subject, service, { bucket: CONTRACT_BUCKETS.input, key });
      const result = await withTimeout(subject.executor.run(invocation), jobTimeoutMs, 'the job');
      assert.equal(result.status, 'succeeded', await failureText(result, invocation));
      assert.equal(result.exitCode, 0);
      assert.equal(result.error, null);
      const outputKey = `${service.name}/result.txt`;
      assert.deepEqual(
        result.outputs.map((o) => `${o.bucket}/${o.key}`),
        [`${CONTRACT_BUCKETS.output}/${outputKey}`],
      );
      assert.equal(await readObject(subject.store, CONTRACT_BUCKETS.output, outputKey), payload);
      assert.ok(result.finishedMs >= result.startedMs);
      await subject.executor.undeploy(service.name);
    });

    void test('fail: a non-zero exit fails the job with that exit code and JOB_FAILED', async () => {
      const service = subject.adapt(contractService(uniqueName('fail'), CONTRACT_SCRIPTS.fail));
      await subject.executor.deploy(service);
      const invocation = await makeInvocation(subject, service, null);
      const result = await withTimeout(subject.executor.run(invocation), jobTimeoutMs, 'the job');
      assert.equal(result.status, 'failed');
      assert.equal(result.exitCode, 7, await failureText(result, invocation));
      assert.equal(result.error?.code, 'JOB_FAILED');
      assert.deepEqual(result.outputs, []);
      if (caps.logs) assert.match(await readLog(invocation), /contract about to fail/);
      await subject.executor.undeploy(service.name);
    });

    void test(
      'time out: a job past its service timeout is stopped with JOB_TIMEOUT',
      { skip: skipUnless(caps.timeout, 'timeouts') },
      async () => {
        const service = subject.adapt(
          contractService(uniqueName('slow'), CONTRACT_SCRIPTS.longRunning, { timeoutMs: 2000 }),
        );
        await subject.executor.deploy(service);
        const invocation = await makeInvocation(subject, service, null);
        const result = await withTimeout(
          subject.executor.run(invocation),
          jobTimeoutMs + 2000,
          'the timed-out job',
        );
        assert.equal(result.status, 'failed');
        assert.equal(result.error?.code, 'JOB_TIMEOUT', await failureText(result, invocation));
        if (caps.logs) assert.doesNotMatch(await readLog(invocation), /finished/);
        await waitUntilIdle(subject, service.name, jobTimeoutMs);
        await subject.executor.undeploy(service.name);
      },
    );

    void test(
      'cancel: aborting the signal stops a running job with JOB_CANCELLED',
      { skip: skipUnless(caps.cancel, 'cancellation') },
      async () => {
        const service = subject.adapt(contractService(uniqueName('cancel'), CONTRACT_SCRIPTS.longRunning));
        await subject.executor.deploy(service);
        const controller = new AbortController();
        const invocation = await makeInvocation(subject, service, null, controller.signal);
        const run = subject.executor.run(invocation);
        await waitUntilStarted(subject, service.name, invocation, jobTimeoutMs, liveLogs);
        controller.abort();
        const result = await withTimeout(run, jobTimeoutMs, 'the cancelled job');
        assert.equal(result.status, 'failed');
        assert.equal(result.error?.code, 'JOB_CANCELLED', await failureText(result, invocation));
        await waitUntilIdle(subject, service.name, jobTimeoutMs);
        await subject.executor.undeploy(service.name);
      },
    );

    void test(
      "logs: the script's stdout and stderr reach the job log",
      { skip: skipUnless(caps.logs, 'logs') },
      async () => {
        const service = subject.adapt(contractService(uniqueName('logs'), CONTRACT_SCRIPTS.succeed));
        await subject.executor.deploy(service);
        const key = `${service.name}/in.txt`;
        await subject.store.put(CONTRACT_BUCKETS.input, key, Buffer.from('x'));
        const invocation = await makeInvocation(subject, service, { bucket: CONTRACT_BUCKETS.input, key });
        const result = await withTimeout(subject.executor.run(invocation), jobTimeoutMs, 'the job');
        assert.equal(result.status, 'succeeded', await failureText(result, invocation));
        const log = await readLog(invocation);
        assert.ok(log.includes(`contract stdout ${service.name}`), log);
        assert.ok(log.includes(`contract stderr ${service.name}`), log);
        await subject.executor.undeploy(service.name);
      },
    );

    void test('deploy and undeploy are idempotent: twice each, and the service still runs in between', async () => {
      const service = subject.adapt(contractService(uniqueName('twice'), CONTRACT_SCRIPTS.fail));
      const first = await subject.executor.deploy(service);
      const second = await subject.executor.deploy(service);
      assert.deepEqual(second.warnings, first.warnings);
      const invocation = await makeInvocation(subject, service, null);
      const result = await withTimeout(subject.executor.run(invocation), jobTimeoutMs, 'the job');
      assert.equal(result.exitCode, 7, await failureText(result, invocation));
      await subject.executor.undeploy(service.name);
      await subject.executor.undeploy(service.name);
      // Undeploying what was never deployed is not an error either.
      await subject.executor.undeploy(uniqueName('never'));
    });
  });

  void describe(`Executor contract: ${options.name}, close`, () => {
    // A backend that cannot stop a running job (Lambda) must still end every run, never as a success.
    const closeCase = caps.cancel
      ? 'close cancels running jobs and leaves nothing running'
      : 'close ends every run as failed at once (the backend cannot stop them; they run to their timeout)';
    test(closeCase, async () => {
      const subject = await options.create();
      try {
        await subject.store.ensureBucket(CONTRACT_BUCKETS.input);
        await subject.store.ensureBucket(CONTRACT_BUCKETS.output);
        const service = subject.adapt(contractService(uniqueName('close'), CONTRACT_SCRIPTS.longRunning));
        await subject.executor.deploy(service);
        const invocations = await Promise.all([
          makeInvocation(subject, service, null),
          makeInvocation(subject, service, null),
        ]);
        const runs = invocations.map((invocation) =>
          subject.executor.run(invocation).then(
            (result) => result,
            (error: unknown) => error,
          ),
        );
        for (const invocation of invocations)
          await waitUntilStarted(subject, service.name, invocation, jobTimeoutMs, liveLogs);
        // The check below must be able to see the jobs, or it proves nothing.
        assert.notDeepEqual(await subject.running(service.name), [], 'running() does not see the jobs');
        await withTimeout(subject.executor.close(), jobTimeoutMs, 'close()');
        for (const settled of await withTimeout(Promise.all(runs), 5000, 'the runs after close()')) {
          // A run ends failed (cancelled) or rejects; it never claims success for work that was stopped.
          if (isResult(settled)) assert.equal(settled.status, 'failed');
        }
        if (caps.cancel)
          assert.deepEqual(await subject.running(service.name), [], 'still running after close()');
      } finally {
        await subject.dispose();
      }
    });
  });
}

function skipUnless(supported: boolean, what: string): string | false {
  return supported ? false : `this executor does not support ${what}`;
}

function uniqueName(kind: string): string {
  return `ct-${kind}-${randomBytes(4).toString('hex')}`;
}

function isResult(value: unknown): value is InvocationResult {
  return typeof value === 'object' && value !== null && 'status' in value;
}

/** Builds an invocation as the job runner does: its own work folder, its log in the data folder. */
async function makeInvocation(
  subject: ExecutorContractSubject,
  service: ServiceSpec,
  input: { bucket: string; key: string } | null,
  signal: AbortSignal = new AbortController().signal,
): Promise<Invocation> {
  const jobId = `${service.name}-${randomBytes(6).toString('hex')}`;
  const workDir = join(subject.dataDir, 'work', jobId);
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  await mkdir(join(subject.dataDir, 'logs'), { recursive: true });
  let bodyPath: string | null = null;
  let event = '';
  if (input === null) {
    bodyPath = join(workDir, 'body');
    event = '{"contract":true}';
    await writeFile(bodyPath, event);
  } else {
    event = JSON.stringify({
      EventName: 's3:ObjectCreated:Put',
      Key: `${input.bucket}/${input.key}`,
      Records: [
        {
          // As the platform's store emits it: a supervisor on another machine recognises it by eventSource.
          eventSource: 'minio:s3',
          eventName: 's3:ObjectCreated:Put',
          s3: { bucket: { name: input.bucket }, object: { key: input.key } },
        },
      ],
    });
  }
  return {
    jobId,
    service,
    kind: input === null ? 'http' : 'storage',
    event,
    input: input === null ? null : { ...input, eventTimeIso: new Date().toISOString() },
    bodyPath,
    workDir,
    logPath: join(subject.dataDir, 'logs', `${jobId}.log`),
    signal,
  };
}

function readLog(invocation: Invocation): Promise<string> {
  return readFile(invocation.logPath, 'utf8').catch(() => '');
}

async function failureText(result: InvocationResult, invocation: Invocation): Promise<string> {
  return `${JSON.stringify(result.error)}\n--- log ---\n${await readLog(invocation)}`;
}

async function readObject(store: ObjectStore, bucket: string, key: string): Promise<string> {
  const { body } = await store.get(bucket, key);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Rejects when `promise` has not settled within `ms`, so that a hung backend fails the case, not the run. */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the job printed `started` (or, without logs, until the backend shows it running). */
async function waitUntilStarted(
  subject: ExecutorContractSubject,
  serviceName: string,
  invocation: Invocation,
  timeoutMs: number,
  logs: boolean,
): Promise<void> {
  const started = await poll(async () => {
    if (logs) return /started/.test(await readLog(invocation));
    return (await subject.running(serviceName)).length > 0;
  }, timeoutMs);
  assert.ok(started, `the job of ${serviceName} did not start within ${timeoutMs} ms`);
}

async function waitUntilIdle(
  subject: ExecutorContractSubject,
  serviceName: string,
  timeoutMs: number,
): Promise<void> {
  let left: string[] = [];
  const idle = await poll(async () => {
    left = await subject.running(serviceName);
    return left.length === 0;
  }, timeoutMs);
  assert.ok(idle, `still running: ${left.join(', ')}`);
}

async function poll(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/** Removes a subject's data folder (for subjects that keep their work and logs in one). */
export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
