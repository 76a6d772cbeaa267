/**
 * @module test/executors/aws/lambda.contract.test
 * The shared executor contract against the Lambda executor and the in-test AWS endpoint (not live): each
 * invocation runs the real Nubes Lambda runtime and supervisor as a host process behind a Runtime API,
 * staging through the real S3 endpoint. Lambda cannot stop a running invocation, so the cancel case does
 * not apply and close only ends the runs; logs arrive with the answer, not while the job runs.
 */
import { runExecutorContract } from '../executor.contract.js';
import { TestDataDir } from '../helpers.js';
import { functionName } from '../../../src/executors/lambda/index.js';
import { IMAGE, startAwsFixture } from './aws-fixture.js';

runExecutorContract({
  name: 'lambda (in-test endpoint, not live)',
  capabilities: { timeout: true, cancel: false, logs: true, liveLogs: false },
  async create() {
    const fixture = await startAwsFixture();
    const data = await TestDataDir.create();
    const executor = await fixture.lambdaExecutor();
    return {
      executor,
      store: fixture.s3.store,
      dataDir: data.root,
      adapt: (service) => ({ ...service, executor: 'lambda', image: IMAGE }),
      running: (name) =>
        Promise.resolve(
          fixture.lambda.busyEnvironments(functionName({ functionPrefix: 'nubes-' }, name)).map(String),
        ),
      async dispose() {
        await fixture.close();
        await data.remove();
      },
    };
  },
});
