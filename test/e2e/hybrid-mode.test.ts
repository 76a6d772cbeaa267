/**
 * SCAR's hybrid execution end to end: the real server with the local executor as the function executor
 * (declaring a 1.5 s time limit and a 256 MiB memory limit) and a real Slurm cluster on localhost as the
 * batch executor. A `function-batch` job that runs past the local limit is resubmitted to Slurm and
 * finishes there; one that asks for more memory than the local limit goes straight to Slurm; one that fits
 * stays local. The job's history (API `runs`) and its log (API and `nubes service logs get`) show each run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { finishedJob } from '../support/job-history.js';
import { getText, putText, s3For } from '../support/s3-client.js';
import { slurmMissing, startSlurmCluster, type SlurmTestCluster } from '../support/slurm-cluster.js';

const missing = await slurmMissing();

void describe(
  'hybrid function-batch execution: local as function, Slurm as batch',
  { skip: missing ?? false },
  () => {
    let cluster: SlurmTestCluster;
    let server: ServerProcess;

    before(async () => {
      cluster = await startSlurmCluster({ nodes: 2 });
      server = await startServer({
        env: {
          NUBES_EXECUTORS: JSON.stringify({
            local: { maxConcurrentJobs: 4, limits: { timeoutMs: 1500, memoryBytes: 256 * 1024 * 1024 } },
            slurm: cluster.executorConfig(),
          }),
          NUBES_EXECUTION_ROLES: JSON.stringify({ function: 'local', batch: 'slurm' }),
        },
      });
    });
    after(async () => {
      await server?.cleanup();
      await cluster?.stop();
    });

    async function deploy(name: string, fields: Record<string, unknown>): Promise<void> {
      const created = await server.api('/system/services', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name,
          image: 'alpine',
          execution_mode: 'function-batch',
          cpu: '1',
          max_retries: 0,
          input: [{ storage_provider: 'minio.default', path: `${name}/in` }],
          output: [{ storage_provider: 'minio.default', path: `${name}/out` }],
          ...fields,
        }),
      });
      assert.equal(created.status, 201, await created.text());
    }

    const script = (seconds: number) =>
      [
        'echo "started on ${SLURMD_NODENAME:-the server host}"',
        `sleep ${seconds}`,
        'tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH")"',
        'echo "finished"',
      ].join('\n');

    test('a job past the function executor time limit is resubmitted to Slurm; history and logs show both runs', async () => {
      await deploy('longjob', { script: script(3), memory: '64Mi' });
      const s3 = await s3For(server);
      await putText(s3, 'longjob', 'in/a.txt', 'slow work\n');
      const output = await waitFor(() => getText(s3, 'longjob', 'out/a.txt'), 60_000, 'longjob/out/a.txt');
      assert.equal(output, 'SLOW WORK\n');

      const [jobId, job] = await finishedJob(server, 'longjob');
      assert.equal(job.status, 'Succeeded');
      assert.deepEqual(
        job.runs.map((run) => [run.executor, run.role, run.status, run.error?.code ?? null]),
        [
          ['local', 'function', 'failed', 'JOB_TIMEOUT'],
          ['slurm', 'batch', 'succeeded', null],
        ],
      );
      assert.match(job.runs[0]?.note ?? '', /limit of 1500 ms; resubmitted to the batch executor \(slurm\)/);

      const log = await (await server.api(`/system/logs/longjob/${jobId}`)).text();
      assert.match(log, /=== run 1: function on local: failed .*===\nstarted on the server host\n/);
      assert.match(log, /=== run 2: batch on slurm: succeeded ===\nstarted on n\d\n/);
      assert.match(log, /finished/);

      const cli = await runCli(['service', 'logs', 'get', 'longjob', jobId], server.cliEnv());
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /run 1: function on local.*\n[\s\S]*run 2: batch on slurm: succeeded/);
    });

    test('a job asking for more memory than the function executor allows goes straight to Slurm', async () => {
      await deploy('bigjob', { script: script(0), memory: '512Mi' });
      const s3 = await s3For(server);
      await putText(s3, 'bigjob', 'in/b.txt', 'big\n');
      assert.equal(
        await waitFor(() => getText(s3, 'bigjob', 'out/b.txt'), 60_000, 'bigjob/out/b.txt'),
        'BIG\n',
      );
      const [, job] = await finishedJob(server, 'bigjob');
      assert.deepEqual(
        job.runs.map((run) => [run.executor, run.role, run.status]),
        [
          ['local', 'function', 'skipped'],
          ['slurm', 'batch', 'succeeded'],
        ],
      );
      assert.match(
        job.runs[0]?.note ?? '',
        /asks for 536870912 bytes of memory, over the limit of 268435456/,
      );
    });

    test('a job that fits the function executor stays there; SCAR aliases are accepted', async () => {
      await deploy('smalljob', { script: script(0), memory: '64Mi', execution_mode: 'lambda-batch' });
      const s3 = await s3For(server);
      await putText(s3, 'smalljob', 'in/c.txt', 'small\n');
      assert.equal(
        await waitFor(() => getText(s3, 'smalljob', 'out/c.txt'), 30_000, 'smalljob/out/c.txt'),
        'SMALL\n',
      );
      const [, job] = await finishedJob(server, 'smalljob');
      assert.deepEqual(
        job.runs.map((run) => [run.executor, run.role, run.status]),
        [['local', 'function', 'succeeded']],
      );
    });
  },
);
