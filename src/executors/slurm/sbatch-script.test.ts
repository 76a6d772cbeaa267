import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slurmExecutorConfigSchema } from './config-schema.js';
import {
  arraySpec,
  batchScript,
  serviceOptions,
  shellQuote,
  submissionArgs,
  timeLimitMinutes,
} from './sbatch-script.js';
import type { ServiceSpec } from '../../fdl/service-spec.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

const service = (overrides: Partial<ServiceSpec> = {}): ServiceSpec => ({
  name: 'sim',
  image: '',
  script: 'true',
  cpu: 1.5,
  memoryBytes: 3 * 1024 ** 3,
  enableGpu: false,
  logLevel: 'INFO',
  variables: {},
  secrets: {},
  input: [],
  output: [],
  ephemeralStorageBytes: 0,
  timeoutMs: 90_000,
  maxConcurrency: 0,
  retry: { maxAttempts: 1, initialBackoffMs: 1000, maxBackoffMs: 60000 },
  executor: 'slurm',
  network: 'none',
  slurm: { partition: null, account: null, qos: null, gres: null, options: [] },
  executionMode: null,
  synchronous: { minScale: null, maxScale: null },
  visibility: 'private',
  allowedUsers: [],
  labels: {},
  annotations: {},
  storageProviders: {},
  ...overrides,
});

test('FDL resources map to sbatch options; the slurm block overrides the executor defaults', () => {
  const config = slurmExecutorConfigSchema.parse({
    partition: 'batch',
    account: 'proj',
    options: ['--exclusive'],
  });
  assert.deepEqual(serviceOptions(service(), config), [
    '--job-name=nubes-sim',
    '--nodes=1',
    '--ntasks=1',
    '--partition=batch',
    '--account=proj',
    '--cpus-per-task=2',
    '--mem=3072M',
    '--time=3',
    '--no-requeue',
    '--exclusive',
  ]);
  const gpu = serviceOptions(
    service({
      enableGpu: true,
      timeoutMs: 0,
      memoryBytes: 0,
      slurm: { partition: 'gpu', account: null, qos: 'high', gres: null, options: ['--constraint=a100'] },
    }),
    config,
  );
  assert.ok(gpu.includes('--partition=gpu') && gpu.includes('--qos=high') && gpu.includes('--gres=gpu:1'));
  assert.ok(
    gpu.includes('--constraint=a100') && !gpu.some((o) => o.startsWith('--time') || o.startsWith('--mem')),
  );
  const gres = serviceOptions(
    service({
      enableGpu: true,
      slurm: { partition: null, account: null, qos: null, gres: 'gpu:a100:2', options: [] },
    }),
    config,
  );
  assert.ok(gres.includes('--gres=gpu:a100:2') && !gres.includes('--gres=gpu:1'));
});

test("Slurm's time limit is the service timeout plus the grace, in whole minutes", () => {
  assert.equal(timeLimitMinutes(1000, 60_000), 2);
  assert.equal(timeLimitMinutes(3_600_000, 0), 60);
  assert.equal(timeLimitMinutes(0, 0), 1);
});

test('a burst goes as an array, a lone job as a plain job', () => {
  const array = submissionArgs(['--job-name=nubes-sim'], '/spool/a', arraySpec(range(200)));
  assert.ok(array.includes('--array=0-199') && array.includes('--output=/spool/a/%a.slurm'));
  assert.equal(array.at(-1), '/spool/a/job.sh');
  const single = submissionArgs(['--job-name=nubes-sim'], '/spool/b', null);
  assert.ok(!single.some((a) => a.startsWith('--array')) && single.includes('--output=/spool/b/0.slurm'));
  // The executor's own: Slurm's messages appended to each task's log, no file of their own.
  const intoLog = submissionArgs(['--job-name=nubes-sim'], '/spool/c', '0-2', true);
  for (const arg of ['--output=/spool/c/%a.log', '--error=/spool/c/%a.log', '--open-mode=append'])
    assert.ok(intoLog.includes(arg), arg);
  assert.ok(!intoLog.some((a) => a.includes('.slurm')));
});

test('an array whose gathering lost tasks (cancelled before sbatch) lists the others, in ranges', () => {
  assert.equal(arraySpec([0, 1, 2, 3, 4, 6, 7, 8, 9]), '0-4,6-9');
  assert.equal(arraySpec([1]), '1');
  assert.equal(arraySpec([0, 2, 4, 5]), '0,2,4-5');
  assert.equal(arraySpec([]), '');
  const args = submissionArgs(['--job-name=nubes-sim'], '/spool/d', arraySpec([0, 2, 3]), true);
  assert.ok(args.includes('--array=0,2-3') && args.includes('--output=/spool/d/%a.log'), args.join(' '));
});

test('the batch script picks its invocation by array task and quotes every path', () => {
  const script = batchScript({
    dir: "/sp ool/it's",
    node: '/usr/bin/node',
    supervisor: '/opt/n/main.js',
    service: 'sim',
  });
  assert.match(script, /task="\$\{SLURM_ARRAY_TASK_ID:-0\}"/);
  assert.ok(script.includes(`NUBES_INVOCATION_FILE='/sp ool/it'\\''s'/"$task.json"`), script);
  assert.equal(shellQuote("a'b"), `'a'\\''b'`);
});
