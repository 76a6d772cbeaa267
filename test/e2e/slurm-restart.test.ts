/**
 * The server killed while its jobs run in a real Slurm cluster on localhost, then started again on the
 * same data folder: a job the queue runs again is followed to its end in Slurm (adopted), not submitted a
 * second time, and its outputs still reach the bucket with the key issued before the kill; a job with no
 * attempts left is cancelled in Slurm once `adoptWithinMs` has passed, and the spool keeps nothing. With
 * `onStop: keep`, a clean stop (SIGTERM) leaves its jobs in Slurm for the next start to follow the same way.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createService, startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { getText, s3For } from '../support/s3-client.js';
import { slurmMissing, startSlurmCluster, type SlurmTestCluster } from '../support/slurm-cluster.js';

const missing = await slurmMissing();

interface JobsAnswer {
  jobs: Record<string, { status: string }>;
}

void describe(
  'Slurm jobs across a killed server (real cluster on localhost)',
  { skip: missing ?? false },
  () => {
    let cluster: SlurmTestCluster;
    let server: ServerProcess;
    let spoolDir: string;

    before(async () => {
      cluster = await startSlurmCluster({ nodes: 2 });
      spoolDir = join(cluster.dir, 'jobs');
      server = await startServer({
        env: {
          NUBES_LOG_LEVEL: 'info',
          NUBES_EXECUTORS: JSON.stringify({
            slurm: cluster.executorConfig({
              spoolDir,
              adoptWithinMs: 4000,
              onStop: 'keep',
              // The scripts count their runs in files of the test's folder, which a sandbox would hide.
              sandbox: 'none',
            }),
          }),
        },
        // A clean stop gives running jobs a second before it stops them.
        args: ['--shutdown-grace', '1'],
      });
    });
    after(async () => {
      await server?.cleanup();
      await cluster?.stop();
    });

    const slurmService = (name: string, maxRetries: number, script: string[]) =>
      createService(server, {
        name,
        image: 'alpine',
        executor: 'slurm',
        memory: '64Mi',
        cpu: '1',
        max_retries: maxRetries,
        script: script.join('\n'),
        output: [{ storage_provider: 'minio.default', path: `${name}/out` }],
      });
    const submit = async (service: string) => {
      const answer = await server.api(`/job/${service}`, { method: 'POST', body: 'payload' });
      assert.equal(answer.status, 201, await answer.text());
    };
    const jobsOf = async (service: string) =>
      Object.entries(((await (await server.api(`/system/logs/${service}`)).json()) as JobsAnswer).jobs);
    /** Waits until the service's only job has `status`; resolves with its id. */
    const jobReaches = (service: string, status: string, timeoutMs: number) =>
      waitFor(
        async () => {
          const jobs = await jobsOf(service);
          return jobs.length === 1 && jobs[0]?.[1].status === status ? jobs[0][0] : undefined;
        },
        timeoutMs,
        `the ${service} job to be ${status}`,
      );
    /** Restarts the server and waits until the queue runs the interrupted job again (this server adopts it). */
    const restartAndAdopt = async (service: string) => {
      await server.restart();
      await jobReaches(service, 'Running', 30_000);
      // The queue marks the job running a moment before the executor takes it and says it adopts it.
      await waitFor(
        async () =>
          /a job submitted by an earlier process is followed to its end/.test(server.output())
            ? true
            : undefined,
        10_000,
        `the adoption of the ${service} job in the server's log`,
      );
    };
    const emptySpool = () =>
      waitFor(
        async () => ((await readdir(spoolDir)).length === 0 ? true : undefined),
        20_000,
        'an empty spool',
      );
    const runs = async (file: string) =>
      (await readFile(join(cluster.dir, file), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    const inSlurm = async (service: string) => {
      const answer = await cluster.command('squeue', ['-h', `--name=nubes-${service}`, '-o', '%i']);
      assert.equal(answer.code, 0, answer.stderr);
      return answer.stdout.trim();
    };

    test('a running job is adopted after the restart, and one with no attempts left is cancelled', async () => {
      // Each run appends a line to a file of its own outside the spool: how many times Slurm ran the script.
      await slurmService('survivor', 2, [
        'set -e',
        'echo "started on $SLURMD_NODENAME"',
        `echo run >> ${join(cluster.dir, 'survivor-runs')}`,
        `while [ ! -e ${join(cluster.dir, 'release')} ]; do sleep 0.2; done`,
        'cat "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/result.txt"',
        'echo finished',
      ]);
      await slurmService('doomed', 0, [`echo run >> ${join(cluster.dir, 'doomed-runs')}`, 'sleep 120']);
      await submit('survivor');
      await submit('doomed');
      await waitFor(
        async () =>
          (await runs('survivor-runs')) === 1 && (await runs('doomed-runs')) === 1 ? true : undefined,
        60_000,
        'both jobs to run on their nodes',
      );
      const survivorSlurmId = await inSlurm('survivor');
      assert.notEqual(survivorSlurmId, '');

      await server.stop('SIGKILL');
      // The queue runs the interrupted job again: this server finds it in Slurm and follows it.
      await restartAndAdopt('survivor');
      await writeFile(join(cluster.dir, 'release'), '');
      const survivorId = await jobReaches('survivor', 'Succeeded', 60_000);
      assert.equal(await runs('survivor-runs'), 1, 'the script ran once: the job was not submitted again');
      // Staged out with the key issued before the kill.
      const s3 = await s3For(server);
      const output = await waitFor(() => getText(s3, 'survivor', 'out/result.txt'), 20_000, 'the output');
      assert.equal(output, 'payload');
      const log = await (await server.api(`/system/logs/survivor/${survivorId}`)).text();
      assert.match(log, /started on n\d/, 'what it printed before the kill is in its log');
      assert.match(log, /finished/);

      // No attempts left: the queue failed it at start, nothing claimed its Slurm job, which is cancelled.
      const [doomed] = await jobsOf('doomed');
      assert.equal(doomed?.[1].status, 'Failed');
      await waitFor(async () => ((await inSlurm('doomed')) === '' ? true : undefined), 30_000, 'scancel');
      assert.equal(await runs('doomed-runs'), 1);
      await emptySpool();
    });

    test('onStop: keep: a clean stop leaves the job running in Slurm, and the next start follows it', async () => {
      await slurmService('steady', 1, [
        `echo run >> ${join(cluster.dir, 'steady-runs')}`,
        `while [ ! -e ${join(cluster.dir, 'release-steady')} ]; do sleep 0.2; done`,
        'cat "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/result.txt"',
      ]);
      await submit('steady');
      await waitFor(
        async () => ((await runs('steady-runs')) === 1 ? true : undefined),
        60_000,
        'the job to run',
      );

      assert.equal(await server.stop('SIGTERM'), 0);
      assert.notEqual(await inSlurm('steady'), '', 'still in Slurm after the server stopped');
      await restartAndAdopt('steady');
      await writeFile(join(cluster.dir, 'release-steady'), '');
      await jobReaches('steady', 'Succeeded', 60_000);
      assert.equal(await runs('steady-runs'), 1, 'the script ran once');
      const s3 = await s3For(server);
      assert.equal(
        await waitFor(() => getText(s3, 'steady', 'out/result.txt'), 20_000, 'the output'),
        'payload',
      );
      await emptySpool();
    });
  },
);
