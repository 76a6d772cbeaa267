/**
 * @module test/executors/aws/batch.contract.test
 * The shared executor contract against the AWS Batch executor and the in-test AWS endpoint (not live):
 * each job's container runs the real standalone supervisor as a host process, staging through the real
 * S3 endpoint, logging to the in-test CloudWatch Logs; cancel and close terminate the job.
 * Batch refuses attempt durations under 60 s, so the 2-second timeout case is the supervisor's own.
 */
import { runExecutorContract } from '../executor.contract.js';
import { TestDataDir } from '../helpers.js';
import { IMAGE, startAwsFixture } from './aws-fixture.js';

runExecutorContract({
  name: 'batch (in-test endpoint, not live)',
  capabilities: { timeout: true, cancel: true, logs: true },
  async create() {
    const fixture = await startAwsFixture();
    const data = await TestDataDir.create();
    const executor = await fixture.batchExecutor();
    return {
      executor,
      store: fixture.s3.store,
      dataDir: data.root,
      adapt: (service) => ({ ...service, executor: 'batch', image: IMAGE }),
      running: (name) => Promise.resolve(fixture.batch.runningJobs(name)),
      async dispose() {
        await fixture.close();
        await data.remove();
      },
    };
  },
});
