/**
 * @module supervisor/standalone-config
 * The settings of the standalone supervisor, read once from the environment its host gives it (a container,
 * a Slurm job, Lambda). This is a separate program from the server: core/config stays the server's only
 * reader of the environment, and this module is the supervisor program's.
 *
 * - `FUNCTION_CONFIG`: the resolved service as base64 JSON (a ServiceSpec; fields the supervisor does not use
 *   may be left out and take their defaults).
 * - `NUBES_S3_ENDPOINT`, `NUBES_S3_ACCESS_KEY`, `NUBES_S3_SECRET_KEY`, `NUBES_S3_REGION`: the store of
 *   provider `minio.default`. Without an endpoint, any use of storage fails with STORAGE_UNREACHABLE.
 * - `JOB_UUID` (set by OSCAR's manager for async jobs), `NUBES_WORK_DIR`, `NUBES_RAW_RESPONSE`.
 * - `NUBES_SECRET_NAMES`: comma-separated names of variables of this environment that hold the service's
 *   secrets (a Kubernetes Secret given with `envFrom`, Lambda or Batch environment); they reach the script
 *   as secrets, the rest of this environment does not.
 * - `NUBES_RESULT_LINE=1`: end the log with the result line (see result-line.ts), for remote executors.
 * - `NUBES_PASS_ENV`: comma-separated names of variables of this environment that reach the script as they
 *   are (a trailing `*` matches a prefix), e.g. `SLURM_*,CUDA_VISIBLE_DEVICES` on a Slurm node; the
 *   service's own variables win.
 * - `NUBES_RESULT_FILE`: also write the result line to this file (written aside, then renamed into place, so
 *   a reader never sees half of it), for executors that share a folder with the job (Slurm).
 */
import { z } from 'zod';
import { PlatformError } from '../core/index.js';
import type { ProviderSettings, ServiceSpec, StorageIoSpec } from '../fdl/service-spec.js';
import { providerSettingsMapSchema } from '../storage/providers/index.js';

