/**
 * @module mapreduce
 * Serverless MapReduce over object storage (MARLA's idea, with job states, retries, speculative
 * re-runs, hash partitioning and bounded-memory merges): jobs from the API, the CLI, or an FDL `mapreduce`
 * section triggered by uploads.
 */
export { MapReduceEngine, type MapReduceEngineOptions } from './engine.js';
export { INTERMEDIATE_BUCKET, chunkSizeFor, mapreducePrincipal } from './coordinator.js';
export type {
  AttemptRecord,
  FunctionKind,
  FunctionSource,
  JobProgress,
  JobRecord,
  JobState,
  MapReduceSpec,
  OutputMode,
  TaskRecord,
  TaskState,
} from './job-model.js';
export { jobSummary } from './job-model.js';
export {
  MAPREDUCE_DEFAULTS,
  NAME_PATTERN,
  definitionToJson,
  describeDefinition,
  mapreduceJsonSchema,
  parseByteSize,
  parseMapReduceJson,
  splitPath,
  toMapReduceSpec,
  type MapReduceJson,
} from './spec-json.js';
export { functionKind } from './function-files.js';
export { splitLines, lineStartAtOrAfter, type LineChunk, type RangeReader } from './line-splitter.js';
export { partitionOf } from './partition.js';
