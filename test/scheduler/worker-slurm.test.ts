/**
 * `nubes worker --slurm`: a site agent that submits its partitions to a real Slurm cluster on localhost
 * instead of running them itself. Monte Carlo pi (test/fixtures/scheduler/pi.py, a point fixed per
 * partition and iteration) over 4 partitions must add up exactly, a partition that crashes on its first
 * attempt runs again, and Slurm's completion records show the partitions ran as Slurm jobs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, ROOT, startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { piHits } from '../support/pi-reference.js';
import { slurmMissing, startSlurmCluster, type SlurmTestCluster } from '../support/slurm-cluster.js';

const missing = await slurmMissing();

void describe(
  'scheduler site agent submitting partitions to Slurm (real cluster on localhost)',
  { skip: missing ?? false },
  () => {
    let cluster: SlurmTestCluster;
    let server: ServerProcess;
    let workDir: string;
    let worker: ChildProcess | null = null;

    before(async () => {
      cluster = await startSlurmCluster({ nodes: 2 });
      server = await startServer();
      workDir = await mkdtemp(join(cluster.dir, 'partitions-'));
    });
    after(async () => {
      if (worker !== null && worker.exitCode === null) worker.kill('SIGKILL');
      await server?.cleanup();
      await cluster?.stop();
      await rm(workDir ?? '/nonexistent', { recursive: true, force: true });
    });

    async function adminPost<T>(path: string, body: unknown): Promise<T> {
      const answer = await server.api(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await answer.text();
      assert.ok(answer.ok, `${answer.status} ${text}`);
      return JSON.parse(text) as T;
    }

    test(
      'Monte Carlo pi: exact total from partitions run as Slurm jobs, a crashed one retried',
      { timeout: 180_000 },
      async () => {
        const site = await adminPost<{ token: string }>('/system/scheduler/sites', { name: 'cluster' });
        // Seconds of work: partitions whose Slurm jobs start first take the whole share of those not
        // started yet, so a job of a fraction of a second could end before partition 1 ever ran (and crashed).
        const iterations = 3_000_000;
        const job = await adminPost<{ id: string }>('/system/scheduler/jobs', {
          name: 'pi',
          iterations,
          partitions: 4,
          reportIntervalSec: 0.5,
          command: ['python3', join(ROOT, 'test', 'fixtures', 'scheduler', 'pi.py')],
          resultReducer: 'sum',
          input: { failFirstAttemptOf: 1 },
        });
        let stderr = '';
        worker = spawn(
          process.execPath,
          [
            BIN,
            'worker',
            '--api',
            server.apiUrl,
            '--site',
            'cluster',
            '--slots',
            '4',
            '--poll-ms',
            '100',
            '--slurm',
            '--partition',
            cluster.partition,
            // Resource options sbatch must accept (a rejected one fails every partition).
            '--time',
            '5',
            '--cpus-per-task',
            '1',
            '--mem',
            '100M',
            '--slurm-conf',
            cluster.confPath,
            '--work-dir',
            workDir,
          ],
          {
            env: {
              ...process.env,
              NUBES_SITE_TOKEN: site.token,
              PYTHONPATH: join(ROOT, 'clients', 'python'),
            },
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        worker.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

        type Results = {
          state: string;
          result: { samples: number; hits: number };
          partitions: { index: number; attempt: number; done: number }[];
          error: unknown;
        };
        const results = await waitFor(
          async () => {
            const answer = (await (
              await server.api(`/system/scheduler/jobs/${job.id}/results`)
            ).json()) as Results;
            return ['succeeded', 'failed'].includes(answer.state) ? answer : undefined;
          },
          150_000,
          'the pi job to end',
        ).catch((error: unknown) => {
          throw new Error(`${(error as Error).message}\nworker: ${stderr}`);
        });
        const seen = `${JSON.stringify(results)}\nworker: ${stderr}`;
        assert.equal(results.state, 'succeeded', seen);
        assert.equal(results.result.samples, iterations, seen);
        const expected = results.partitions.reduce((sum, part) => sum + piHits(part.index, part.done), 0);
        assert.equal(results.result.hits, expected, seen);
        assert.ok(
          (results.partitions.find((part) => part.index === 1)?.attempt ?? 0) >= 1,
          `partition 1 ran again: ${seen}`,
        );
        // The agent's start-up line may still be in the pipe when a quick job is already done.
        await waitFor(
          async () => (/as Slurm jobs/.test(stderr) ? true : undefined),
          10_000,
          'the agent to say it uses Slurm',
        );

        // Slurm's own completion records: every partition attempt was a Slurm job (the record of the last
        // one is written when its process has exited, a moment after it reported its finish).
        let records = '';
        const partitionJobs = await waitFor(
          async () => {
            records = await readFile(join(cluster.dir, 'log', 'jobcomp.txt'), 'utf8').catch(() => '');
            const lines = records
              .split('\n')
              .filter((line) => line.includes(`Name=nubes-partition-${job.id}`));
            return lines.length >= 5 ? lines : undefined;
          },
          20_000,
          'five partition jobs in Slurm',
        ).catch((error: unknown) => {
          throw new Error(`${(error as Error).message}:\n${records}`);
        });
        assert.ok(
          partitionJobs.some((line) => /JobState=FAILED/.test(line)),
          'the crashed attempt failed in Slurm',
        );
        worker.kill('SIGTERM');
      },
    );
  },
);
