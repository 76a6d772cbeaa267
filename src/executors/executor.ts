/**
 * @module executors/executor
 * The contract every executor implements (local processes, containers, Slurm, Kubernetes, Lambda).
 * Optional behaviour is a capability, never a method that throws "not implemented".
 */
import type { ErrorData } from '../core/index.js';
import type { ServiceSpec } from '../fdl/service-spec.js';

/**
 * The largest job an executor takes, declared so that hybrid execution (see hybrid/) can tell when a job
 * outgrows its function executor and must go to its batch executor. 0 means no limit of the executor's own.
 * AWS Lambda, for one, declares `{ timeoutMs: 900_000, memoryBytes: 10 GiB }` and `gpu: false`.
 */
export interface ExecutorLimits {
  /** Longest a job may run here. */
  timeoutMs: number;
  /** Most memory a job may ask for (the FDL `memory`). */
  memoryBytes: number;
}

export interface ExecutorCapabilities {
  /** Can answer `/run` (synchronous invocation). */
  sync: boolean;
  /** Can give a job a GPU (FDL `enable_gpu`). */
  gpu: boolean;
  /** Runs the FDL `image` for real. */
  containers: boolean;
  /** Jobs it can run at once (0 = unbounded). */
  maxConcurrency: number;
  limits: ExecutorLimits;
  /**
   * Whether its jobs use the invocation's work folder and body file on this host (default true). False for
   * an executor whose jobs stage in and out elsewhere (a batch system's nodes, from the event itself): the
   * runner then creates neither, which spares a burst of jobs a dozen file operations each.
   */
  localFiles?: boolean;
}

/** One run of a service's script. */
export interface Invocation {
  jobId: string;
  service: ServiceSpec;
  /** `storage`: an object event (the input is staged in); `http`: a /run or /job body. */
  kind: 'storage' | 'http';
  /** The raw event JSON given to the script as EVENT (for http: the request body as text when it is text). */
  event: string;
  /**
   * For storage events: the object that triggered the job, on `provider` (`<type>.<id>` of the service's
   * storage_providers; absent: the embedded store, `minio.default`).
   */
  input: { provider?: string; bucket: string; key: string; eventTimeIso: string } | null;
  /** A synchronous call (`/run`): the caller waits for the answer. @default false */
  sync?: boolean;
  /** For http invocations: the request body, saved by the caller to this file (null without localFiles). */
  bodyPath: string | null;
  /** Job work folder, created by the caller (unless the executor has no localFiles), removed after the run by the caller. */
  workDir: string;
  /** Where the combined stdout/stderr log is written as the job runs. */
  logPath: string;
  /**
   * Aborted to stop the run; its reason is a PlatformError: `JOB_CANCELLED` (a user cancelled it) or
   * `UNAVAILABLE` (the server is stopping: the job goes back to the queue for the next start).
   */
  signal: AbortSignal;
}

export interface InvocationResult {
  status: 'succeeded' | 'failed';
  exitCode: number | null;
  /** The signal that ended the script, if one did. */
  termSignal: string | null;
  error: ErrorData | null;
  /** Objects written by the run (bucket/key), in upload order. */
  outputs: { provider: string; bucket: string; key: string }[];
  /** Files left in TMP_OUTPUT_DIR (relative names), for the sync response. */
  outputFiles: string[];
  /** Absolute path of TMP_OUTPUT_DIR (still present until the caller removes workDir). */
  outputDir: string;
  startedMs: number;
  finishedMs: number;
}

export interface DeployResult {
  warnings: string[];
}

export interface Executor {
  readonly name: string;
  readonly capabilities: ExecutorCapabilities;
  /** Prepares the backend for a service (nothing for local); returns what it cannot honour as warnings. */
  deploy(service: ServiceSpec): Promise<DeployResult>;
  undeploy(serviceName: string): Promise<void>;
  /** Runs one invocation to its end. Aborting `invocation.signal` cancels it (the whole process group). */
  run(invocation: Invocation): Promise<InvocationResult>;
  close(): Promise<void>;
}
