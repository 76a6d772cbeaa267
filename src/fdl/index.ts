/**
 * @module fdl
 * FDL files (OSCAR v3/v4, SCAR) and OSCAR's Service JSON → the validated ServiceSpec every domain uses.
 */
export * from './service-spec.js';
export {
  serviceJsonSchema,
  validateServiceJson,
  SERVICE_NAME_PATTERN,
  LOG_LEVELS,
  READ_ONLY_SERVICE_FIELDS,
  V3_DELEGATION_FIELDS,
  type ServiceJson,
  type ServiceJsonIssue,
} from './service-json.js';
export {
  STORAGE_PROVIDER_TYPES,
  type StorageProviderType,
  type StorageIoJson,
  type MountJson,
  type StorageProvidersJson,
  type ClusterJson,
  type ReplicaJson,
} from './storage-json.js';
export {
  parseFdl,
  loadFdlFile,
  type FdlDocument,
  type FdlService,
  type ParseFdlOptions,
} from './fdl-parser.js';
export {
  mapreduceDefinitionSchema,
  type FdlMapReduce,
  type MapReduceDefinitionJson,
  type MapReduceFunctionJson,
} from './mapreduce-section.js';
export { formatDiagnostic, type FdlDiagnostic } from './diagnostics.js';
export {
  toServiceSpec,
  resolveStorageIo,
  resolveProviders,
  normalizeProvider,
  retryPolicy,
  SERVICE_DEFAULTS,
} from './resolve-service.js';
export { backendWarnings, type BackendCapabilities } from './backend-warnings.js';
export {
  parseCpuQuantity,
  parseByteQuantity,
  checkCpuQuantity,
  checkByteQuantity,
  type QuantityResult,
} from './quantity.js';
export {
  isolatesUsers,
  userBucketName,
  userBuckets,
  triggeringInputs,
  userOfBucket,
  specForInput,
  type UserBucket,
  type IsolatedService,
} from './user-isolation.js';
