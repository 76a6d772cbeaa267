/**
 * A Slurm service end to end through the real server process and a real Slurm cluster on localhost:
 * deploy a service with `executor: slurm`, upload a file through the S3 API, and find the result the job
 * wrote on the compute node in the output bucket; the job's log comes back through the API. (What the
 * job's scoped S3 key may do is tested in test/s3api/scoped-keys.test.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { getText, putText, s3For } from '../support/s3-client.js';
import { slurmMissing, startSlurmCluster, type SlurmTestCluster } from '../support/slurm-cluster.js';

const missing = await slurmMissing();

void describe('Slurm service end to end (real cluster on localhost)', { skip: missing ?? false }, () => {
  let cluster: SlurmTestCluster;
  let server: ServerProcess;

  before(async () => {
    cluster = await startSlurmCluster({ nodes: 2 });
    server = await startServer({
      env: {
        NUBES_EXECUTORS: JSON.stringify({ slurm: cluster.executorConfig() }),
      },
    });
  });
  after(async () => {
    await server?.cleanup();
    await cluster?.stop();
  });

  test('upload -> sbatch job on a node -> output in the bucket, log through the API', async () => {
    const created = await server.api('/system/services', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'upper',
        // OSCAR requires an image; the Slurm executor runs the script on the node (and warns).
        image: 'alpine',
        executor: 'slurm',
        memory: '64Mi',
        cpu: '1',
        timeout: 60,
        script: [
          'set -e',
          'echo "on node $SLURMD_NODENAME job $SLURM_JOB_ID"',
          'name=$(basename "$INPUT_FILE_PATH")',
          'tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$name"',
        ].join('\n'),
        input: [{ storage_provider: 'minio.default', path: 'upper/in' }],
        output: [{ storage_provider: 'minio.default', path: 'upper/out' }],
      }),
    });
    assert.equal(created.status, 201, await created.text());

    const s3 = await s3For(server);
    await putText(s3, 'upper', 'in/hello.txt', 'hello from slurm\n');
    const result = await waitFor(() => getText(s3, 'upper', 'out/hello.txt'), 60_000, 'upper/out/hello.txt');
    assert.equal(result, 'HELLO FROM SLURM\n');

    const jobs = (await (await server.api('/system/logs/upper')).json()) as {
      jobs: Record<string, { status: string }>;
    };
    const [jobId, job] = Object.entries(jobs.jobs)[0] ?? [];
    assert.ok(jobId !== undefined);
    await waitFor(
      async () => {
        const answer = (await (await server.api('/system/logs/upper')).json()) as typeof jobs;
        return answer.jobs[jobId]?.status === 'Succeeded' ? true : undefined;
      },
      30_000,
      'the job to be Succeeded',
    );
    assert.ok(job !== undefined);
    const logAnswer = await server.api(`/system/logs/upper/${jobId}`);
    const log = await logAnswer.text();
    assert.match(log, /on node n\d job \d+/);
  });
});
