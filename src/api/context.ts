/**
 * @module api/context
 * What the API routes need from the rest of the platform.
 */
import type { Clock, Logger, NubesConfig, ShutdownGate } from '../core/index.js';
import type {
  ConcurrencyLimiter,
  Dispatcher,
  ExternalInputs,
  JobQueue,
  JobStats,
  ServiceRegistry,
} from '../events/index.js';
import type { Executor } from '../executors/executor.js';
import type { JobRunner } from '../executors/job-runner.js';
import type { MapReduceEngine } from '../mapreduce/index.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ApiAuth } from './context-auth.js';
import type { PlatformMetrics } from './metrics.js';
import type { Scheduler } from '../scheduler/index.js';

export interface ApiContext {
  config: NubesConfig;
  logger: Logger;
  clock: Clock;
  version: string;
  /** Public base URL of the S3 endpoint. */
  s3Url: () => string;
  registry: ServiceRegistry;
  queue: JobQueue;
  dispatcher: Dispatcher;
  limiter: ConcurrencyLimiter;
  runner: JobRunner;
  store: ObjectStore;
  executor: (name: string) => Executor;
  /** Aggregates over jobs (dashboard charts, metrics). */
  stats: JobStats;
  /** Prometheus metrics of this server. */
  metrics: PlatformMetrics;
  /** Names of the executors this server can use. */
  executorNames: () => string[];
  /** Authentication, users, quotas. */
  auth: ApiAuth;
  /** The MapReduce engine (absent: /system/mapreduce answers UNAVAILABLE). */
  mapreduce?: MapReduceEngine;
  /** Refuses new requests once the server shuts down, and tells when those admitted are answered. */
  gate: ShutdownGate;
  /** The divisible-job scheduler (TaScaaS). */
  scheduler: Scheduler;
  /** Inputs on external MinIO/S3 services: webhooks, polling, SQS. */
  externalInputs: ExternalInputs;
}
