import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformError } from '../core/index.js';
import {
  normalizeProvider,
  resolveProviders,
  resolveStorageIo,
  retryPolicy,
  toServiceSpec,
} from './resolve-service.js';
import { validateServiceJson } from './service-json.js';

void test('defaults: 0.2 CPU, 256Mi, INFO, private, local executor, 3 attempts, no timeout', () => {
  const spec = toServiceSpec(validateServiceJson({ name: 'plain', image: 'alpine' }));
  assert.deepEqual(spec, {
    name: 'plain',
    image: 'alpine',
    script: '',
    cpu: 0.2,
    memoryBytes: 256 * 2 ** 20,
    enableGpu: false,
    logLevel: 'INFO',
    variables: {},
    secrets: {},
    input: [],
    output: [],
    storageProviders: {},
    ephemeralStorageBytes: 0,
    timeoutMs: 0,
    maxConcurrency: 0,
    retry: { maxAttempts: 3, initialBackoffMs: 1000, maxBackoffMs: 60000 },
    executor: 'local',
    network: 'none',
    slurm: { partition: null, account: null, qos: null, gres: null, options: [] },
    executionMode: null,
    synchronous: { minScale: null, maxScale: null },
    visibility: 'private',
    allowedUsers: [],
    labels: {},
    annotations: {},
  });
});

void test('every field resolves: quantities, variables, Nubes limits and retry policy', () => {
  const spec = toServiceSpec(
    validateServiceJson({
      name: 'full',
      image: 'alpine',
      script: 'echo hi\n',
      cpu: '1500m',
      memory: '2Gi',
      enable_gpu: true,
      log_level: 'error',
      environment: { Variables: { A: '1' }, Secrets: { S: '2' } },
      timeout: 2.5,
      max_concurrency: 8,
      max_retries: 0,
      retry_backoff: 90,
      executor: 'container',
      visibility: 'restricted',
      allowed_users: ['u@egi.eu'],
      labels: { team: 'a' },
      annotations: { note: 'b' },
    }),
  );
  assert.equal(spec.cpu, 1.5);
  assert.equal(spec.memoryBytes, 2 * 2 ** 30);
  assert.equal(spec.logLevel, 'ERROR');
  assert.deepEqual([spec.variables, spec.secrets], [{ A: '1' }, { S: '2' }]);
  assert.equal(spec.timeoutMs, 2500);
  assert.equal(spec.maxConcurrency, 8);
  // A first backoff longer than the default cap raises the cap rather than being cut.
  assert.deepEqual(spec.retry, { maxAttempts: 1, initialBackoffMs: 90000, maxBackoffMs: 90000 });
  assert.deepEqual(
    [spec.executor, spec.visibility, spec.allowedUsers],
    ['container', 'restricted', ['u@egi.eu']],
  );
  assert.deepEqual([spec.labels, spec.annotations], [{ team: 'a' }, { note: 'b' }]);
});

void test('providers: a bare type is <type>.default; the type is lower-cased, the id kept', () => {
  assert.equal(normalizeProvider('minio'), 'minio.default');
  assert.equal(normalizeProvider('s3'), 's3.default');
  assert.equal(normalizeProvider('MinIO.Edge'), 'minio.Edge');
  assert.equal(normalizeProvider('webdav.dcache'), 'webdav.dcache');
});

void test("paths: OSCAR's rewrite of a bare MinIO/S3 name to <service>/<name>, then bucket and folder", () => {
  const io = (storage_provider: string, path: string) => resolveStorageIo({ storage_provider, path }, 'svc');
  assert.deepEqual(io('minio', 'in'), {
    provider: 'minio.default',
    path: 'svc/in',
    bucket: 'svc',
    folder: 'in',
    prefixes: [],
    suffixes: [],
  });
  assert.deepEqual([io('s3.x', 'out').path, io('s3.x', 'out').bucket], ['svc/out', 'svc']);
  assert.deepEqual([io('minio', '/data/a/b/').path, io('minio', 'data/a/b').folder], ['data/a/b', 'a/b']);
  // WebDAV, Onedata and Rucio paths are not rewritten.
  assert.deepEqual(
    [io('webdav.d', 'top').path, io('webdav.d', 'top').bucket, io('webdav.d', 'top').folder],
    ['top', 'top', ''],
  );
  assert.deepEqual(
    resolveStorageIo(
      { storage_provider: 'minio', path: 'b/f', prefix: ['p_'], suffix: ['.png', '.jpg'] },
      'svc',
    ),
    {
      provider: 'minio.default',
      path: 'b/f',
      bucket: 'b',
      folder: 'f',
      prefixes: ['p_'],
      suffixes: ['.png', '.jpg'],
    },
  );
  assert.throws(() => io('minio', ' / '), { code: 'VALIDATION_FAILED' });
});

