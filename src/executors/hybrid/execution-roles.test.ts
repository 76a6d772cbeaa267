import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecutionRolesConfig } from '../../core/index.js';
import type { ServiceSpec } from '../../fdl/service-spec.js';
import type { ExecutorCapabilities } from '../executor.js';
import { functionTimeout, globMatches, outgrows, rolesFor } from './execution-roles.js';

const spec = (overrides: Partial<ServiceSpec>): ServiceSpec =>
  ({ name: 'sim', memoryBytes: 0, enableGpu: false, timeoutMs: 0, labels: {}, ...overrides }) as ServiceSpec;

/** AWS Lambda's limits, as its executor declares them. */
const lambda: ExecutorCapabilities = {
  sync: true,
  gpu: false,
  containers: true,
  maxConcurrency: 1000,
  limits: { timeoutMs: 900_000, memoryBytes: 10 * 1024 ** 3 },
};

test('roles: the first matching rule (by name glob and labels) over the defaults', () => {
  const config: ExecutionRolesConfig = {
    function: 'local',
    batch: 'slurm',
    rules: [
      { services: ['aws-*'], labels: {}, function: 'lambda', batch: 'aws-batch' },
      { services: [], labels: { site: 'centre' }, function: 'kubernetes', batch: null },
    ],
  };
  assert.deepEqual(rolesFor(spec({ name: 'aws-render' }), config), {
    function: 'lambda',
    batch: 'aws-batch',
  });
  assert.deepEqual(rolesFor(spec({ labels: { site: 'centre' } }), config), {
    function: 'kubernetes',
    batch: 'slurm',
  });
  assert.deepEqual(rolesFor(spec({ name: 'other' }), config), { function: 'local', batch: 'slurm' });
});

test('a job outgrows an executor by memory or by a GPU it has not; time is capped, not refused', () => {
  assert.deepEqual(outgrows(spec({ memoryBytes: 1024 ** 3 }), lambda), []);
  assert.equal(outgrows(spec({ memoryBytes: 11 * 1024 ** 3, enableGpu: true }), lambda).length, 2);
  assert.deepEqual(functionTimeout(spec({ timeoutMs: 0 }), lambda), { timeoutMs: 900_000, capped: true });
  assert.deepEqual(functionTimeout(spec({ timeoutMs: 3_600_000 }), lambda), {
    timeoutMs: 900_000,
    capped: true,
  });
  assert.deepEqual(functionTimeout(spec({ timeoutMs: 60_000 }), lambda), {
    timeoutMs: 60_000,
    capped: false,
  });
  const unlimited = { ...lambda, gpu: true, limits: { timeoutMs: 0, memoryBytes: 0 } };
  assert.deepEqual(functionTimeout(spec({ timeoutMs: 0 }), unlimited), { timeoutMs: 0, capped: false });
  assert.deepEqual(outgrows(spec({ memoryBytes: 99 * 1024 ** 3, enableGpu: true }), unlimited), []);
});

test('service globs', () => {
  assert.ok(globMatches('aws-*', 'aws-x'));
  assert.ok(!globMatches('aws-*', 'xaws-x'));
  assert.ok(globMatches('a.b', 'a.b') && !globMatches('a.b', 'axb'));
});
