/**
 * @module executors/lambda
 * The AWS Lambda executor: container-image functions, S3 triggers, jobs as invocations.
 */
export { lambdaExecutorConfigSchema, LAMBDA_LIMITS, type LambdaExecutorConfig } from './config-schema.js';
export {
  functionDefinition,
  functionName,
  logGroupName,
  type FunctionDefinition,
} from './function-definition.js';
export { mergeNotifications, wantedTriggers, type NotificationConfiguration } from './s3-trigger.js';
