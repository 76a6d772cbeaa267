/**
 * An acknowledged upload is never lost: the server is killed with SIGKILL in the middle of a burst of 200
 * uploads; after a restart every acknowledged object is there, and every stored object has run its job
 * exactly once to success.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { getText, listKeys, s3For } from '../support/s3-client.js';

let server: ServerProcess;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server.cleanup();
});

const service = {
  name: 'burst',
  image: 'busybox',
  script:
    'echo "$STORAGE_OBJECT_KEY"\nbase=$(basename "$STORAGE_OBJECT_KEY")\ncp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/$base.done"\n',
  memory: '64Mi',
  input: [{ storage_provider: 'minio.default', path: 'burst/in' }],
  output: [{ storage_provider: 'minio.default', path: 'burst/out' }],
};

interface JobList {
  jobs: Record<string, { status: string; input: string | null }>;
  next_page: string;
}

async function allJobs(): Promise<JobList['jobs']> {
  const jobs: JobList['jobs'] = {};
  let page = '0';
  do {
    const response = await server.api(`/system/logs/burst?page=${page}`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as JobList;
    Object.assign(jobs, body.jobs);
    page = body.next_page;
  } while (page !== '');
  return jobs;
}

test('SIGKILL during a burst of 200 uploads loses no acknowledged upload and runs every job once', async () => {
  const created = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(service),
  });
  assert.equal(created.status, 201, await created.text());

  const s3 = await s3For(server);
  const acknowledged = new Set<string>();
  const total = 200;
  let next = 0;
  let killed = false;
  const worker = async () => {
    while (next < total) {
      const key = `in/file-${String(next++).padStart(3, '0')}.txt`;
      try {
        await s3.send(new PutObjectCommand({ Bucket: 'burst', Key: key, Body: `payload of ${key}\n` }));
        acknowledged.add(key);
        if (acknowledged.size === 80 && !killed) {
          killed = true;
          server.child.kill('SIGKILL');
        }
      } catch {
        // refused or cut off by the kill: not acknowledged, so the platform owes nothing for it
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  assert.ok(killed, 'the server was killed mid-burst');
  assert.ok(acknowledged.size >= 80 && acknowledged.size < total, `acknowledged ${acknowledged.size}`);
  await server.stop('SIGKILL');

  await server.restart();
  const s3After = await s3For(server);
  const stored = new Set(await listKeys(s3After, 'burst', 'in/'));
  for (const key of acknowledged) {
    assert.ok(stored.has(key), `acknowledged ${key} survived the kill`);
    assert.equal(await getText(s3After, 'burst', key), `payload of ${key}\n`);
  }

  const jobs = await waitFor(
    async () => {
      const all = await allJobs();
      const pending = Object.values(all).filter(
        (job) => job.status === 'Pending' || job.status === 'Running',
      );
      return pending.length === 0 && Object.keys(all).length >= stored.size ? all : undefined;
    },
    60_000,
    'every job to finish after the restart',
  );
  const perInput = new Map<string, number>();
  for (const job of Object.values(jobs)) {
    assert.equal(job.status, 'Succeeded');
    perInput.set(job.input ?? '', (perInput.get(job.input ?? '') ?? 0) + 1);
  }
  for (const key of stored) assert.equal(perInput.get(`burst/${key}`), 1, `exactly one job for ${key}`);
  assert.equal(perInput.size, stored.size, 'no job for an object that was not stored');

  const outputs = new Set(await listKeys(s3After, 'burst', 'out/'));
  for (const key of stored) assert.ok(outputs.has(`out/${key.slice(3)}.done`), `output of ${key}`);
});
