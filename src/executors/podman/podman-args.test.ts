import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildContainerRunArgv, containerName } from './podman-args.js';

const input = {
  globals: { podmanPath: 'podman', runtime: 'runc' },
  name: 'nubes-job-1',
  labels: { 'nubes.service': 'svc' },
  service: { image: 'localhost/bb:1', cpu: 0.5, memoryBytes: 64 * 1024 * 1024, network: 'none' as const },
  workDir: '/data/work/job-1',
  envNames: ['SECRET_TOKEN', 'INPUT_FILE_PATH'],
  command: ['/bin/sh', '/data/work/job-1/script.sh'],
  pidsMax: 100,
  ulimit: 1024,
};

void test('limits, network, mount and runtime are mapped; env values never appear in the argv', () => {
  const argv = buildContainerRunArgv(input);
  const joined = argv.join(' ');
  assert.ok(
    joined.startsWith('podman --runtime runc --cgroup-manager cgroupfs --events-backend file run --rm'),
  );
  assert.ok(joined.includes('--network none'));
  assert.ok(joined.includes('--memory 67108864b --memory-swap 67108864b'));
  assert.ok(joined.includes('--cpus 0.5'));
  assert.ok(joined.includes('--pids-limit 100'));
  assert.ok(joined.includes('--ulimit nofile=1024:1024 --ulimit nproc=1024:1024'));
  assert.ok(joined.includes('--volume /data/work/job-1:/data/work/job-1:rw --workdir /data/work/job-1'));
  assert.ok(joined.includes('--env SECRET_TOKEN --env INPUT_FILE_PATH'));
  assert.ok(!joined.includes('SECRET_TOKEN='));
  assert.deepEqual(argv.slice(-3), ['localhost/bb:1', '/bin/sh', '/data/work/job-1/script.sh']);
});

void test('host network when asked; no memory or cpu flags when unlimited', () => {
  const argv = buildContainerRunArgv({
    ...input,
    service: { ...input.service, network: 'host', memoryBytes: 0, cpu: 0 },
  });
  assert.ok(argv.join(' ').includes('--network host'));
  assert.ok(!argv.includes('--memory') && !argv.includes('--cpus'));
});

void test('container names are podman-safe', () => {
  assert.equal(containerName('svc-1/ab:c'), 'nubes-svc-1_ab_c');
});
