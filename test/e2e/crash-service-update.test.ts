/**
 * SIGKILL at a random point (seeded) while a service is updated again and again (PUT) and its jobs run: the
 * state store passes its integrity check; after a restart the service has the last acknowledged definition
 * (or the one whose PUT was cut off), whole, with its token; every input has one job, run to completion once
 * or no more often than its attempts; nothing is left behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type ServerProcess } from '../support/server-process.js';
import { putText, s3For } from '../support/s3-client.js';
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

let server: ServerProcess;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.cleanup();
});

const definition = (version: number) =>
  receiptService('upd', 'upd/in', 'upd/out', 'upd/receipts', {
    environment: { variables: { VERSION: String(version) } },
    memory: `${64 + version}Mi`,
  });

test('SIGKILL at a random point of service updates while its jobs run keeps one whole definition and runs every job once', async () => {
  const random = seededRandom('service-update');
  const killAfterMs = random.between(100, 2500);
  const created = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(definition(0)),
  });
  const createdText = await created.text();
  assert.equal(created.status, 201, createdText);
  const token = (JSON.parse(createdText) as { token: string }).token;

  const s3 = await s3For(server);
  for (let n = 0; n < 40; n++) await putText(s3, 'upd', `in/file-${n}.txt`, `file ${n}\n`);

  let acknowledged = 0;
  let sent = 0;
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    server.child.kill('SIGKILL');
  }, killAfterMs);
  while (!killed) {
    sent += 1;
    try {
      const response = await server.api('/system/services', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(definition(sent)),
      });
      if (response.status === 204) acknowledged = sent;
      else assert.fail(`PUT answered ${response.status}: ${await response.text()}`);
    } catch (error) {
      if (!killed) throw error;
    }
  }
  clearTimeout(timer);
  await killHard(server);
  assertIntegrity(server.dataDir);
  console.log(
    `service-update: killed after ${killAfterMs} ms, ${acknowledged} updates acknowledged, ${sent} sent`,
  );

  await server.restart();
  const response = await server.api('/system/services/upd');
  assert.equal(response.status, 200);
  const service = (await response.json()) as {
    token: string;
    memory: string;
    environment: { variables: Record<string, string> };
  };
  const version = Number(service.environment.variables['VERSION']);
  assert.ok(
    version === acknowledged || version === sent,
    `version ${version}: the last acknowledged (${acknowledged}) or the one cut off (${sent})`,
  );
  assert.equal(service.memory, `${64 + version}Mi`, 'the definition is whole, not a mix of two updates');
  assert.equal(service.token, token, 'the service kept its token');

  const s3After = await s3For(server);
  const jobs = await settledJobs(server, ['upd']);
  assert.equal(jobs.size, 40, 'one job per input');
  assertRunsWithinPolicy(jobs.values(), await receiptsByBase(s3After, 'upd', 'receipts/'), (input) =>
    input.replace(/^upd\/in\/|\.txt$/g, ''),
  );
  await assertNoOrphans(server, s3After, ['upd']);
});

test('SIGKILL at a random point of a burst of service creations: every acknowledged service exists, and every service has its buckets', async () => {
  const random = seededRandom('service-create');
  const killAfterMs = random.between(50, 1500);
  if (server.child.exitCode !== null || server.child.signalCode !== null) await server.restart();
  const acknowledged: string[] = [];
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    server.child.kill('SIGKILL');
  }, killAfterMs);
  for (let n = 0; n < 200 && !killed; n++) {
    const name = `made-${n}`;
    try {
      const response = await server.api('/system/services', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          receiptService(name, `${name}-in/in`, `${name}-out/out`, `${name}-out/receipts`),
        ),
      });
      if (response.status === 201) acknowledged.push(name);
      else assert.fail(`POST answered ${response.status}: ${await response.text()}`);
    } catch (error) {
      if (!killed) throw error;
    }
  }
  clearTimeout(timer);
  await killHard(server);
  assertIntegrity(server.dataDir);
  console.log(
    `service-create: killed after ${killAfterMs} ms, ${acknowledged.length} creations acknowledged`,
  );

  await server.restart();
  const listed = (await (await server.api('/system/services')).json()) as { name: string }[];
  const names = new Set(listed.map((service) => service.name));
  for (const name of acknowledged) assert.ok(names.has(name), `acknowledged ${name} exists`);
  for (const name of names) {
    if (!name.startsWith('made-')) continue;
    for (const bucket of [`${name}-in`, `${name}-out`]) {
      const response = await server.api(`/system/buckets/${bucket}`);
      assert.equal(response.status, 200, `${name} has its bucket ${bucket}`);
    }
  }
});
