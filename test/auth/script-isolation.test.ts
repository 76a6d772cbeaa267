/**
 * A user's script cannot reach another tenant's data, the data directory, or the platform's credentials:
 * the script of user "other" tries each (through the filesystem and anonymously through the S3 endpoint)
 * and every attempt is denied, while the owner's private object stays readable to the owner.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../support/server-process.js';
import { serviceDefinition, startTenants, type Tenants } from './tenants.js';

let t: Tenants;

before(async () => {
  // bwrap required: without a sandbox (auto mode on a host without bubblewrap) scripts DO see the data
  // directory, and the server must refuse to start rather than pretend.
  t = await startTenants({ env: { NUBES_SANDBOX: 'bwrap' } });
});
after(async () => {
  await t.close();
});

test("a script cannot read other tenants' objects, the data directory or the platform's credentials", async () => {
  // The owner's private bucket, with a private object.
  assert.equal(
    (await t.call('owner', 'POST', '/system/buckets', { bucket_name: 'owner-secret' })).status,
    201,
  );
  const upload = await t.call('owner', 'POST', '/system/buckets/owner-secret/presign', {
    object_key: 'private.txt',
    operation: 'upload',
  });
  const { url } = (await upload.json()) as { url: string };
  assert.equal((await fetch(url, { method: 'PUT', body: 'TOP-SECRET-CONTENT' })).status, 200);

  const dataDir = t.server.dataDir;
  const script = [
    // Built at run time: the script itself (in the job's own folder) must not match.
    "needle=$(printf 'TOP-SECRET-%s' CONTENT)",
    `for f in ${dataDir}/credentials.json ${dataDir}/secrets.key ${dataDir}/nubes.db; do`,
    '  if cat "$f" >/dev/null 2>&1; then echo "READ $f"; else echo "DENIED $f"; fi',
    'done',
    `if grep -rq "$needle" ${dataDir} 2>/dev/null; then echo "READ objects"; else echo "DENIED objects"; fi`,
    `if grep -q "$needle" /proc/*/root${dataDir}/objects/*/* 2>/dev/null; then echo "READ via proc"; else echo "DENIED via proc"; fi`,
    `if env | grep -q "${(await t.server.credentials()).adminPassword}"; then echo "READ env"; else echo "DENIED env"; fi`,
    `node -e 'fetch("${t.server.s3Url}/owner-secret/private.txt").then(async r => console.log(r.status === 200 && (await r.text()).includes("TOP-SECRET") ? "READ s3" : "DENIED s3 " + r.status), () => console.log("DENIED s3 unreachable"))'`,
  ].join('\n');
  const created = await t.call(
    'other',
    'POST',
    '/system/services',
    serviceDefinition('prober', 'prober-bkt', { script: `${script}\n` }),
  );
  assert.equal(created.status, 201, await created.clone().text());
  const job = (await (await t.call('other', 'POST', '/job/prober', {})).json()) as { job_id: string };
  await waitFor(async () => {
    const state = (await (await t.call('other', 'GET', `/system/jobs/prober/${job.job_id}`)).json()) as {
      status: string;
    };
    return state.status === 'Succeeded' || state.status === 'Failed' ? state : undefined;
  });
  const log = await (await t.call('other', 'GET', `/system/logs/prober/${job.job_id}`)).text();
  assert.doesNotMatch(log, /READ/, log);
  for (const attempt of [
    'credentials.json',
    'secrets.key',
    'nubes.db',
    'objects',
    'via proc',
    'env',
    'DENIED s3',
  ])
    assert.match(
      log,
      new RegExp(`DENIED.*${attempt.replace('.', '\\.')}|${attempt}`),
      `attempt ${attempt} ran:\n${log}`,
    );
  // The owner still reads it: the denial is isolation, not loss.
  const download = await t.call('owner', 'POST', '/system/buckets/owner-secret/presign', {
    object_key: 'private.txt',
    operation: 'download',
  });
  assert.equal(
    await (await fetch(((await download.json()) as { url: string }).url)).text(),
    'TOP-SECRET-CONTENT',
  );
});
