import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendWarnings, type BackendCapabilities } from './backend-warnings.js';
import { validateServiceJson } from './service-json.js';

const local: BackendCapabilities = { sync: true, gpu: false, containers: false, maxConcurrency: 4 };
const container: BackendCapabilities = { sync: true, gpu: true, containers: true, maxConcurrency: 0 };

void test('the local executor records the image without running it', () => {
  const json = validateServiceJson({
    name: 'a',
    image: 'ghcr.io/x/y:1',
    script: 'echo',
    input: [{ storage_provider: 'minio', path: 'a/in' }],
  });
  assert.deepEqual(backendWarnings(json, local, 'local'), [
    'the local executor runs the script on the host; image ghcr.io/x/y:1 is recorded, not run',
  ]);
  assert.deepEqual(backendWarnings(json, container, 'container'), []);
});

void test('GPU, no script, concurrency above the executor limit, sync settings without /run', () => {
  const json = validateServiceJson({
    name: 'a',
    image: 'i',
    enable_gpu: true,
    max_concurrency: 10,
    synchronous: { max_scale: 2 },
  });
  const warnings = backendWarnings(json, { ...local, sync: false }, 'slurm');
  assert.deepEqual(warnings, [
    'the slurm executor runs the script on the host; image i is recorded, not run',
    'the slurm executor needs a script: with none, jobs have nothing to run',
    'enable_gpu: the slurm executor has no GPU; jobs run without one',
    'synchronous: the slurm executor does not answer /run; use /job or a storage upload',
    'max_concurrency 10: the slurm executor runs at most 4 jobs at once',
  ]);
});

void test('OSCAR features Nubes does not offer yet are each named', () => {
  const json = validateServiceJson({
    name: 'a',
    image: 'i',
    script: 's',
    replicas: [{ type: 'oscar', cluster_id: 'c' }],
    delegation: 'random',
    federation: { topology: 'star', members: [{ type: 'oscar', cluster_id: 'c' }] },
    expose: { api_port: 80 },
    kserve: { type: 'llm_inference', storage_uri: 'hf://m' },
    mount: { storage_provider: 'minio', path: 'b/m' },
    volume: { size: '1Gi', mount_path: '/data' },
    vo: 'vo.example.eu',
    isolation_level: 'USER',
    enable_sgx: true,
    image_prefetch: true,
    interlink_node_name: 'vk',
    total_cpu: '4',
    ephemeral_storage_request: '1Gi',
    image_pull_secrets: ['regcred'],
    input: [{ storage_provider: 'webdav.dcache', path: 'b/in' }],
    output: [
      { storage_provider: 'minio.other', path: 'b/out' },
      { storage_provider: 'rucio.cern', path: 'space/out' },
    ],
  });
  const warnings = backendWarnings(json, container, 'container');
  const fields = warnings.map((w) => w.split(/[: ]/)[0]);
  assert.deepEqual(fields, [
    'image_pull_secrets',
    'federation',
    'replicas',
    'delegation/rescheduler_threshold',
    'expose',
    'kserve',
    'mount',
    'volume',
    'vo',
    'isolation_level',
    'enable_sgx',
    'image_prefetch',
    'interlink_node_name',
    'total_cpu/total_memory',
    'ephemeral_storage_request',
    'input[0]',
    'output[1]',
  ]);
  // External MinIO/S3 inputs start jobs (webhook, polling, SQS); minio, s3, webdav and onedata take outputs.
  const supported = validateServiceJson({
    name: 'a',
    image: 'i',
    script: 's',
    input: [{ storage_provider: 's3.rgw', path: 'b/in', trigger: 'poll' }],
    output: [
      { storage_provider: 'webdav.dcache', path: 'b/out' },
      { storage_provider: 'onedata.hub', path: 'space/out' },
    ],
  });
  assert.deepEqual(backendWarnings(supported, container, 'container'), []);
  // An unused, zero-valued block (as OSCAR's GET returns it) says nothing.
  assert.deepEqual(
    backendWarnings(
      validateServiceJson({ name: 'a', image: 'i', script: 's', mount: { storage_provider: '', path: '' } }),
      container,
      'container',
    ),
    [],
  );
});
