/**
 * @module test/executors/kubernetes/kubernetes-executor.test
 * The Kubernetes executor against an in-test API server (not a live cluster): the objects it sends are
 * checked against the Kubernetes v1.30.0 schemas and OSCAR's shape, and its handling of the API's answers
 * (conflicts, not found, throttling, server errors, a pod that cannot start) is exercised. Each Job's pod
 * runs as a host process with the real standalone supervisor, staging through the real S3 endpoint.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PlatformError } from '../../../src/core/index.js';
import { parseFdl, toServiceSpec } from '../../../src/fdl/index.js';
import { kubernetesExecutorConfigSchema } from '../../../src/executors/kubernetes/index.js';
import type { Invocation } from '../../../src/executors/executor.js';
import type { ServiceSpec } from '../../../src/fdl/service-spec.js';
import { TestDataDir, makeOutput, makeService } from '../helpers.js';
import { KUBERNETES_SCHEMA_VERSION, kubernetesSchemaErrors } from './kube-schema.js';
import { NAMESPACE, startKubeFixture, type KubeFixture } from './kube-fixture.js';

/** The value at `path` in JSON read back from what the executor sent (undefined where it is absent). */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

function text(value: unknown, ...path: (string | number)[]): string {
  const found = at(value, ...path);
  assert.equal(typeof found, 'string', `${path.join('.')} is not a string`);
  return found as string;
}

