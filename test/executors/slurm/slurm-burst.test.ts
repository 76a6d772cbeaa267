/**
 * @module test/executors/slurm/slurm-burst.test
 * A burst of 200 jobs on the Slurm executor and a real cluster on localhost: they are submitted as job
 * arrays (a handful of sbatch calls, not 200), every task finds its own invocation, and all succeed with
 * their outputs staged out through the S3 endpoint.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Invocation } from '../../../src/executors/executor.js';
import { contractService } from '../executor.contract.js';
import { TestDataDir } from '../helpers.js';
import { slurmMissing } from '../../support/slurm-cluster.js';
import { startSlurmFixture, type SlurmFixture } from './slurm-fixture.js';

const missing = await slurmMissing();
const JOBS = 200;

void describe(
  'Slurm executor: a burst of 200 jobs (real cluster on localhost)',
  { skip: missing ?? false },
  () => {
    let fixture: SlurmFixture;
    let data: TestDataDir;

    before(async () => {
      fixture = await startSlurmFixture({ nodes: 3, cpusPerNode: 16 });
      data = await TestDataDir.create();
      await fixture.s3.store.ensureBucket('burst');
    });
    after(async () => {
      await fixture?.close();
      await data?.remove();
    });

    test('goes as job arrays and every job succeeds with its own output', { timeout: 240_000 }, async () => {
      const executor = await fixture.executor();
      try {
        const service = {
          ...contractService(
            'burst',
            'echo "$JOB_UUID $SLURM_ARRAY_TASK_ID" > "$TMP_OUTPUT_DIR/$JOB_UUID.txt"',
          ),
          input: [],
          output: [
            {
              provider: 'minio.default',
              path: 'burst/out',
              bucket: 'burst',
              folder: 'out',
              prefixes: [],
              suffixes: [],
            },
          ],
          executor: 'slurm',
        };
        await executor.deploy(service);
        await mkdir(join(data.root, 'logs'), { recursive: true });
        const invocations: Invocation[] = [];
        for (let index = 0; index < JOBS; index++) {
          const jobId = `burst-${index}`;
          const workDir = join(data.root, 'work', jobId);
          await mkdir(workDir, { recursive: true });
          invocations.push({
            jobId,
            service,
            kind: 'http',
            event: `{"index":${index}}`,
            input: null,
            bodyPath: null,
            workDir,
            logPath: join(data.root, 'logs', `${jobId}.log`),
            signal: new AbortController().signal,
          });
        }
        const results = await Promise.all(invocations.map((invocation) => executor.run(invocation)));

        const failed = results.flatMap((result, index) => (result.status === 'succeeded' ? [] : [index]));
        const logs = await Promise.all(
          failed.map((index) => readFile(invocations[index]?.logPath ?? '', 'utf8').catch(() => '(no log)')),
        );
        assert.deepEqual(
          failed.map((index) => results[index]?.error),
          [],
          `every job succeeds; the logs of those that failed:\n${logs.join('\n---\n')}`,
        );
        const sizes = executor.submissionSizes;
        assert.equal(
          sizes.reduce((sum, size) => sum + size, 0),
          JOBS,
        );
        assert.ok(sizes.length <= 10, `${sizes.length} submissions for ${JOBS} jobs: ${sizes.join(', ')}`);
        assert.ok(Math.max(...sizes) >= 20, `arrays: ${sizes.join(', ')}`);

        const listed = await fixture.s3.store.list('burst', { prefix: 'out/', maxKeys: 1000 });
        assert.equal(listed.objects.length, JOBS);
        // Each job wrote its own id: every task ran its own invocation, none ran another's.
        for (const [index, result] of results.entries()) {
          assert.deepEqual(
            result.outputs.map((output) => output.key),
            [`out/burst-${index}.txt`],
          );
        }
      } finally {
        await executor.close();
      }
    });
  },
);
