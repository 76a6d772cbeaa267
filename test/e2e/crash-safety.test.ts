/**
 * An acknowledged upload is never lost: the server is killed with SIGKILL at a random point (seeded) of a
 * burst of 200 uploads; the state store passes its integrity check as the kill left it; after a restart
 * every acknowledged object is there with its bytes, every stored object has exactly one job, which ran to
 * completion once or, if the kill interrupted it, no more often than its attempts; no orphan file remains.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, type ServerProcess } from '../support/server-process.js';
import { getText, listKeys, s3For } from '../support/s3-client.js';
import {
  allJobs,
  assertIntegrity,
  assertNoOrphans,
  assertRunsWithinPolicy,
  killHard,
  receiptService,
  receiptsByBase,
  seededRandom,
  settledJobs,
} from '../support/crash-kit.js';

let server: ServerProcess;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server.cleanup();
});

test('SIGKILL at a random point of a burst of 200 uploads loses no acknowledged upload and runs every job once', async () => {
  const random = seededRandom('burst');
  const killAfter = random.between(20, 180);
  const created = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(receiptService('burst', 'burst/in', 'burst/out', 'burst/receipts')),
  });
  assert.equal(created.status, 201, await created.text());

  const s3 = await s3For(server);
  const acknowledged = new Set<string>();
  const total = 200;
  let next = 0;
  let killed = false;
  // Jobs seen succeeded before the kill must not run again.
  let succeededBefore = new Set<string>();
  const watching = (async () => {
    while (!killed) {
      try {
        const jobs = await allJobs(server, 'burst');
        if (!killed)
          succeededBefore = new Set(
            [...jobs.values()].filter((job) => job.status === 'Succeeded').map((job) => job.input ?? ''),
          );
      } catch {
        // the kill came in the middle of the listing
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const worker = async () => {
    while (next < total) {
      const key = `in/file-${String(next++).padStart(3, '0')}.txt`;
      try {
        await s3.send(new PutObjectCommand({ Bucket: 'burst', Key: key, Body: `payload of ${key}\n` }));
        acknowledged.add(key);
        if (acknowledged.size === killAfter && !killed) {
          killed = true;
          server.child.kill('SIGKILL');
        }
      } catch {
        // refused or cut off by the kill: not acknowledged, so the platform owes nothing for it
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await watching;
  assert.ok(killed, 'the server was killed mid-burst');
  assert.ok(acknowledged.size >= killAfter && acknowledged.size < total, `acknowledged ${acknowledged.size}`);
  await killHard(server);
  assertIntegrity(server.dataDir);

  await server.restart();
  const s3After = await s3For(server);
  const stored = new Set(await listKeys(s3After, 'burst', 'in/'));
  for (const key of acknowledged) {
    assert.ok(stored.has(key), `acknowledged ${key} survived the kill`);
    assert.equal(await getText(s3After, 'burst', key), `payload of ${key}\n`);
  }

  const jobs = await settledJobs(server, ['burst']);
  const receipts = await receiptsByBase(s3After, 'burst', 'receipts/');
  assertRunsWithinPolicy(jobs.values(), receipts, (input) => input.replace(/^burst\/in\/|\.txt$/g, ''));
  const inputs = new Set([...jobs.values()].map((job) => job.input));
  for (const key of stored) assert.ok(inputs.has(`burst/${key}`), `a job for ${key}`);
  assert.equal(inputs.size, stored.size, 'no job for an object that was not stored');
  for (const job of jobs.values()) {
    if (!succeededBefore.has(job.input ?? '')) continue;
    assert.equal(job.attempts, 1, `${job.input} finished before the kill and did not run again`);
    assert.equal(receipts.get((job.input ?? '').replace(/^burst\/in\/|\.txt$/g, '')), 1);
  }
  console.log(
    `burst: killed after ${killAfter} acknowledgements; ${acknowledged.size} acknowledged, ${stored.size} stored, ` +
      `${succeededBefore.size} jobs done before the kill, ${[...jobs.values()].filter((j) => j.attempts > 1).length} re-run`,
  );

  const outputs = new Set(await listKeys(s3After, 'burst', 'out/'));
  for (const key of stored) assert.ok(outputs.has(`out/${key.slice(3)}`), `output of ${key}`);
  await assertNoOrphans(server, s3After, ['burst']);
});
