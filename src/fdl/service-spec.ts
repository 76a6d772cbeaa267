/**
 * @module fdl/service-spec
 * The resolved form of one service, as every domain downstream of the FDL parser sees it: no optional
 * fields, units in names. The stored and transmitted form is OSCAR's Service JSON (snake_case, see
 * `service-json.ts`); `toServiceSpec` turns one into the other.
 */

/** One `input` or `output` entry of a service, resolved. */
export interface StorageIoSpec {
  /** `<type>.<id>`; `minio` alone becomes `minio.default`. The embedded store answers to `minio.default`. */
  provider: string;
  /** The path as written (after OSCAR's rewrite of a path without `/` to `<service>/<path>`). */
  path: string;
  /** First segment of `path`. */
  bucket: string;
  /** The rest of `path`, without leading or trailing slashes ('' for the whole bucket). */
  folder: string;
  /** Output filters: a file is uploaded when its relative name starts with one of these (empty = any). */
  prefixes: string[];
  /** Output filters: a file is uploaded when its relative name ends with one of these (empty = any). */
  suffixes: string[];
  /**
   * Input only: the storage events that trigger the service (`s3:ObjectCreated:*`, `s3:ObjectRemoved:*`,
   * or one event). Absent (specs built before this field, outputs): created objects, as in OSCAR.
   */
  events?: string[];
  /**
   * Input on an external MinIO/S3 service only: how Nubes learns of its new objects (Nubes addition
   * `trigger`). Absent for inputs on the embedded store and for outputs.
   */
  trigger?: InputTrigger;
}

/** How Nubes learns of the objects created in an input on an external MinIO or S3 service. */
export type InputTrigger =
  { kind: 'webhook' } | { kind: 'poll'; intervalMs: number } | { kind: 'sqs'; queueUrl: string };

/**
 * Where a storage provider is and how to sign in, from the service's `storage_providers` (credentials
 * included: never logged, never given to executors in argv or in non-secret objects).
 */
export type ProviderSettings =
  | {
      type: 'minio' | 's3';
      /** null: AWS S3 itself (the SDK picks the regional endpoint). */
      endpoint: string | null;
      region: string;
      /** null with `secretKey`: the SDK's default chain (AWS_* variables, instance role). */
      accessKey: string | null;
      secretKey: string | null;
      verifyTls: boolean;
    }
  | {
      type: 'webdav';
      /** `https://<hostname>` (OSCAR gives the host without scheme), or the URL as written. */
      baseUrl: string;
      login: string | null;
      password: string | null;
    }
  | {
      type: 'onedata';
      /** `https://<oneprovider_host>` */
      baseUrl: string;
      token: string;
      space: string;
    };

export interface RetryPolicy {
  /** Attempts in all, the first included. @default 3 */
  maxAttempts: number;
  /** Delay before the second attempt; doubles each time. @default 1000 */
  initialBackoffMs: number;
  /** @default 60000 */
  maxBackoffMs: number;
}

/** Where a service's jobs go on a Slurm cluster (Nubes addition `slurm`); null fields use the cluster's defaults. */
export interface SlurmSpec {
  partition: string | null;
  account: string | null;
  qos: string | null;
  /** Generic resources beyond `enable_gpu` (`gpu:a100:2`), passed as `--gres`. */
  gres: string | null;
  /** More sbatch options, each `--name` or `--name=value`. */
  options: string[];
}

/**
 * SCAR's execution modes (Nubes addition `execution_mode`; SCAR's `lambda`, `batch`, `lambda-batch` are
 * aliases): run on the executor playing the function role, the batch role, or the function role first and
 * the batch role when the job outgrows the function executor's limits. Which executor plays which role is
 * the server's configuration (NUBES_EXECUTION_ROLES).
 */
export type ExecutionMode = 'function' | 'batch' | 'function-batch';

export interface ServiceSpec {
  name: string;
  /** Container image; recorded, and run only by executors that run containers. */
  image: string;
  /** The script's content (not its path). */
  script: string;
  /** CPUs as a number (`'0.5'`, `'500m'` -> 0.5). @default 0.2 */
  cpu: number;
  /** Memory limit in bytes (`256Mi`). @default 256 MiB */
  memoryBytes: number;
  enableGpu: boolean;
  logLevel: string;
  variables: Record<string, string>;
  secrets: Record<string, string>;
  input: StorageIoSpec[];
  output: StorageIoSpec[];
  /** The service's `storage_providers`, by `<type>.<id>` (rucio and incomplete entries left out). */
  storageProviders: Record<string, ProviderSettings>;
  /** Scratch disk a job may use (OSCAR `ephemeral_storage_request`); 0 = the executor's default. */
  ephemeralStorageBytes: number;
  /** Wall-clock limit of one job; 0 = none. Nubes addition `timeout` (seconds). @default 0 */
  timeoutMs: number;
  /** Jobs of this service running at once. Nubes addition `max_concurrency`. @default 0 (only the global limit) */
  maxConcurrency: number;
  retry: RetryPolicy;
  /** `local` unless the FDL names another executor (Nubes addition `executor`). */
  executor: string;
  /** null: the service runs on `executor`; otherwise the roles of NUBES_EXECUTION_ROLES decide. */
  executionMode: ExecutionMode | null;
  /**
   * Scale bounds of the service's synchronous backend (OSCAR `synchronous.min_scale/max_scale`, Knative's
   * min-scale/max-scale); null where the FDL says nothing (the executor's defaults apply).
   */
  synchronous: { minScale: number | null; maxScale: number | null };
  /** Network of a container job: `none` unless the service asks for `host` (Nubes addition `network`). */
  network: 'none' | 'host';
  slurm: SlurmSpec;
  /** OSCAR visibility; enforced by the multi-tenancy work. @default private */
  visibility: 'private' | 'public' | 'restricted';
  allowedUsers: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
