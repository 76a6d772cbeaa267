#!/usr/bin/env node
/**
 * @module supervisor/lambda-main
 * Entry point of a Nubes Lambda function (the image's `ImageConfig.EntryPoint`, e.g. a script that runs
 * `node dist/src/supervisor/lambda-main.js`): serves invocations through the Lambda Runtime API.
 */
import { createLogger } from '../core/index.js';
import { runLambdaRuntime } from './lambda-runtime.js';
import { createS3Store } from './s3-store-factory.js';

// The job's log is the user's: the AWS SDK's notice about its future Node versions does not belong there.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const logger = createLogger({ name: 'supervisor', level: process.env.NUBES_LOG_LEVEL ?? 'warn' });
const api = process.env.AWS_LAMBDA_RUNTIME_API;
if (api === undefined || api === '') {
  logger.error('AWS_LAMBDA_RUNTIME_API is not set: this program runs inside AWS Lambda');
  process.exitCode = 1;
} else {
  await runLambdaRuntime({
    api,
    env: process.env,
    stderr: process.stderr,
    logger,
    createStore: createS3Store,
  });
}