export interface S3Settings {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface StandaloneConfig {
  service: ServiceSpec;
  s3: S3Settings | null;
  jobId: string | null;
  /** Where to create the job's folders; a fresh temporary folder when null. */
  workRoot: string | null;
  /** Print raw bytes (with no base64) as the response. */
  rawResponse: boolean;
  /** End the log (stderr) with the result line. */
  resultLine: boolean;
  /** Where to write the result line as a file of its own; null for none. */
  resultFile: string | null;
  /**
   * The script's sandbox on a Slurm node: the Landlock helper (NUBES_SANDBOX_LANDLOCK), tried first, and
   * bubblewrap (NUBES_SANDBOX_BWRAP); the folders to hide (NUBES_SANDBOX_HIDE, one a line); fail rather than
   * run bare where neither works (NUBES_SANDBOX_REQUIRED). Null for none.
   */
  sandbox: StandaloneSandbox | null;
}

export interface StandaloneSandbox {
  landlockPath: string | null;
  bwrapPath: string | null;
  hiddenDirs: string[];
  required: boolean;
}

const storageIoSchema = z.object({
  provider: z.string().default('minio.default'),
  path: z.string(),
  bucket: z.string().min(1),
  folder: z.string().default(''),
  prefixes: z.array(z.string()).default([]),
  suffixes: z.array(z.string()).default([]),
}) satisfies z.ZodType<StorageIoSpec, z.ZodTypeDef, unknown>;

/** ServiceSpec with defaults for what the supervisor does not need; validated strictly where it does. */
const serviceSpecSchema = z.object({
  name: z.string().min(1),
  image: z.string().default(''),
  script: z.string(),
  cpu: z.number().nonnegative().default(0.2),
  memoryBytes: z.number().int().nonnegative().default(0),
  enableGpu: z.boolean().default(false),
  logLevel: z.string().default('INFO'),
  variables: z.record(z.string()).default({}),
  secrets: z.record(z.string()).default({}),
  input: z.array(storageIoSchema).default([]),
  output: z.array(storageIoSchema).default([]),
  ephemeralStorageBytes: z.number().int().nonnegative().default(0),
  timeoutMs: z.number().int().nonnegative().default(0),
  maxConcurrency: z.number().int().nonnegative().default(0),
  retry: z
    .object({ maxAttempts: z.number().int(), initialBackoffMs: z.number(), maxBackoffMs: z.number() })
    .default({ maxAttempts: 1, initialBackoffMs: 1000, maxBackoffMs: 60000 }),
  executor: z.string().default('local'),
  executionMode: z.enum(['function', 'batch', 'function-batch']).nullable().default(null),
  synchronous: z
    .object({ minScale: z.number().int().nullable(), maxScale: z.number().int().nullable() })
    .default({ minScale: null, maxScale: null }),
  network: z.enum(['none', 'host']).default('none'),
  slurm: z
    .object({
      partition: z.string().nullable(),
      account: z.string().nullable(),
      qos: z.string().nullable(),
      gres: z.string().nullable(),
      options: z.array(z.string()),
    })
    .default({ partition: null, account: null, qos: null, gres: null, options: [] }),
  visibility: z.enum(['private', 'public', 'restricted']).default('private'),
  allowedUsers: z.array(z.string()).default([]),
  labels: z.record(z.string()).default({}),
  annotations: z.record(z.string()).default({}),
  storageProviders: providerSettingsMapSchema.default({}),
}) satisfies z.ZodType<ServiceSpec, z.ZodTypeDef, unknown>;

const envSchema = z.object({
  FUNCTION_CONFIG: z.string({ required_error: 'FUNCTION_CONFIG is not set' }).min(1),
  NUBES_S3_ENDPOINT: z.string().url().optional(),
  NUBES_S3_ACCESS_KEY: z.string().min(1).optional(),
  NUBES_S3_SECRET_KEY: z.string().min(1).optional(),
  NUBES_S3_REGION: z.string().min(1).default('us-east-1'),
  JOB_UUID: z.string().min(1).optional(),
  NUBES_WORK_DIR: z.string().min(1).optional(),
  NUBES_RAW_RESPONSE: z.enum(['0', '1', 'true', 'false']).optional(),
  NUBES_SECRET_NAMES: z.string().optional(),
  NUBES_RESULT_LINE: z.enum(['0', '1', 'true', 'false']).optional(),
  NUBES_STORAGE_PROVIDERS: z.string().optional(),
  NUBES_RESULT_FILE: z.string().startsWith('/').optional(),
  NUBES_PASS_ENV: z.string().optional(),
  NUBES_SANDBOX_LANDLOCK: z.string().startsWith('/').optional(),
  NUBES_SANDBOX_BWRAP: z.string().startsWith('/').optional(),
  NUBES_SANDBOX_HIDE: z
    .string()
    .refine(
      (value) => value.split('\n').every((dir) => dir.startsWith('/') && !dir.split('/').includes('..')),
      'folders must be absolute paths without .., one a line',
    )
    .optional(),
  NUBES_SANDBOX_REQUIRED: z.enum(['0', '1']).optional(),
});

/** Reads the standalone supervisor's settings; fails with CONFIG_INVALID naming the variable at fault. */
export function loadStandaloneConfig(env: Record<string, string | undefined>): StandaloneConfig {
  const parsedEnv = envSchema.safeParse(env);
  if (!parsedEnv.success) throw invalid(parsedEnv.error);
  const vars = parsedEnv.data;

  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(vars.FUNCTION_CONFIG, 'base64').toString('utf8'));
  } catch (error) {
    throw new PlatformError('CONFIG_INVALID', 'FUNCTION_CONFIG is not base64 of a JSON document', {
      cause: error,
    });
  }
  const service = serviceSpecSchema.safeParse(decoded);
  if (!service.success) throw invalid(service.error, 'FUNCTION_CONFIG');
  const secrets = { ...service.data.secrets };
  for (const name of (vars.NUBES_SECRET_NAMES ?? '').split(',').filter((n) => n !== '')) {
    const value = env[name];
    if (value === undefined) {
      throw new PlatformError('CONFIG_INVALID', `secret ${name} is named in NUBES_SECRET_NAMES but not set`);
    }
    secrets[name] = value;
  }

  const storageProviders: Record<string, ProviderSettings> = {
    ...service.data.storageProviders,
    ...readProviders(vars.NUBES_STORAGE_PROVIDERS),
  };
  const passed: Record<string, string> = {};
  const patterns = (vars.NUBES_PASS_ENV ?? '').split(',').filter((p) => p !== '');
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || name.startsWith('NUBES_')) continue;
    const match = patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
    if (match) passed[name] = value;
  }

  let s3: S3Settings | null = null;
  if (vars.NUBES_S3_ENDPOINT !== undefined) {
    if (vars.NUBES_S3_ACCESS_KEY === undefined || vars.NUBES_S3_SECRET_KEY === undefined) {
      throw new PlatformError(
        'CONFIG_INVALID',
        'NUBES_S3_ENDPOINT needs NUBES_S3_ACCESS_KEY and NUBES_S3_SECRET_KEY',
      );
    }
    s3 = {
      endpoint: vars.NUBES_S3_ENDPOINT,
      accessKeyId: vars.NUBES_S3_ACCESS_KEY,
      secretAccessKey: vars.NUBES_S3_SECRET_KEY,
      region: vars.NUBES_S3_REGION,
    };
  }
  return {
    service: {
      ...service.data,
      variables: { ...passed, ...service.data.variables },
      secrets,
      storageProviders,
    },
    s3,
    jobId: vars.JOB_UUID ?? null,
    workRoot: vars.NUBES_WORK_DIR ?? null,
    rawResponse: vars.NUBES_RAW_RESPONSE === '1' || vars.NUBES_RAW_RESPONSE === 'true',
    resultLine: vars.NUBES_RESULT_LINE === '1' || vars.NUBES_RESULT_LINE === 'true',
    resultFile: vars.NUBES_RESULT_FILE ?? null,
    sandbox:
      vars.NUBES_SANDBOX_LANDLOCK === undefined && vars.NUBES_SANDBOX_BWRAP === undefined
        ? null
        : {
            landlockPath: vars.NUBES_SANDBOX_LANDLOCK ?? null,
            bwrapPath: vars.NUBES_SANDBOX_BWRAP ?? null,
            hiddenDirs: (vars.NUBES_SANDBOX_HIDE ?? '').split('\n').filter((dir) => dir !== ''),
            required: vars.NUBES_SANDBOX_REQUIRED === '1',
          },
  };
}

