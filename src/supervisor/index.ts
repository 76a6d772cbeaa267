/**
 * @module supervisor
 * One invocation: stage the input in, run the user's script through a ScriptRunner, stage the outputs out,
 * report the result (OSCAR's FaaS supervisor contract). Also the standalone program (main.ts) that does the
 * same inside containers, Slurm jobs and Lambda.
 */
export { runSupervised, outcomeError, type SupervisorDeps } from './supervisor.js';
export type {
  ScriptRunner,
  ScriptRun,
  ScriptOutcome,
  ScriptEndReason,
  ReadOnlyBind,
} from './script-runner.js';
export {
  buildJobEnvironment,
  DEFAULT_SCRIPT_PATH,
  RESERVED_VARIABLES,
  MAX_EVENT_ENV_BYTES,
  type JobEnvironment,
  type JobEnvironmentInput,
} from './environment.js';
export { decodeHttpBody, type BodyEncoding, type DecodedBody } from './http-body.js';
export { inputFileName } from './stage-in.js';
export {
  listOutputFiles,
  matchesOutput,
  outputKey,
  DEFAULT_PROVIDER,
  type OutputFile,
  type OutputListing,
  type UploadedObject,
} from './stage-out.js';
export { buildSyncResponse, zipFiles, type SyncResponse, type SyncResponseOptions } from './sync-response.js';
export { buildLaunchArgv, WRAPPER_SETUP_FAILED_EXIT, type LaunchWrapperOptions } from './launch-argv.js';
export {
  runProcess,
  processGroupTree,
  signalGroup,
  signalProcess,
  DEFAULT_KILL_GRACE_MS,
  type ProcessTree,
  type ProcessRunOptions,
  type ProcessOutcome,
} from './process-runner.js';
export { DEFAULT_MAX_LOG_BYTES } from './capped-log.js';
export { createPlainRunner, type PlainRunnerOptions } from './plain-runner.js';
export { parseEvent, type ParsedEvent } from './event-parser.js';
export {
  runStandalone,
  exitCodeOf,
  TIMEOUT_EXIT_CODE,
  type StandaloneIo,
  type StoreFactory,
} from './standalone.js';
export {
  loadStandaloneConfig,
  encodeStorageProviders,
  type StandaloneConfig,
  type S3Settings,
} from './standalone-config.js';
export { formatResultLine, splitResultLine, RESULT_LINE_PREFIX, type RemoteResult } from './result-line.js';
export { formatInvocationFile, readInvocationFile, type InvocationFile } from './invocation-file.js';
