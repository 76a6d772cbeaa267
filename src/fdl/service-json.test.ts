import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformError } from '../core/index.js';
import { validateServiceJson } from './service-json.js';

function issuesOf(value: unknown): { path: string; message: string }[] {
  try {
    validateServiceJson(value);
  } catch (error) {
    assert.ok(error instanceof PlatformError);
    assert.equal(error.code, 'VALIDATION_FAILED');
    return (error.details as { issues: { path: string; message: string }[] }).issues;
  }
  assert.fail('expected VALIDATION_FAILED');
}

void test('a minimal service is name and image', () => {
  assert.deepEqual(validateServiceJson({ name: 'cowsay', image: 'ghcr.io/grycap/cowsay' }), {
    name: 'cowsay',
    image: 'ghcr.io/grycap/cowsay',
  });
});

void test('unknown keys, wrong types and missing fields are all reported with their JSON path', () => {
  const issues = issuesOf({
    image: 7,
    memroy: '1Gi',
    enable_gpu: 'true',
    input: [{ storage_provider: 'minio', path: 'a/b', sufix: ['.png'] }],
    output: { storage_provider: 'minio', path: 'x' },
  });
  assert.deepEqual(issues, [
    { path: 'memroy', message: 'unknown key "memroy"; did you mean "memory"?' },
    { path: 'name', message: 'missing required field "name"' },
    { path: 'image', message: 'expected a string, got a number' },
    { path: 'enable_gpu', message: 'expected true or false, got a string' },
    { path: 'input[0].sufix', message: 'unknown key "sufix"; did you mean "suffix"?' },
    { path: 'output', message: 'expected a list, got a map' },
  ]);
});

void test('service names are DNS-safe and at most 39 characters', () => {
  assert.equal(validateServiceJson({ name: 'a', image: 'x' }).name, 'a');
  assert.equal(validateServiceJson({ name: 'a'.repeat(39), image: 'x' }).name.length, 39);
  for (const bad of ['', 'Upper', 'under_score', '-lead', 'trail-', 'a'.repeat(40), 'dot.ted']) {
    const issues = issuesOf({ name: bad, image: 'x' });
    assert.equal(issues[0]?.path, 'name', bad);
  }
});

void test('capitalised Variables/Secrets are read as variables/secrets, not both at once', () => {
  const json = validateServiceJson({
    name: 'env',
    image: 'x',
    environment: { Variables: { A: '1' }, secrets: { TOKEN: 's' } },
  });
  assert.deepEqual(json.environment, { variables: { A: '1' }, secrets: { TOKEN: 's' } });
  assert.deepEqual(issuesOf({ name: 'env', image: 'x', environment: { Variables: {}, variables: {} } }), [
    { path: 'environment.Variables', message: 'give "variables" or "Variables", not both' },
  ]);
});

void test('quantities and enums are checked; log level and isolation level are case-insensitive', () => {
  const json = validateServiceJson({
    name: 'q',
    image: 'x',
    cpu: '500m',
    memory: '1Gi',
    log_level: 'debug',
    isolation_level: 'user',
  });
  assert.equal(json.log_level, 'DEBUG');
  assert.equal(json.isolation_level, 'USER');
  // A JSON number is not a quantity string (Go's JSON decoder refuses it too); YAML's `cpu: 1.0` is text.
  assert.deepEqual(issuesOf({ name: 'q', image: 'x', memory: 12 }), [
    { path: 'memory', message: 'expected a string, got a number' },
  ]);
  const issues = issuesOf({
    name: 'q',
    image: 'x',
    cpu: 'two',
    memory: '1GB',
    visibility: 'Public',
    log_level: 'loud',
  });
  assert.deepEqual(
    issues.map((issue) => issue.path),
    ['cpu', 'memory', 'log_level', 'visibility'],
  );
});

