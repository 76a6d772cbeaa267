/**
 * @module executors/batch
 * The AWS Batch executor: job definitions per service, one submitted job per invocation.
 */
export { batchExecutorConfigSchema, type BatchExecutorConfig } from './config-schema.js';
export {
  jobDefinition,
  jobDefinitionName,
  submissionEnvironment,
  type JobDefinitionInput,
} from './job-definition.js';
