/**
 * @module fdl/service-json
 * OSCAR's Service JSON — what oscar-cli POSTs to `/system/services` and what GET answers — as a strict
 * schema, plus the Nubes additions. It is both the API's payload and the stored form of a service; the
 * FDL parser produces it too. `toServiceSpec` (resolve-service.ts) turns it into the resolved ServiceSpec.
 *
 * Nubes additions (all optional, none of them OSCAR's):
 * - `timeout`: wall-clock limit of one job, in seconds (≥ 0, 0 = none). @default 0
 * - `max_concurrency`: jobs of this service running at once (whole number ≥ 0, 0 = only the global limit). @default 0
 * - `max_retries`: retries after a failed attempt (whole number ≥ 0). @default 2, so 3 attempts in all
 * - `retry_backoff`: seconds before the first retry, doubling each time. @default 1
 * - `executor`: the executor that runs the service (`local`, `container`, `slurm`, …). @default 'local'
 * - `network`: `none` or `host`, the network of container jobs. @default 'none'
 * - `slurm`: `partition`, `account`, `qos`, `gres` and more sbatch `options` (`--name[=value]`) for Slurm jobs.
 * - `execution_mode`: `function`, `batch` or `function-batch` (SCAR's `lambda`, `batch`, `lambda-batch`):
 *   which of the executors configured for those roles runs the jobs (see executors/hybrid).
 */
import { z } from 'zod';
import { PlatformError } from '../core/index.js';
import { checkByteQuantity, checkCpuQuantity } from './quantity.js';
import { bool, choice, fdlErrorMap, num, opt, strictObject, text, textMap } from './schema-kit.js';
import {
  clusterSchema,
  mountSchema,
  replicaSchema,
  storageIoSchema,
  storageProvidersSchema,
} from './storage-json.js';
import { formatPath } from './yaml-tree.js';

/** Service names: DNS-safe (they name buckets, Kubernetes objects and URL paths), 1 to 39 characters. */
export const SERVICE_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Supervisor log levels (Python's); OSCAR upper-cases whatever is written. */
export const LOG_LEVELS = ['NOTSET', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;

/** Fields OSCAR's server sets and GET returns; accepted on input so a GET can be POSTed back, never trusted. */
export const READ_ONLY_SERVICE_FIELDS = [
  'token',
  'owner',
  'bucket_list',
  'namespace',
  'volume_status',
  'deployment',
] as const;

/** OSCAR v3 delegation fields, replaced in v4 by `federation` (which v4 reads instead). */
export const V3_DELEGATION_FIELDS = ['replicas', 'delegation', 'rescheduler_threshold'] as const;

const DELEGATION_MODES = ['static', 'random', 'load-based', 'topsis'] as const;

const optText = () => opt(text(), { emptyIsAbsent: true });
const cpuQuantity = () =>
  opt(text({ check: (v) => messageOf(checkCpuQuantity(v)) }), { emptyIsAbsent: true });
const byteQuantity = () =>
  opt(text({ check: (v) => messageOf(checkByteQuantity(v)) }), { emptyIsAbsent: true });
const count = () => opt(num({ integer: true, min: 0 }));
const flag = () => opt(bool());
const textList = () => opt(z.array(text()));

function messageOf(result: { ok: true } | { ok: false; message: string }): string | undefined {
  return result.ok ? undefined : result.message;
}

/** `api_port`/`nodePort`: a port, or since OSCAR 4.1 a list of ports. */
const ports = () =>
  opt(
    z.unknown().transform((value, ctx): number | number[] => {
      const port = num({ integer: true, min: 0, max: 65535 });
      if (!Array.isArray(value)) {
        const single = port.safeParse(value, { errorMap: fdlErrorMap });
        if (single.success) return single.data;
        for (const issue of single.error.issues)
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: issue.message });
        return z.NEVER;
      }
      const out: number[] = [];
      value.forEach((item, index) => {
        const one = port.safeParse(item, { errorMap: fdlErrorMap });
        if (one.success) out.push(one.data);
        else
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: [index],
            message: one.error.issues[0]?.message ?? 'not a port',
          });
      });
      return out;
    }),
  );

/** `environment`: `variables` and `secrets`, also spelt `Variables`/`Secrets` as OSCAR's examples do. */
const environmentSchema = strictObject({
  variables: opt(textMap()),
  secrets: opt(textMap()),
  Variables: opt(textMap()),
  Secrets: opt(textMap()),
}).transform((env, ctx) => {
  if (env.variables && env.Variables) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['Variables'],
      message: 'give "variables" or "Variables", not both',
    });
  }
  if (env.secrets && env.Secrets) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['Secrets'],
      message: 'give "secrets" or "Secrets", not both',
    });
  }
  const variables = env.variables ?? env.Variables;
  const secrets = env.secrets ?? env.Secrets;
  return { ...(variables ? { variables } : {}), ...(secrets ? { secrets } : {}) };
});

const exposeSchema = strictObject({
  min_scale: count(),
  max_scale: count(),
  api_port: ports(),
  cpu_threshold: opt(num({ integer: true, min: 0, max: 100 })),
  rewrite_target: flag(),
  nodePort: ports(),
  default_command: flag(),
  set_auth: flag(),
  auth_type: opt(choice(['basic', 'forward'] as const), { emptyIsAbsent: true }),
  health_path: optText(),
  probe_mode: opt(choice(['legacy', 'direct'] as const), { emptyIsAbsent: true }),
});

