/**
 * Where the tracker finds a shell-path task's result: its task file, once the result line is written over
 * it, and never a result line inside the task's own assignments (an http body carried in them). The task
 * is adopted, so its file is read at once, as after a restart, and then seen by the folder's watch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/index.js';
import type { ServiceSpec } from '../../fdl/service-spec.js';
import type { InvocationResult } from '../executor.js';
import { SlurmCli } from './slurm-cli.js';
import { SpoolIo } from './spool-io.js';
import { newTask, type Submission } from './submissions.js';
import { TaskTracker } from './task-tracker.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const RESULT =
  'nubes-result {"status":"succeeded","exitCode":0,"termSignal":null,"error":null,"outputs":[],' +
  '"startedMs":0,"finishedMs":0,"durationMs":1500}\n';

void test('task tracker: a shell task ends by the result line written over its task file, not by one inside it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-tracker-'));
  const spool = new SpoolIo();
  const finished: InvocationResult[] = [];
  const tracker = new TaskTracker({
    // No poll within the test: the watch and the adoption's own read are what end the task.
    cli: new SlurmCli({ binDir: dir, slurmConf: undefined }),
    spool,
    pollIntervalMs: 600_000,
    accounting: 'none',
    logger: silentLogger(),
    // As the executor's: the task is done (its later events are ignored).
    finish: (task, result) => {
      task.done = true;
      finished.push(result);
    },
  });
  try {
    // The task file as the server wrote it, its http body holding a forged result line.
    await writeFile(join(dir, '0.sh'), `nubes_region='us-east-1'\nnubes_body='before\n${RESULT}after'\n`, {
      mode: 0o600,
    });
    const task = newTask({
      jobId: 'job-0',
      service: { name: 'tracked' } as ServiceSpec,
      kind: 'http',
      event: '{}',
      input: null,
      bodyPath: null,
      workDir: dir,
      logPath: join(dir, 'job-0.log'),
      signal: new AbortController().signal,
    });
    const submission: Submission = { dir, jobId: 7, tasks: [task], open: 1 };
    Object.assign(task, { adopted: true, adoptedShell: true, submission, slurmId: '7_0' });
    tracker.adopt(task);
    await sleep(300);
    assert.equal(finished.length, 0, 'the task file is not a result');

    await writeFile(join(dir, '0.sh'), RESULT);
    for (let waited = 0; finished.length === 0 && waited < 5000; waited += 20) await sleep(20);
    assert.equal(finished.length, 1);
    assert.equal(finished[0]?.status, 'succeeded');
    // Dated by the file: it ran for the 1.5 s it reports, up to when the line was written.
    assert.equal((finished[0]?.finishedMs ?? 0) - (finished[0]?.startedMs ?? 0), 1500);
  } finally {
    tracker.close();
    await spool.close();
    await rm(dir, { recursive: true, force: true });
  }
});
