/**
 * @module executors
 * The Executor contract, the registry of executors, and the local executor.
 */
export type {
  Executor,
  ExecutorCapabilities,
  Invocation,
  InvocationResult,
  DeployResult,
} from './executor.js';
export {
  executorRegistry,
  createExecutor,
  isExecutorName,
  type ExecutorContext,
  type ExecutorName,
  type ExecutorRegistration,
} from './registry.js';
export { executorsFor, rolesFor, type ExecutionRoles } from './hybrid/execution-roles.js';
export {
  createLocalExecutor,
  localExecutorConfigSchema,
  type LocalExecutor,
  type LocalExecutorOptions,
  type LocalExecutorConfig,
  type LocalIsolation,
} from './local/index.js';