/** Decodes NUBES_STORAGE_PROVIDERS; the message never repeats the value (it holds credentials). */
function readProviders(encoded: string | undefined): Record<string, ProviderSettings> {
  if (encoded === undefined || encoded === '') return {};
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    throw new PlatformError('CONFIG_INVALID', 'NUBES_STORAGE_PROVIDERS is not base64 of a JSON document');
  }
  const parsed = providerSettingsMapSchema.safeParse(decoded);
  if (!parsed.success) {
    const where = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new PlatformError('CONFIG_INVALID', `NUBES_STORAGE_PROVIDERS is invalid at ${where}`);
  }
  return parsed.data;
}

/** The value of NUBES_STORAGE_PROVIDERS for a service's providers (for executors that start this program). */
export function encodeStorageProviders(providers: Record<string, ProviderSettings>): string {
  return Buffer.from(JSON.stringify(providers)).toString('base64');
}

function invalid(error: z.ZodError, prefix?: string): PlatformError {
  const issues = error.issues.map((issue) => {
    const path = [prefix, ...issue.path].filter((part) => part !== undefined).join('.');
    return `${path}: ${issue.message}`;
  });
  return new PlatformError('CONFIG_INVALID', `invalid supervisor configuration: ${issues.join('; ')}`, {
    details: { issues },
  });
}
