/**
 * The README's walk-through, end to end through the real server process and the real CLI: apply the
 * two-service example, upload a file, find the chained result in the output bucket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, runCli, startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { getText, putText, s3For } from '../support/s3-client.js';

let server: ServerProcess;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server.cleanup();
});

test('the example workflow: apply, put-file, and the chained result appears in the output bucket', async () => {
  const env = server.cliEnv();
  const applied = await runCli(['apply', join(ROOT, 'examples', 'text-pipeline.yaml')], env);
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);

  const list = await runCli(['service', 'list'], env);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /normalize/);
  assert.match(list.stdout, /count/);

  const put = await runCli(['service', 'put-file', 'normalize', join(ROOT, 'examples', 'sample.txt')], env);
  assert.equal(put.code, 0, put.stderr + put.stdout);

  const s3 = await s3For(server);
  const csv = await waitFor(() => getText(s3, 'text', 'counts/sample.csv'), 30_000, 'text/counts/sample.csv');
  const lines = csv.trim().split('\n');
  assert.equal(lines[0], 'word,count');
  // "it", "of", "the" and "was" appear 10 times each in the sample, and lead the table.
  assert.deepEqual(lines.slice(1, 5), ['it,10', 'of,10', 'the,10', 'was,10']);
  const words = await getText(s3, 'text', 'words/sample.words');
  assert.ok(words?.startsWith('it\nwas\nthe\nbest\n'), words);

  // The outputs are stored before the job's end is recorded: wait for that record.
  await waitFor(
    async () => {
      const answer = (await (await server.api('/system/logs/count')).json()) as {
        jobs: Record<string, { status: string }>;
      };
      return Object.values(answer.jobs).some((job) => job.status === 'Succeeded') ? true : undefined;
    },
    20_000,
    'the count job to be recorded as succeeded',
  );
  const logs = await runCli(['service', 'logs', 'list', 'count'], env);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /Succeeded/);
  const jobs = (await (await server.api('/system/logs/count')).json()) as {
    jobs: Record<string, { status: string }>;
  };
  const [jobId, job] = Object.entries(jobs.jobs)[0] ?? [];
  assert.equal(job?.status, 'Succeeded');
  const log = await (await server.api(`/system/logs/count/${jobId}`)).text();
  assert.match(log, /count: words\/sample.words/);
});

test('a sync call through the CLI answers with the script output', async () => {
  const env = server.cliEnv();
  const applied = await runCli(['apply', join(ROOT, 'examples', 'hello.yaml')], env);
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  const run = await runCli(['service', 'run', 'hello', '-i', 'Ada'], env);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /Hello, Ada! \(from hello on Linux\)/);
});

test('a service whose output folder lies inside its input folder runs once per upload, not forever', async () => {
  const created = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'loop',
      image: 'busybox',
      script: 'cp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/copy-$(basename "$INPUT_FILE_PATH")"\n',
      input: [{ storage_provider: 'minio.default', path: 'loop/data' }],
      output: [{ storage_provider: 'minio.default', path: 'loop/data/copies' }],
    }),
  });
  assert.equal(created.status, 201);
  const { warnings } = (await created.json()) as { warnings: string[] };
  assert.ok(
    warnings.some((warning) => /do not trigger it again/.test(warning)),
    warnings.join('\n'),
  );
  const s3 = await s3For(server);
  await putText(s3, 'loop', 'data/a.txt', 'a');
  await waitFor(() => getText(s3, 'loop', 'data/copies/copy-a.txt'), 20_000, 'the copy');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const jobs = (await (await server.api('/system/logs/loop')).json()) as { jobs: Record<string, unknown> };
  assert.equal(Object.keys(jobs.jobs).length, 1);
});