void test('what OSCAR GET answers validates: nulls, empty strings, zero-valued blocks and server fields', () => {
  const fromGet = {
    name: 'cowsay',
    cluster_id: '',
    memory: '1Gi',
    cpu: '1.0',
    total_memory: '',
    total_cpu: '',
    ephemeral_storage_request: '',
    enable_gpu: false,
    enable_sgx: false,
    image_prefetch: false,
    synchronous: { min_scale: 0, max_scale: 0 },
    log_level: 'CRITICAL',
    image: 'ghcr.io/grycap/cowsay',
    alpine: false,
    token: 'abc123',
    file_stage_in: false,
    input: null,
    output: null,
    script: '#!/bin/sh\necho hi\n',
    expose: {
      min_scale: 0,
      max_scale: 0,
      api_port: 0,
      cpu_threshold: 0,
      rewrite_target: false,
      default_command: false,
      set_auth: false,
      health_path: '',
    },
    environment: { variables: { INPUT_TYPE: 'json' }, secrets: null },
    annotations: null,
    vo: '',
    labels: { oscar_service: 'cowsay' },
    owner: 'cluster_admin',
    interlink_node_name: '',
    visibility: 'private',
    allowed_users: null,
    isolation_level: '',
    bucket_list: null,
    mount: { storage_provider: '', path: '' },
    volume_status: { enabled: false },
  };
  const json = validateServiceJson(fromGet);
  assert.equal(json.visibility, 'private');
  assert.equal(json.isolation_level, undefined);
  assert.equal(json.input, undefined);
  assert.deepEqual(json.mount, {});
  assert.deepEqual(json.environment, { variables: { INPUT_TYPE: 'json' } });
});

void test('Nubes additions: timeout, max_concurrency, max_retries, retry_backoff, executor', () => {
  const json = validateServiceJson({
    name: 'n',
    image: 'x',
    timeout: 1.5,
    max_concurrency: 3,
    max_retries: 0,
    retry_backoff: 0.25,
    executor: 'slurm',
  });
  assert.deepEqual(
    [json.timeout, json.max_concurrency, json.max_retries, json.retry_backoff, json.executor],
    [1.5, 3, 0, 0.25, 'slurm'],
  );
  assert.deepEqual(
    issuesOf({
      name: 'n',
      image: 'x',
      timeout: -1,
      max_concurrency: 1.5,
      max_retries: '2',
      executor: 'Local Exec',
    }).map((issue) => issue.path),
    ['timeout', 'max_concurrency', 'max_retries', 'executor'],
  );
});

void test('expose ports accept one port or a list of ports (OSCAR 4.1)', () => {
  assert.equal(validateServiceJson({ name: 'e', image: 'x', expose: { api_port: 80 } }).expose?.api_port, 80);
  assert.deepEqual(
    validateServiceJson({ name: 'e', image: 'x', expose: { api_port: [80, 443] } }).expose?.api_port,
    [80, 443],
  );
  assert.deepEqual(issuesOf({ name: 'e', image: 'x', expose: { api_port: [80, 'http'] } }), [
    { path: 'expose.api_port[1]', message: 'expected a whole number, got a string' },
  ]);
});

void test('kserve inference services need a model format; storage providers and clusters are strict', () => {
  assert.deepEqual(
    issuesOf({ name: 'k', image: 'x', kserve: { type: 'inference', storage_uri: 'hf://m' } }),
    [{ path: 'kserve.inference', message: 'missing required field "inference" (type is inference)' }],
  );
  const issues = issuesOf({
    name: 'k',
    image: 'x',
    storage_providers: { ftp: {}, minio: { other: { endpoint: 'https://m', secret: 'x' } } },
    clusters: { edge: { endpoint: 'https://e', ssl: true } },
  });
  assert.deepEqual(
    issues.map((issue) => issue.path),
    ['clusters.edge.ssl', 'storage_providers.ftp', 'storage_providers.minio.other.secret'],
  );
});

void test('the error message lists every problem', () => {
  assert.throws(() => validateServiceJson({ name: 'X', image: '' }), {
    message:
      'invalid service: name: a service name uses lower-case letters, digits and "-", and starts and ends with a letter or digit; image: must not be empty',
  });
});