void describe('Kubernetes executor (in-test endpoint, not live)', () => {
  let fixture: KubeFixture;
  let data: TestDataDir;

  before(async () => {
    fixture = await startKubeFixture();
    data = await TestDataDir.create();
    await fixture.s3.store.ensureBucket('kin');
    await fixture.s3.store.ensureBucket('kout');
  });

  after(async () => {
    await fixture.close();
    await data.remove();
  });

  function service(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
    return makeService({
      name: `k-${randomBytes(3).toString('hex')}`,
      image: 'registry.example/science/tool:2',
      executor: 'kubernetes',
      cpu: 0.5,
      memoryBytes: 64 * 1024 * 1024,
      ...overrides,
    });
  }

  async function storageInvocation(
    spec: ServiceSpec,
    key: string,
    signal?: AbortSignal,
  ): Promise<Invocation> {
    const event = JSON.stringify({
      Records: [
        {
          eventSource: 'minio:s3',
          eventName: 's3:ObjectCreated:Put',
          s3: { bucket: { name: 'kin' }, object: { key: encodeURIComponent(key) } },
        },
      ],
    });
    return data.invocation(spec, { input: { bucket: 'kin', key }, event, signal });
  }

  void test(`deploy sends a ConfigMap and a Secret valid against Kubernetes ${KUBERNETES_SCHEMA_VERSION}, in OSCAR's shape; deploy twice replaces them, undeploy twice is fine`, async () => {
    const executor = await fixture.executor();
    try {
      const spec = service({ secrets: { API_TOKEN: 's3cr3t' }, variables: { MODE: 'fast' } });
      const first = await executor.deploy(spec);
      const second = await executor.deploy(spec);
      assert.deepEqual(second.warnings, first.warnings);
      assert.deepEqual(fixture.api.invalid, []);

      const configMap = fixture.api.object('configmaps', NAMESPACE, spec.name);
      assert.equal(at(configMap, 'data', 'script.sh'), spec.script);
      const stored = JSON.parse(
        Buffer.from(text(configMap, 'data', 'FUNCTION_CONFIG'), 'base64').toString(),
      ) as unknown;
      assert.equal(at(stored, 'name'), spec.name);
      assert.deepEqual(at(stored, 'secrets'), {}, 'secret values never go into the ConfigMap');
      assert.equal(at(configMap, 'metadata', 'labels', 'oscar_service'), spec.name);

      const secret = fixture.api.object('secrets', NAMESPACE, spec.name);
      assert.equal(Buffer.from(text(secret, 'data', 'API_TOKEN'), 'base64').toString(), 's3cr3t');
      assert.ok(at(secret, 'data', 'NUBES_S3_SECRET_KEY'), 'the storage keys travel in the Secret');
      // The second deploy met 409 AlreadyExists on create and replaced.
      const path = `/api/v1/namespaces/${NAMESPACE}/configmaps`;
      assert.equal(fixture.api.requestsTo('POST', new RegExp(`^${path}$`)).length, 2);
      assert.equal(fixture.api.requestsTo('PUT', new RegExp(`^${path}/${spec.name}$`)).length, 1);
      const request = fixture.api.requests.at(-1);
      assert.equal(request?.headers.authorization, `Bearer ${fixture.api.token}`);

      await executor.undeploy(spec.name);
      await executor.undeploy(spec.name);
      assert.equal(fixture.api.object('configmaps', NAMESPACE, spec.name), undefined);
      assert.equal(fixture.api.object('secrets', NAMESPACE, spec.name), undefined);
    } finally {
      await executor.close();
    }
  });

  void test("a storage event becomes one batch/v1 Job in OSCAR's shape; the real supervisor stages in and out; outputs and logs come back", async () => {
    const executor = await fixture.executor({ ttlSecondsAfterFinished: 600 });
    try {
      const spec = service({
        script:
          'echo "processing $STORAGE_OBJECT_KEY"; echo "to stderr" >&2; tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/up.txt"\n',
        output: [makeOutput('kout/results')],
        enableGpu: true,
        secrets: { TOKEN: 'abc' },
        annotations: { 'example.org/note': 'kept' },
      });
      await executor.deploy(spec);
      await fixture.s3.store.put('kin', 'data/in file.txt', Buffer.from('hello kube'));
      const invocation = await storageInvocation(spec, 'data/in file.txt');
      const result = await executor.run(invocation);
      const log = await readFile(invocation.logPath, 'utf8');
      assert.equal(result.status, 'succeeded', `${JSON.stringify(result.error)}\n${log}`);
      assert.equal(result.exitCode, 0);
      assert.deepEqual(result.outputs, [
        { provider: 'minio.default', bucket: 'kout', key: 'results/up.txt' },
      ]);
      const { body } = await fixture.s3.store.get('kout', 'results/up.txt');
      const chunks: Buffer[] = [];
      for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
      assert.equal(Buffer.concat(chunks).toString(), 'HELLO KUBE');
      assert.match(log, /processing data\/in file\.txt/);
      assert.match(log, /to stderr/);
      assert.doesNotMatch(log, /nubes-result/, 'the result line is taken out of the user log');

      assert.deepEqual(fixture.api.invalid, []);
      const [create] = fixture.api
        .requestsTo('POST', /\/apis\/batch\/v1\/namespaces\/nubes-test\/jobs$/)
        .slice(-1);
      const job = create?.body;
      assert.deepEqual(kubernetesSchemaErrors(job), []);
      assert.equal(at(job, 'spec', 'backoffLimit'), 0);
      assert.equal(at(job, 'spec', 'ttlSecondsAfterFinished'), 600);
      assert.equal(at(job, 'spec', 'activeDeadlineSeconds'), undefined, 'no deadline without a timeout');
      const pod = at(job, 'spec', 'template', 'spec');
      assert.equal(at(pod, 'restartPolicy'), 'Never');
      assert.equal(at(pod, 'automountServiceAccountToken'), false);
      assert.equal(at(pod, 'enableServiceLinks'), false);
      assert.equal(at(pod, 'initContainers', 0, 'image'), 'registry.example/nubes/supervisor:1');
      const container = at(pod, 'containers', 0);
      assert.equal(at(container, 'name'), 'oscar-container');
      assert.equal(at(container, 'image'), spec.image);
      assert.equal(at(container, 'imagePullPolicy'), 'IfNotPresent');
      assert.deepEqual(at(container, 'resources', 'limits'), {
        cpu: '500m',
        memory: String(64 * 1024 * 1024),
        'nvidia.com/gpu': '1',
      });
      assert.deepEqual(at(container, 'envFrom'), [{ secretRef: { name: spec.name } }]);
      const envList = at(container, 'env') as { name: string; value?: string; valueFrom?: unknown }[];
      const env = Object.fromEntries(envList.map((e) => [e.name, e.value ?? e.valueFrom]));
      assert.equal(env.JOB_UUID, invocation.jobId);
      assert.equal(env.EVENT, invocation.event);
      assert.equal(env.NUBES_SECRET_NAMES, 'TOKEN');
      assert.deepEqual(env.FUNCTION_CONFIG, { configMapKeyRef: { name: spec.name, key: 'FUNCTION_CONFIG' } });
      assert.equal(at(job, 'spec', 'template', 'metadata', 'annotations', 'example.org/note'), 'kept');
      assert.equal(at(job, 'metadata', 'labels', 'nubes.grycap/service'), spec.name);
      await executor.undeploy(spec.name);
    } finally {
      await executor.close();
    }
  });

  void test('a failing script fails the job with its exit code and logs (in-test endpoint, not live)', async () => {
    const executor = await fixture.executor();
    try {
      const spec = service({ script: 'echo "about to fail"; exit 7\n' });
      await executor.deploy(spec);
      const invocation = await data.invocation(spec, { body: '{}', event: '{}' });
      const result = await executor.run(invocation);
      assert.equal(result.status, 'failed');
      assert.equal(result.exitCode, 7);
      assert.equal(result.error?.code, 'JOB_FAILED');
      assert.match(await readFile(invocation.logPath, 'utf8'), /about to fail/);
    } finally {
      await executor.close();
    }
  });

  void test('the service timeout becomes activeDeadlineSeconds; DeadlineExceeded is JOB_TIMEOUT (in-test endpoint, not live)', async () => {
    const executor = await fixture.executor();
    try {
      const spec = service({ script: 'echo started; sleep 60; echo finished\n', timeoutMs: 1000 });
      await executor.deploy(spec);
      const invocation = await data.invocation(spec, { body: '{}', event: '{}' });
      const result = await executor.run(invocation);
      assert.equal(result.error?.code, 'JOB_TIMEOUT', JSON.stringify(result));
      const [create] = fixture.api.requestsTo('POST', /\/jobs$/).slice(-1);
      assert.equal(at(create?.body, 'spec', 'activeDeadlineSeconds'), 1);
      assert.deepEqual(fixture.api.runningJobs(spec.name), []);
    } finally {
      await executor.close();
    }
  });

  void test('cancel deletes the Job with background propagation and ends JOB_CANCELLED (in-test endpoint, not live)', async () => {
    const executor = await fixture.executor();
    try {
      const spec = service({ script: 'echo started; sleep 60\n' });
      await executor.deploy(spec);
      const controller = new AbortController();
      const invocation = await data.invocation(spec, { body: '{}', event: '{}', signal: controller.signal });
      const run = executor.run(invocation);
      while (fixture.api.runningJobs(spec.name).length === 0) await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      const result = await run;
      assert.equal(result.error?.code, 'JOB_CANCELLED');
      const [deletion] = fixture.api.requestsTo('DELETE', /\/jobs\/[^/]+$/).slice(-1);
      const policy = deletion?.query.get('propagationPolicy') ?? at(deletion?.body, 'propagationPolicy');
      assert.equal(policy, 'Background');
      assert.deepEqual(fixture.api.runningJobs(spec.name), []);
    } finally {
      await executor.close();
    }
  });

  void test('429 with Retry-After and 503 are retried, then the job runs; 409 on create follows the existing Job (in-test endpoint, not live)', async () => {
    const executor = await fixture.executor();
    try {
      const spec = service({ script: 'echo ok\n' });
      await executor.deploy(spec);
      const before = fixture.api.requestsTo('POST', /\/jobs$/).length;
      fixture.api.inject(
        'POST',
        /\/jobs$/,
        { status: 429, headers: { 'retry-after': '0' } },
        { status: 503 },
      );
      const invocation = await data.invocation(spec, { body: '{}', event: '{}' });
      const result = await executor.run(invocation);
      assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
      assert.equal(fixture.api.requestsTo('POST', /\/jobs$/).length - before, 3);

      // The same job submitted again (a lease lost after creation) meets 409 and follows the Job.
      const again = await executor.run({ ...invocation });
      assert.equal(again.status, 'succeeded');
    } finally {
      await executor.close();
    }
  });

  void test('throttling that never ends is BACKEND_THROTTLED; a 403 is BACKEND_REJECTED at once (in-test endpoint, not live)', async () => {
    const executor = await fixture.executor({ maxAttempts: 3 });
    try {
      const spec = service();
      await executor.deploy(spec);
      const throttle = { status: 429, headers: { 'retry-after': '0' } };
      fixture.api.inject('POST', /\/jobs$/, throttle, throttle, throttle);
      const invocation = await data.invocation(spec, { body: '{}', event: '{}' });
      await assert.rejects(
        executor.run(invocation),
        (error: unknown) => error instanceof PlatformError && error.code === 'BACKEND_THROTTLED',
      );
      const before = fixture.api.requests.length;
      fixture.api.inject('POST', /\/jobs$/, {
        status: 403,
        body: {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'Forbidden',
          code: 403,
          message: 'jobs.batch is forbidden',
        },
      });
      await assert.rejects(
        executor.run(await data.invocation(spec, { body: '{}', event: '{}' })),
        (error: unknown) =>
          error instanceof PlatformError &&
          error.code === 'BACKEND_REJECTED' &&
          /forbidden/.test(error.message),
      );
      assert.equal(fixture.api.requests.length - before, 1, 'a 403 is not retried');
    } finally {
      await executor.close();
    }
  });

  void test('a pod whose image cannot be pulled fails the job instead of hanging, and its Job is deleted (in-test endpoint, not live)', async () => {
    const executor = await fixture.executor();
    try {
      const spec = service({ image: 'missing/image:0' });
      await executor.deploy(spec);
      const invocation = await data.invocation(spec, { body: '{}', event: '{}' });
      const result = await executor.run(invocation);
      assert.equal(result.error?.code, 'BACKEND_REJECTED');
      assert.match(result.error?.message ?? '', /ErrImagePull/);
      assert.equal(fixture.api.object('jobs', NAMESPACE, invocation.jobId), undefined);
    } finally {
      await executor.close();
    }
  });

  void test('with Knative, deploy sends a Knative Service (valid, cluster-local, containerConcurrency 1, scale bounds); deploy twice replaces it with its resourceVersion (in-test endpoint, not live)', async () => {
    const executor = await fixture.executor({ knative: { enabled: true, minScale: 1, maxScale: 5 } });
    try {
      const spec = service({ annotations: { 'autoscaling.knative.dev/max-scale': '3' } });
      await executor.deploy(spec);
      await executor.deploy(spec);
      assert.deepEqual(fixture.api.invalid, []);
      const ksvc = fixture.api.object('services', NAMESPACE, spec.name);
      assert.deepEqual(kubernetesSchemaErrors(ksvc), []);
      assert.equal(at(ksvc, 'metadata', 'labels', 'networking.knative.dev/visibility'), 'cluster-local');
      const template = at(ksvc, 'spec', 'template');
      assert.equal(at(template, 'spec', 'containerConcurrency'), 1);
      assert.equal(at(template, 'metadata', 'annotations', 'autoscaling.knative.dev/min-scale'), '1');
      assert.equal(
        at(template, 'metadata', 'annotations', 'autoscaling.knative.dev/max-scale'),
        '3',
        'the service wins',
      );
      const replace = fixture.api.requestsTo(
        'PUT',
        /serving\.knative\.dev\/v1\/namespaces\/nubes-test\/services\//,
      );
      assert.equal(replace.length, 1);
      assert.ok(at(replace[0]?.body, 'metadata', 'resourceVersion'));
      await executor.undeploy(spec.name);
      assert.equal(fixture.api.object('services', NAMESPACE, spec.name), undefined);
    } finally {
      await executor.close();
    }
  });

  void test("the FDL's synchronous.min_scale/max_scale reach the Knative Service's scale bounds (in-test endpoint, not live)", async () => {
    const executor = await fixture.executor({ knative: { enabled: true, minScale: 1, maxScale: 5 } });
    try {
      const name = `k-${randomBytes(3).toString('hex')}`;
      const { services } = parseFdl(
        [
          'functions:',
          '  oscar:',
          '    - cluster:',
          `        name: ${name}`,
          '        image: registry.example/science/tool:2',
          '        script: "echo hi"',
          '        executor: kubernetes',
          '        synchronous:',
          '          min_scale: 2',
          '          max_scale: 7',
          '',
        ].join('\n'),
        { file: 'knative.yaml', readScript: () => 'echo hi\n' },
      );
      assert.ok(services[0]);
      const spec = toServiceSpec(services[0].json);
      assert.deepEqual(spec.synchronous, { minScale: 2, maxScale: 7 });
      await executor.deploy({ ...spec, annotations: { 'autoscaling.knative.dev/max-scale': '3' } });
      const ksvc = fixture.api.object('services', NAMESPACE, spec.name);
      assert.deepEqual(kubernetesSchemaErrors(ksvc), []);
      const annotations = at(ksvc, 'spec', 'template', 'metadata', 'annotations');
      assert.equal(at(annotations, 'autoscaling.knative.dev/min-scale'), '2');
      assert.equal(
        at(annotations, 'autoscaling.knative.dev/max-scale'),
        '7',
        'the FDL wins over annotations',
      );
      await executor.undeploy(spec.name);
    } finally {
      await executor.close();
    }
  });

  void test('with Knative, a sync call (/run) goes through the Knative Service, not a Job, and returns the output files (in-test endpoint, not live)', async () => {
    const executor = await fixture.executor({ knative: { enabled: true } });
    try {
      assert.equal(executor.capabilities.sync, true);
      const spec = service({
        script: 'echo "via knative"\ntr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/up.txt"\n',
      });
      await executor.deploy(spec);
      const jobsBefore = fixture.api.requestsTo('POST', /\/jobs$/).length;
      const invocation = {
        ...(await data.invocation(spec, { body: '{"a":"b"}', event: '{"a":"b"}' })),
        sync: true,
      };
      const result = await executor.run(invocation);
      assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
      assert.deepEqual(result.outputFiles, ['up.txt']);
      assert.equal(await readFile(`${result.outputDir}/up.txt`, 'utf8'), '{"A":"B"}');
      assert.match(await readFile(invocation.logPath, 'utf8'), /via knative/);
      assert.equal(fixture.api.requestsTo('POST', /\/jobs$/).length, jobsBefore, 'a Job was created');
      assert.equal(fixture.api.knative.served.get(spec.name), 1);

      const failing = service({ script: 'echo broken >&2\nexit 4\n' });
      await executor.deploy(failing);
      const failed = await executor.run({
        ...(await data.invocation(failing, { body: '{}', event: '{}' })),
        sync: true,
      });
      assert.equal(failed.status, 'failed');
      assert.equal(failed.exitCode, 4);
      assert.equal(failed.error?.code, 'JOB_FAILED');
      // An async job of the same service is still a Job.
      const queued = await executor.run(await data.invocation(spec, { body: '{}', event: '{}' }));
      assert.equal(queued.status, 'succeeded', JSON.stringify(queued.error));
      assert.equal(fixture.api.requestsTo('POST', /\/jobs$/).length, jobsBefore + 1);
    } finally {
      await executor.close();
    }
  });

  void test('the configuration is strict: unknown fields and kubeconfig with inCluster are refused', () => {
    assert.equal(kubernetesExecutorConfigSchema.safeParse({ namespce: 'x' }).success, false);
    assert.equal(
      kubernetesExecutorConfigSchema.safeParse({ inCluster: true, kubeconfig: '/k' }).success,
      false,
    );
    assert.equal(kubernetesExecutorConfigSchema.safeParse({ namespace: 'Not_A_Label' }).success, false);
    const parsed = kubernetesExecutorConfigSchema.parse({});
    assert.equal(parsed.namespace, 'nubes-svc');
    assert.equal(parsed.ttlSecondsAfterFinished, 2_592_000);
  });
});