void test('retry policy: max_retries retries after the first attempt', () => {
  assert.deepEqual(retryPolicy({}), { maxAttempts: 3, initialBackoffMs: 1000, maxBackoffMs: 60000 });
  assert.deepEqual(retryPolicy({ max_retries: 5, retry_backoff: 0.25 }), {
    maxAttempts: 6,
    initialBackoffMs: 250,
    maxBackoffMs: 60000,
  });
});

void test('an unvalidated bad quantity fails with VALIDATION_FAILED naming the field', () => {
  assert.throws(
    () => toServiceSpec({ name: 'x', image: 'y', cpu: 'many', memory: '1GB' }),
    (error: unknown) =>
      error instanceof PlatformError &&
      error.code === 'VALIDATION_FAILED' &&
      (error.details as { issues: { path: string }[] }).issues.map((i) => i.path).join() === 'cpu,memory',
  );
});

void test('an input may subscribe to storage events (removals too); an unknown event name is refused', () => {
  const spec = toServiceSpec(
    validateServiceJson({
      name: 'watcher',
      image: 'alpine',
      input: [
        {
          storage_provider: 'minio',
          path: 'data/in',
          events: ['s3:ObjectRemoved:*', 's3:ObjectCreated:Copy'],
        },
        { storage_provider: 'minio', path: 'data/other' },
      ],
    }),
  );
  assert.deepEqual(spec.input[0]?.events, ['s3:ObjectRemoved:*', 's3:ObjectCreated:Copy']);
  assert.equal(spec.input[1]?.events, undefined);
  assert.throws(
    () =>
      validateServiceJson({
        name: 'watcher',
        image: 'alpine',
        input: [{ storage_provider: 'minio', path: 'data/in', events: ['s3:ObjectDeleted'] }],
      }),
    (error: unknown) =>
      error instanceof PlatformError &&
      /s3:ObjectDeleted/.test(JSON.stringify(error.details) + error.message),
  );
});

void test('storage_providers resolve by <type>.<id>: https added to bare hosts, incomplete entries left out', () => {
  const providers = resolveProviders({
    minio: {
      edge: { endpoint: 'http://10.0.0.1:9000', access_key: 'AK', secret_key: 'SK', verify: false },
      broken: { access_key: 'AK' },
    },
    s3: {
      aws: { access_key: 'A', secret_key: 'S', region: 'eu-west-1' },
      rgw: { endpoint: 'http://rgw:7480' },
    },
    webdav: { dcache: { hostname: 'dcache.example.org:2880', login: 'u', password: 'p' } },
    onedata: { hub: { oneprovider_host: 'op.example.org', token: 'T', space: 'sp' }, half: { token: 'T' } },
  });
  assert.deepEqual(
    Object.keys(providers).sort(),
    ['minio.edge', 's3.aws', 's3.rgw', 'webdav.dcache', 'onedata.hub'].sort(),
  );
  assert.deepEqual(providers['minio.edge'], {
    type: 'minio',
    endpoint: 'http://10.0.0.1:9000',
    region: 'us-east-1',
    accessKey: 'AK',
    secretKey: 'SK',
    verifyTls: false,
  });
  assert.equal((providers['s3.aws'] as { endpoint: unknown }).endpoint, null);
  assert.equal(
    (providers['webdav.dcache'] as { baseUrl: string }).baseUrl,
    'https://dcache.example.org:2880',
  );
  assert.equal((providers['onedata.hub'] as { baseUrl: string }).baseUrl, 'https://op.example.org');
});

void test('inputs on external MinIO/S3 get a trigger (webhook unless poll or sqs); outputs and the embedded store none', () => {
  const spec = toServiceSpec(
    validateServiceJson({
      name: 'svc',
      image: 'i',
      input: [
        { storage_provider: 'minio', path: 'b/in' },
        { storage_provider: 'minio.edge', path: 'b/in' },
        { storage_provider: 's3.rgw', path: 'b/in', trigger: 'poll', poll_interval: 5 },
        { storage_provider: 's3.aws', path: 'b/in', trigger: 'sqs', queue_url: 'https://sqs/q' },
      ],
      output: [{ storage_provider: 's3.rgw', path: 'b/out' }],
    }),
  );
  assert.deepEqual(
    spec.input.map((io) => io.trigger),
    [
      undefined,
      { kind: 'webhook' },
      { kind: 'poll', intervalMs: 5000 },
      { kind: 'sqs', queueUrl: 'https://sqs/q' },
    ],
  );
  assert.equal(spec.output[0]?.trigger, undefined);
  assert.throws(
    () =>
      validateServiceJson({
        name: 'svc',
        image: 'i',
        input: [{ storage_provider: 's3.aws', path: 'b/in', trigger: 'sqs' }],
      }),
    /queue_url/,
  );
});
