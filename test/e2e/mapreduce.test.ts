/**
 * MapReduce through the real server process: a deployed definition runs when a file is uploaded through
 * the S3 endpoint and its output appears in the bucket; an FDL `mapreduce` section deployed by `nubes apply`
 * runs one job over every object of a folder when its marker is uploaded; `nubes mapreduce run` runs a job
 * ad hoc; job and task states are served under /system/mapreduce.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { getText, putText, s3For } from '../support/s3-client.js';

let server: ServerProcess;
let dir: string;

const WORD_COUNT = `
export function map(chunk, emit) {
  for (const word of chunk.toString().split(/\\s+/)) if (word) emit(word, 1);
}
export function reduce(word, counts, emit) {
  let sum = 0;
  for (const count of counts) sum += count;
  emit(word, sum);
}
`;

before(async () => {
  server = await startServer();
  dir = await mkdtemp(join(tmpdir(), 'nubes-mr-e2e-'));
});
after(async () => {
  await server.cleanup();
  await rm(dir, { recursive: true, force: true });
});

test('an upload into a definition input runs the job; the output appears in the bucket', async () => {
  const deployed = await server.api('/system/mapreduce/definitions/wordcount', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      input: 'corpus/in',
      output: 'corpus/out',
      mapper: { file_name: 'wc.mjs', content: Buffer.from(WORD_COUNT).toString('base64') },
      reducer: { file_name: 'wc.mjs', content: Buffer.from(WORD_COUNT).toString('base64') },
      reducers: 1,
      output_mode: 'merged',
    }),
  });
  assert.equal(deployed.status, 201, await deployed.text());
  const s3 = await s3For(server);
  await putText(s3, 'corpus', 'in/book.txt', 'b a\nc a b\na\n');
  // The manifest is written last: once it is there, the whole output is.
  const manifest = JSON.parse(
    await waitFor(
      () => getText(s3, 'corpus', 'out/book/_manifest.json'),
      30_000,
      'corpus/out/book/_manifest.json',
    ),
  ) as { job: string; parts: { key: string }[] };
  assert.deepEqual(
    manifest.parts.map((part) => part.key),
    ['out/book/results'],
  );
  assert.equal(await getText(s3, 'corpus', 'out/book/results'), 'a\t3\nb\t2\nc\t1\n');
  const job = (await (await server.api(`/system/mapreduce/jobs/${manifest.job}`)).json()) as {
    state: string;
    trigger: string;
    tasks: { id: string; state: string }[];
  };
  assert.equal(job.state, 'succeeded');
  assert.equal(job.trigger, 'corpus/in/book.txt');
  assert.deepEqual(
    job.tasks.map((task) => task.state),
    ['succeeded', 'succeeded'],
  );
  const unauthenticated = await fetch(`${server.apiUrl}/system/mapreduce/jobs`);
  assert.equal(unauthenticated.status, 401);
});

test('nubes mapreduce run: a streaming job ad hoc, then status and logs of a failed job', async () => {
  const s3 = await s3For(server);
  const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
  await s3.send(new CreateBucketCommand({ Bucket: 'adhoc' }));
  await putText(s3, 'adhoc', 'data.txt', 'x y\ny z\nz z\n');
  const mapper = join(dir, 'mapper.sh');
  const reducer = join(dir, 'reducer.sh');
  await writeFile(mapper, `#!/bin/sh\ntr ' ' '\\n' | sed 's/$/\t1/'\n`);
  await writeFile(reducer, `#!/bin/sh\nuniq -c | awk '{ print $2 "\\t" $1 }'\n`);
  const env = server.cliEnv();
  const run = await runCli(
    [
      'mapreduce',
      'run',
      '--input',
      'adhoc/data.txt',
      '--mapper',
      mapper,
      '--reducer',
      reducer,
      '--reducers',
      '1',
      '--chunk-size',
      '4',
      '--output',
      'adhoc/out',
    ],
    env,
  );
  assert.equal(run.code, 0, run.stderr + run.stdout);
  assert.match(run.stdout, /succeeded/);
  assert.equal(await getText(s3, 'adhoc', 'out/part-r-00000'), 'x\t1\ny\t2\nz\t3\n');

  const failing = join(dir, 'failing.sh');
  await writeFile(failing, '#!/bin/sh\necho "mapper gave up" >&2\nexit 7\n');
  const failed = await runCli(
    ['mapreduce', 'run', '-i', 'adhoc/data.txt', '-m', failing, '-r', reducer],
    env,
  );
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /failed: task m-00000 failed after 3 attempt/);
  assert.match(failed.stderr, /mapper gave up/);

  const list = await runCli(['mapreduce', 'list'], env);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /failed/);
  const id = /(mr-[0-9a-f-]+)\s+adhoc\s+failed/.exec(list.stdout)?.[1];
  assert.ok(id, list.stdout);
  const status = await runCli(['mapreduce', 'status', id], env);
  assert.match(status.stdout, /m-00000\s+failed/);
  const logs = await runCli(['mapreduce', 'logs', id, 'm-00000', '--attempt', '1'], env);
  assert.match(logs.stdout, /mapper gave up/);
});

test('nubes apply deploys an FDL mapreduce section; a marker upload runs one job over the folder', async () => {
  const s3 = await s3For(server);
  await writeFile(join(dir, 'wc.mjs'), WORD_COUNT);
  await writeFile(
    join(dir, 'count.sh'),
    "#!/bin/sh\nawk -F '\\t' '{ n[$1] += $2 } END { for (k in n) print k \"\\t\" n[k] }'\n",
  );
  const fdl = join(dir, 'mapreduce.yaml');
  await writeFile(
    fdl,
    [
      'mapreduce:',
      '  batches:',
      '    input: lab/runs',
      '    output: lab/counts',
      '    mapper: wc.mjs',
      '    reducer: count.sh',
      '    reducers: 3',
      '    chunk_size: 8',
      '    output_mode: merged',
      '    start_on: _READY',
      '',
    ].join('\n'),
  );
  const env = server.cliEnv();
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, 'mapreduce:\n  batches:\n    input: lab/runs\n    ouput: lab/x\n');
  const refused = await runCli(['apply', bad], env, { cwd: dir });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /bad\.yaml:4:5: .*unknown key "ouput"; did you mean "output"\?/);

  const applied = await runCli(['apply', fdl], env, { cwd: dir });
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  assert.match(applied.stdout, /created MapReduce definition "batches"/);
  const definition = (await (await server.api('/system/mapreduce/definitions/batches')).json()) as {
    start_on: string;
    reducer: { kind: string };
  };
  assert.equal(definition.start_on, '_READY');
  assert.equal(definition.reducer.kind, 'executable');

  const files = ['one two three two\n', 'three three\r\nñu two\n', 'ñu ñu one\n'];
  for (const [index, text] of files.entries()) await putText(s3, 'lab', `runs/day1/file-${index}.txt`, text);
  // Data alone starts nothing; the marker starts one job over the three files.
  await new Promise((done) => setTimeout(done, 300));
  const jobs = (await (await server.api('/system/mapreduce/jobs')).json()) as { trigger: string }[];
  assert.deepEqual(
    jobs.filter((listed) => listed.trigger.startsWith('lab/')),
    [],
  );
  await putText(s3, 'lab', 'runs/day1/_READY', '');
  const manifest = JSON.parse(
    await waitFor(() => getText(s3, 'lab', 'counts/day1/_manifest.json'), 30_000, 'lab/counts/day1'),
  ) as { job: string; inputs: string[] };
  assert.deepEqual(manifest.inputs, ['runs/day1/file-0.txt', 'runs/day1/file-1.txt', 'runs/day1/file-2.txt']);
  // One object, sorted by key bytes although awk printed its hash in any order.
  assert.equal(await getText(s3, 'lab', 'counts/day1/results'), 'one\t2\nthree\t3\ntwo\t3\nñu\t3\n');
  const job = (await (await server.api(`/system/mapreduce/jobs/${manifest.job}`)).json()) as {
    trigger: string;
    tasks: { kind: string }[];
  };
  assert.equal(job.trigger, 'lab/runs/day1/_READY');
  assert.ok(job.tasks.filter((task) => task.kind === 'map').length >= 3);

  const deleted = await runCli(['delete', fdl], env, { cwd: dir });
  assert.equal(deleted.code, 0, deleted.stderr + deleted.stdout);
  assert.match(deleted.stdout, /deleted MapReduce definition "batches"/);
  assert.equal((await server.api('/system/mapreduce/definitions/batches')).status, 404);
});

test("users run jobs over buckets they may read and see only their own; a job survives the server's SIGKILL", async () => {
  const s3 = await s3For(server);
  const tokens: Record<string, string> = {};
  for (const name of ['alice', 'bob']) {
    const created = await server.api('/system/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    assert.equal(created.status, 201, await created.text());
    const token = await server.api(`/system/users/${name}/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'mapreduce tests' }),
    });
    tokens[name] = ((await token.json()) as { token: string }).token;
  }
  const as = (who: string, path: string, init: RequestInit = {}) =>
    fetch(`${server.apiUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${tokens[who] ?? ''}`, 'content-type': 'application/json' },
    });
  const made = await as('alice', '/system/buckets', {
    method: 'POST',
    body: JSON.stringify({ bucket_name: 'alice-data' }),
  });
  assert.equal(made.status, 201, await made.text());
  await putText(s3, 'alice-data', 'notes.txt', 'to be or not to be\n');
  const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
  await s3.send(new CreateBucketCommand({ Bucket: 'admin-only' }));
  await putText(s3, 'admin-only', 'secret.txt', 'classified\n');
  const functions = {
    mapper: { file_name: 'wc.mjs', content: Buffer.from(WORD_COUNT).toString('base64') },
    reducer: { file_name: 'wc.mjs', content: Buffer.from(WORD_COUNT).toString('base64') },
  };

  const refused = await as('alice', '/system/mapreduce/jobs', {
    method: 'POST',
    body: JSON.stringify({ input: 'admin-only/secret.txt', output: 'alice-data/stolen', ...functions }),
  });
  assert.equal(refused.status, 403);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'FORBIDDEN');

  const submitted = await as('alice', '/system/mapreduce/jobs', {
    method: 'POST',
    body: JSON.stringify({
      input: 'alice-data/notes.txt',
      output: 'alice-data/counts',
      reducers: 1,
      ...functions,
    }),
  });
  const submittedText = await submitted.text();
  assert.equal(submitted.status, 201, submittedText);
  const { id } = JSON.parse(submittedText) as { id: string };
  const done = await waitFor(async () => {
    const job = (await (await as('alice', `/system/mapreduce/jobs/${id}`)).json()) as {
      state: string;
      owner: string;
    };
    return ['succeeded', 'failed'].includes(job.state) ? job : undefined;
  }, 30_000);
  assert.deepEqual([done.state, done.owner], ['succeeded', 'alice']);
  assert.equal(await getText(s3, 'alice-data', 'counts/part-r-00000'), 'be\t2\nnot\t1\nor\t1\nto\t2\n');
  assert.equal((await as('bob', `/system/mapreduce/jobs/${id}`)).status, 404);
  assert.deepEqual(await (await as('bob', '/system/mapreduce/jobs')).json(), []);
  const mine = (await (await as('alice', '/system/mapreduce/jobs')).json()) as { id: string }[];
  assert.deepEqual(
    mine.map((job) => job.id),
    [id],
  );
  const all = (await (await server.api('/system/mapreduce/jobs')).json()) as { id: string }[];
  assert.ok(all.length > 1 && all.some((job) => job.id === id));

  // A slow job, killed mid-way with the server, resumes when the server is back.
  const slow = WORD_COUNT.replace(
    'export function map(chunk, emit) {',
    'export function map(chunk, emit) {\n  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);',
  );
  await putText(s3, 'admin-only', 'long.txt', 'a b\nb c\nc d\n'.repeat(30));
  const started = await server.api('/system/mapreduce/jobs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      input: 'admin-only/long.txt',
      output: 'admin-only/long-out',
      chunk_size: 24,
      reducers: 1,
      mapper: { file_name: 'slow.mjs', content: Buffer.from(slow).toString('base64') },
      reducer: { file_name: 'slow.mjs', content: Buffer.from(slow).toString('base64') },
    }),
  });
  const slowId = ((await started.json()) as { id: string }).id;
  await waitFor(async () => {
    const job = (await (await server.api(`/system/mapreduce/jobs/${slowId}`)).json()) as {
      progress: { mapsDone: number };
    };
    return job.progress.mapsDone >= 2 ? true : undefined;
  }, 30_000);
  await server.stop('SIGKILL');
  await server.restart();
  const resumed = await waitFor(async () => {
    const job = (await (await server.api(`/system/mapreduce/jobs/${slowId}`)).json()) as {
      state: string;
      resumes: number;
    };
    return job.state === 'succeeded' || job.state === 'failed' ? job : undefined;
  }, 60_000);
  assert.deepEqual([resumed.state, resumed.resumes], ['succeeded', 1]);
  assert.equal(await getText(s3, 'admin-only', 'long-out/part-r-00000'), 'a\t30\nb\t60\nc\t60\nd\t30\n');
});
