import { test } from 'node:test';
import assert from 'node:assert/strict';
import { partitionSbatchArgs } from './partition-runners.js';

void test("a partition's sbatch arguments carry the site's resource options, and only those given", () => {
  const job = { dir: '/shared/nubes/job-1-0', name: 'job-1-0' };
  const plain = partitionSbatchArgs({}, job);
  assert.deepEqual(plain, [
    '--parsable',
    '--job-name=nubes-partition-job-1-0',
    '--nodes=1',
    '--ntasks=1',
    '--no-requeue',
    '--chdir=/shared/nubes/job-1-0',
    '--output=/shared/nubes/job-1-0/partition.log',
    '/shared/nubes/job-1-0/partition.sh',
  ]);
  const full = partitionSbatchArgs(
    {
      partition: 'gpu',
      account: 'proj',
      qos: 'long',
      time: '1-12',
      cpusPerTask: 4,
      memory: '8G',
      gres: 'gpu:1',
    },
    job,
  );
  assert.deepEqual(full.slice(6, -1), [
    '--output=/shared/nubes/job-1-0/partition.log',
    '--partition=gpu',
    '--account=proj',
    '--qos=long',
    '--time=1-12',
    '--cpus-per-task=4',
    '--mem=8G',
    '--gres=gpu:1',
  ]);
  assert.equal(full.at(-1), '/shared/nubes/job-1-0/partition.sh', 'the script comes last');
});
