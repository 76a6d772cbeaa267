/**
 * SIGKILL at a random point (seeded) of a running workflow of two chained services (first: in -> mid,
 * second: mid -> out): the state store passes its integrity check; after a restart every input reaches
 * `out`; the first service ran each input to completion once or no more often than its attempts; the second
 * ran for each intermediate file no more often than it was written; nothing is left behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type ServerProcess } from '../support/server-process.js';
import { listKeys, putText, s3For } from '../support/s3-client.js';
import {
  assertIntegrity,
  assertNoOrphans,
  assertRunsWithinPolicy,
  killHard,
  receiptService,
  receiptsByBase,
  seededRandom,
  settledJobs,
} from '../support/crash-kit.js';

const FILES = 30;
let server: ServerProcess;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.cleanup();
});

async function deploy(definition: Record<string, unknown>): Promise<void> {
  const created = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(definition),
  });
  assert.equal(created.status, 201, await created.text());
}

test('SIGKILL at a random point of a two-service workflow: every input reaches the end, no stage runs beyond its policy', async () => {
  const random = seededRandom('workflow');
  const killAfterMs = random.between(200, 4000);
  await deploy(receiptService('first', 'flow/in', 'flow/mid', 'flow/receipts-first'));
  await deploy(receiptService('second', 'flow/mid', 'flow/out', 'flow/receipts-second'));
  const s3 = await s3For(server);
  for (let n = 0; n < FILES; n++) await putText(s3, 'flow', `in/f${n}.txt`, `file ${n}\n`);
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  await killHard(server);
  assertIntegrity(server.dataDir);

  await server.restart();
  const s3After = await s3For(server);
  const first = await settledJobs(server, ['first']);
  const second = await settledJobs(server, ['second']);
  console.log(
    `workflow: killed after ${killAfterMs} ms; ${[...first.values(), ...second.values()].filter((j) => j.attempts > 1).length} jobs re-run`,
  );
  assert.equal(first.size, FILES);
  const firstRuns = await receiptsByBase(s3After, 'flow', 'receipts-first/');
  assertRunsWithinPolicy(first.values(), firstRuns, (input) => input.replace(/^flow\/in\/|\.txt$/g, ''));

  // Each completed run of the first stage writes mid/<base>.txt again, and each write is a new event.
  const secondRuns = await receiptsByBase(s3After, 'flow', 'receipts-second/');
  const secondJobs = new Map<string, { jobs: number; attempts: number }>();
  for (const job of second.values()) {
    assert.equal(job.status, 'Succeeded', `second stage on ${job.input}`);
    const base = (job.input ?? '').replace(/^flow\/mid\/|\.txt$/g, '');
    const entry = secondJobs.get(base) ?? { jobs: 0, attempts: 0 };
    entry.jobs += 1;
    entry.attempts += job.attempts;
    secondJobs.set(base, entry);
  }
  for (let n = 0; n < FILES; n++) {
    const base = `f${n}`;
    const entry = secondJobs.get(base);
    assert.ok(entry, `the second stage ran on ${base}`);
    assert.ok(entry.jobs <= (firstRuns.get(base) ?? 0), `${base}: one second-stage job per write of mid`);
    const runs = secondRuns.get(base) ?? 0;
    assert.ok(runs >= 1 && runs <= entry.attempts, `${base}: ${runs} runs in ${entry.attempts} attempts`);
  }
  assert.deepEqual(
    (await listKeys(s3After, 'flow', 'out/')).sort(),
    Array.from({ length: FILES }, (_, n) => `out/f${n}.txt`).sort(),
  );
  await assertNoOrphans(server, s3After, ['flow']);
});