const kserveSchema = strictObject({
  type: choice(['inference', 'llm_inference'] as const),
  inference: opt(strictObject({ model_format: text({ nonEmpty: true }), runtime: optText() })),
  llm_inference: opt(strictObject({ runtime_image: optText() })),
  storage_uri: text({ nonEmpty: true }),
  api_version: opt(choice(['v1', 'v2'] as const), { emptyIsAbsent: true }),
  min_scale: count(),
  max_scale: count(),
  cpu: cpuQuantity(),
  memory: byteQuantity(),
  args: textList(),
  env: opt(textMap()),
  enable_gpu: flag(),
  set_auth: flag(),
}).superRefine((kserve, ctx) => {
  if (kserve.type === 'inference' && !kserve.inference) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['inference'],
      message: 'missing required field "inference" (type is inference)',
    });
  }
});

const volumeSchema = strictObject({
  name: optText(),
  size: byteQuantity(),
  mount_path: text({ nonEmpty: true }),
  lifecycle_policy: opt(choice(['delete', 'retain'] as const), { emptyIsAbsent: true }),
});

const federationSchema = strictObject({
  group_id: optText(),
  topology: opt(choice(['none', 'star', 'mesh'] as const), { emptyIsAbsent: true }),
  delegation: opt(choice(DELEGATION_MODES), { emptyIsAbsent: true }),
  rescheduler_threshold: count(),
  members: opt(z.array(replicaSchema)),
});

const volumeStatusSchema = strictObject({
  enabled: flag(),
  name: optText(),
  phase: optText(),
  error: optText(),
});

/** The Service JSON schema: OSCAR v4 fields, v3 delegation fields, server-set fields and Nubes additions. */
export const serviceJsonSchema = strictObject({
  name: text({
    nonEmpty: true,
    maxLength: 39,
    pattern: SERVICE_NAME_PATTERN,
    patternMessage:
      'a service name uses lower-case letters, digits and "-", and starts and ends with a letter or digit',
  }),
  image: text({ nonEmpty: true }),
  /** The script's content (in an FDL file: its path, inlined by the parser). */
  script: optText(),
  cpu: cpuQuantity(),
  memory: byteQuantity(),
  total_cpu: cpuQuantity(),
  total_memory: byteQuantity(),
  ephemeral_storage_request: byteQuantity(),
  enable_gpu: flag(),
  enable_sgx: flag(),
  image_prefetch: flag(),
  log_level: opt(choice(LOG_LEVELS, { caseInsensitive: true }), { emptyIsAbsent: true }),
  alpine: flag(),
  file_stage_in: flag(),
  input: opt(z.array(storageIoSchema)),
  output: opt(z.array(storageIoSchema)),
  mount: opt(mountSchema),
  volume: opt(volumeSchema),
  environment: opt(environmentSchema),
  annotations: opt(textMap()),
  labels: opt(textMap()),
  image_pull_secrets: textList(),
  synchronous: opt(strictObject({ min_scale: count(), max_scale: count() })),
  expose: opt(exposeSchema),
  kserve: opt(kserveSchema),
  vo: optText(),
  visibility: opt(choice(['private', 'public', 'restricted'] as const), { emptyIsAbsent: true }),
  allowed_users: textList(),
  isolation_level: opt(choice(['SERVICE', 'USER'] as const, { caseInsensitive: true }), {
    emptyIsAbsent: true,
  }),
  interlink_node_name: optText(),
  federation: opt(federationSchema),
  replicas: opt(z.array(replicaSchema)),
  delegation: opt(choice(DELEGATION_MODES), { emptyIsAbsent: true }),
  rescheduler_threshold: count(),
  cluster_id: optText(),
  clusters: opt(z.record(z.string(), clusterSchema)),
  storage_providers: opt(storageProvidersSchema),
  // Set by the server.
  token: optText(),
  owner: optText(),
  bucket_list: textList(),
  namespace: optText(),
  volume_status: opt(volumeStatusSchema),
  deployment: opt(z.record(z.string(), z.unknown())),
  // Nubes additions.
  timeout: opt(num({ min: 0 })),
  max_concurrency: count(),
  max_retries: count(),
  retry_backoff: opt(num({ min: 0 })),
  executor: opt(
    text({
      pattern: /^[a-z][a-z0-9-]*$/,
      patternMessage: 'an executor name is a lower-case word such as "local" or "slurm"',
    }),
  ),
  network: opt(choice(['none', 'host'] as const), { emptyIsAbsent: true }),
  execution_mode: opt(choice(['function', 'batch', 'function-batch', 'lambda', 'lambda-batch'] as const), {
    emptyIsAbsent: true,
  }),
  slurm: opt(
    strictObject({
      partition: optText(),
      account: optText(),
      qos: optText(),
      gres: optText(),
      options: opt(
        z.array(
          text({
            pattern: /^--[a-z][a-z0-9-]*(=[^\n]*)?$/,
            patternMessage: 'an sbatch option is written --name or --name=value',
          }),
        ),
      ),
    }),
  ),
});

/** A validated Service JSON document (snake_case, optional fields absent when not given). */
export type ServiceJson = z.infer<typeof serviceJsonSchema>;

/** One problem found in a Service JSON document. */
export interface ServiceJsonIssue {
  /** JSON path, e.g. `output[1].storage_provider`. */
  path: string;
  message: string;
}

/** Reads zod issues as `{path, message}` pairs. */
export function toIssues(error: z.ZodError): ServiceJsonIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/**
 * Validates a Service JSON value (an API body, a stored service). Throws VALIDATION_FAILED with
 * `details.issues` naming the JSON path of every problem.
 */
export function validateServiceJson(value: unknown): ServiceJson {
  const result = serviceJsonSchema.safeParse(value, { errorMap: fdlErrorMap });
  if (result.success) return result.data;
  const issues = toIssues(result.error);
  const summary = issues
    .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
    .join('; ');
  throw new PlatformError('VALIDATION_FAILED', `invalid service: ${summary}`, { details: { issues } });
}
