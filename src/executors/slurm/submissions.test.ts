/**
 * How invocations are gathered into sbatch submissions, timed against a stand-in `sbatch` (a shell script
 * that records its arguments, takes a set time and answers as `sbatch --parsable` does): the real cluster's
 * burst test (test/executors/slurm) covers the jobs themselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/index.js';
import type { ServiceSpec } from '../../fdl/service-spec.js';
import { slurmExecutorConfigSchema } from './config-schema.js';
import { SlurmCli } from './slurm-cli.js';
import { SpoolIo } from './spool-io.js';
import { newTask, Submissions, type Submission, type SlurmTask } from './submissions.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A stand-in sbatch taking `seconds`: logs `<time ms> <--array value or "plain">` a line per call. */
async function fakeSbatch(binDir: string, seconds: number): Promise<string> {
  const log = join(binDir, 'calls.log');
  await writeFile(
    join(binDir, 'sbatch'),
    [
      '#!/bin/sh',
      'array=plain',
      'for arg in "$@"; do case $arg in --array=*) array=${arg#--array=} ;; esac; done',
      `sleep ${seconds}`,
      `echo "$array" >> '${log}'`,
      'echo 4242',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return log;
}

function task(index: number): SlurmTask {
  return newTask({
    jobId: `job-${index}`,
    service: { name: 'gather' } as ServiceSpec,
    kind: 'http',
    event: '{}',
    input: null,
    bodyPath: null,
    workDir: '/nonexistent',
    logPath: '/nonexistent',
    signal: new AbortController().signal,
  });
}

async function gathering(config: Record<string, unknown>, sbatchSeconds: number) {
  const root = await mkdtemp(join(tmpdir(), 'nubes-submissions-'));
  const calls = await fakeSbatch(root, sbatchSeconds);
  const spool = new SpoolIo();
  const started = Date.now();
  const submitted: { atMs: number; tasks: number }[] = [];
  const submissions = new Submissions({
    cli: new SlurmCli({ binDir: root, slurmConf: undefined }),
    spool,
    spoolDir: root,
    config: slurmExecutorConfigSchema.parse(config),
    logger: silentLogger(),
    submitted: (submission: Submission) =>
      submitted.push({ atMs: Date.now() - started, tasks: submission.open }),
    rejected: (_task, error) => assert.fail(`rejected: ${error.message}`),
  });
  return {
    submissions,
    submitted,
    started,
    add: (index: number) => submissions.add(task(index), ['--job-name=nubes-gather']),
    arrays: async () => (await readFile(calls, 'utf8')).trim().split('\n'),
    async close() {
      await submissions.close();
      await spool.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

void test('submissions: in a burst that keeps coming, the first jobs go arrayWindowMs after the first; the rest gather while an sbatch is under way', async () => {
  const run = await gathering({ arrayWindowMs: 50, maxArrayWaitMs: 10_000 }, 0.3);
  try {
    // A job every 10 ms for 0.8 s: never a quiet moment of 50 ms.
    for (let index = 0; index < 80; index++) {
      run.add(index);
      await sleep(10);
    }
    while (run.submitted.reduce((sum, submission) => sum + submission.tasks, 0) < 80) await sleep(20);
    const [first, second] = run.submitted;
    // The first went while jobs kept coming (sbatch itself takes 0.3 s), not at the burst's end.
    assert.ok((first?.atMs ?? Infinity) < 700, `the first went at ${first?.atMs} ms`);
    assert.ok((first?.tasks ?? 0) < 20, `the first held ${first?.tasks} jobs`);
    // Each next one held what came while the one before was under way, and went when it returned.
    assert.ok(run.submitted.length >= 3, `sizes: ${run.submitted.map((s) => s.tasks).join(', ')}`);
    assert.ok((second?.tasks ?? 0) >= 15, `the second held ${second?.tasks} jobs`);
    for (const [at, submission] of run.submitted.entries()) {
      const before = run.submitted[at - 1];
      if (before !== undefined)
        assert.ok(
          submission.atMs - before.atMs >= 250,
          `one sbatch at a time: ${JSON.stringify(run.submitted)}`,
        );
    }
    // A lone job is a plain job; an array lists the indexes of its own folder.
    const arrays = await run.arrays();
    assert.equal(arrays[0], (first?.tasks ?? 0) === 1 ? 'plain' : `0-${(first?.tasks ?? 0) - 1}`);
    assert.equal(arrays[1], `0-${(second?.tasks ?? 0) - 1}`);
  } finally {
    await run.close();
  }
});

void test('submissions: a group waiting on a slow sbatch goes maxArrayWaitMs after its first job all the same', async () => {
  const run = await gathering({ arrayWindowMs: 10, maxArrayWaitMs: 300 }, 1.5);
  try {
    run.add(0);
    await sleep(50);
    run.add(1);
    run.add(2);
    // The first sbatch takes 1.5 s; the second group may not wait for it beyond 300 ms after its first.
    while (run.submitted.length < 2) await sleep(20);
    assert.deepEqual(
      run.submitted.map((submission) => submission.tasks),
      [1, 2],
    );
    assert.deepEqual(await run.arrays(), ['plain', '0-1']);
    // Its sbatch started ~350 ms in, while the first's still ran: it returned ~350 ms after that one, not
    // a whole sbatch (1.5 s) after.
    const [first, second] = run.submitted;
    const apart = (second?.atMs ?? 0) - (first?.atMs ?? 0);
    assert.ok(apart < 1000, `second at ${second?.atMs} ms, first at ${first?.atMs} ms`);
  } finally {
    await run.close();
  }
});

void test('submissions: a burst with no sbatch under way goes as one array, arrayWindowMs after its first job', async () => {
  const run = await gathering({ arrayWindowMs: 150, maxArrayWaitMs: 10_000 }, 0.05);
  try {
    for (let index = 0; index < 50; index++) run.add(index);
    while (run.submitted.length < 1) await sleep(10);
    await sleep(300);
    assert.deepEqual(
      run.submitted.map((submission) => submission.tasks),
      [50],
    );
    assert.deepEqual(await run.arrays(), ['0-49']);
    assert.ok((run.submitted[0]?.atMs ?? 0) >= 140, `went at ${run.submitted[0]?.atMs} ms`);
  } finally {
    await run.close();
  }
});
