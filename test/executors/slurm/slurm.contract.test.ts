/**
 * @module test/executors/slurm/slurm.contract.test
 * The shared executor contract against the Slurm executor and a real Slurm cluster on localhost (munged,
 * slurmctld, three slurmd): each job is an sbatch submission staging through the S3 endpoint with a key
 * scoped to the job, done by the batch script itself (the shell path, the default) and by the standalone
 * Node supervisor (`shellJobs: false`).
 */
import { processesWithEnv } from '../helpers.js';
import { runExecutorContract } from '../executor.contract.js';
import { TestDataDir } from '../helpers.js';
import { slurmMissing } from '../../support/slurm-cluster.js';
import { startSlurmFixture } from './slurm-fixture.js';

const missing = await slurmMissing();
if (missing !== null) {
  console.log(`# skipped: the Slurm executor contract needs a Slurm installation (${missing})`);
} else {
  for (const shellJobs of [true, false]) runContract(shellJobs);
}

function runContract(shellJobs: boolean): void {
  runExecutorContract({
    name: `slurm (real cluster on localhost, ${shellJobs ? 'shell path' : 'Node supervisor'})`,
    capabilities: { timeout: true, cancel: true, logs: true },
    jobTimeoutMs: 30_000,
    async create() {
      const fixture = await startSlurmFixture();
      const data = await TestDataDir.create();
      const executor = await fixture.executor({ shellJobs });
      return {
        executor,
        store: fixture.s3.store,
        dataDir: data.root,
        adapt: (service) => ({ ...service, executor: 'slurm' }),
        async running(name) {
          const jobs = await fixture.activeJobs(name);
          const processes = await processesWithEnv(`CONTRACT_TAG=${name}`);
          return [...jobs.map((job) => `slurm job ${job}`), ...processes.map((pid) => `process ${pid}`)];
        },
        async dispose() {
          await fixture.close();
          await data.remove();
        },
      };
    },
  });
}
