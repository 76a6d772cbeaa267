/**
 * @module fdl/resolve-service
 * Service JSON → ServiceSpec: quantities read, defaults applied, storage references resolved the way
 * OSCAR's manager does it (`minio` → `minio.default`, a MinIO/S3 path without `/` → `<service>/<path>`).
 */
import { PlatformError } from '../core/index.js';
import { checkByteQuantity, checkCpuQuantity } from './quantity.js';
import type { ServiceJson } from './service-json.js';
import type { RetryPolicy, ServiceSpec, StorageIoSpec } from './service-spec.js';
import type { StorageIoJson } from './storage-json.js';

/** The values a service gets for what its JSON leaves out. */
export const SERVICE_DEFAULTS = {
  cpu: '0.2',
  memory: '256Mi',
  logLevel: 'INFO',
  visibility: 'private',
  executor: 'local',
  timeoutSeconds: 0,
  maxConcurrency: 0,
  maxRetries: 2,
  retryBackoffSeconds: 1,
  maxBackoffMs: 60_000,
} as const;

/** `minio` → `minio.default`; the type part lower-cased as OSCAR does (`S3.x` → `s3.x`). */
export function normalizeProvider(reference: string): string {
  const trimmed = reference.trim();
  const dot = trimmed.indexOf('.');
  if (dot === -1) return `${trimmed.toLowerCase()}.default`;
  return `${trimmed.slice(0, dot).toLowerCase()}${trimmed.slice(dot)}`;
}

/** Resolves one input/output entry of service `serviceName`. */
export function resolveStorageIo(io: StorageIoJson, serviceName: string): StorageIoSpec {
  const provider = normalizeProvider(io.storage_provider);
  const type = provider.slice(0, provider.indexOf('.'));
  let path = io.path.trim().replace(/^\/+|\/+$/g, '');
  if (path === '') {
    throw new PlatformError('VALIDATION_FAILED', `storage path of "${io.storage_provider}" is empty`, {
      details: { issues: [{ path: 'path', message: 'must not be empty' }] },
    });
  }
  // OSCAR's rewrite: for MinIO and S3 a bare name is a folder of the service's own bucket.
  if ((type === 'minio' || type === 's3') && !path.includes('/')) path = `${serviceName}/${path}`;
  const slash = path.indexOf('/');
  const bucket = slash === -1 ? path : path.slice(0, slash);
  const folder = slash === -1 ? '' : path.slice(slash + 1).replace(/\/+$/, '');
  return {
    provider,
    path,
    bucket,
    folder,
    prefixes: io.prefix ?? [],
    suffixes: io.suffix ?? [],
    ...(io.events === undefined || io.events.length === 0 ? {} : { events: [...io.events] }),
  };
}

function quantity(
  check: typeof checkCpuQuantity,
  text: string | undefined,
  fallback: string,
  field: string,
  issues: { path: string; message: string }[],
): number {
  const result = check(text ?? fallback);
  if (result.ok) return result.value;
  issues.push({ path: field, message: result.message });
  return 0;
}

/** The retry policy of a service: `max_retries` retries after the first attempt, `retry_backoff` seconds doubling. */
export function retryPolicy(json: Pick<ServiceJson, 'max_retries' | 'retry_backoff'>): RetryPolicy {
  const initialBackoffMs = Math.round((json.retry_backoff ?? SERVICE_DEFAULTS.retryBackoffSeconds) * 1000);
  return {
    maxAttempts: (json.max_retries ?? SERVICE_DEFAULTS.maxRetries) + 1,
    initialBackoffMs,
    maxBackoffMs: Math.max(SERVICE_DEFAULTS.maxBackoffMs, initialBackoffMs),
  };
}

/**
 * Resolves a validated Service JSON into the ServiceSpec the other domains use. Throws VALIDATION_FAILED
 * (with `details.issues`) if a quantity or a path cannot be read — which `validateServiceJson` already rules out.
 */
export function toServiceSpec(json: ServiceJson): ServiceSpec {
  const issues: { path: string; message: string }[] = [];
  const cpu = quantity(checkCpuQuantity, json.cpu, SERVICE_DEFAULTS.cpu, 'cpu', issues);
  const memoryBytes = quantity(checkByteQuantity, json.memory, SERVICE_DEFAULTS.memory, 'memory', issues);
  if (issues.length > 0) {
    const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    throw new PlatformError('VALIDATION_FAILED', `service "${json.name}": ${summary}`, {
      details: { issues },
    });
  }
  return {
    name: json.name,
    image: json.image,
    script: json.script ?? '',
    cpu,
    memoryBytes,
    enableGpu: json.enable_gpu ?? false,
    logLevel: json.log_level ?? SERVICE_DEFAULTS.logLevel,
    variables: { ...json.environment?.variables },
    secrets: { ...json.environment?.secrets },
    input: (json.input ?? []).map((io) => resolveStorageIo(io, json.name)),
    output: (json.output ?? []).map((io) => resolveStorageIo(io, json.name)),
    timeoutMs: Math.round((json.timeout ?? SERVICE_DEFAULTS.timeoutSeconds) * 1000),
    maxConcurrency: json.max_concurrency ?? SERVICE_DEFAULTS.maxConcurrency,
    retry: retryPolicy(json),
    executor: json.executor ?? SERVICE_DEFAULTS.executor,
    network: json.network ?? 'none',
    slurm: {
      partition: json.slurm?.partition ?? null,
      account: json.slurm?.account ?? null,
      qos: json.slurm?.qos ?? null,
      gres: json.slurm?.gres ?? null,
      options: [...(json.slurm?.options ?? [])],
    },
    visibility: json.visibility ?? SERVICE_DEFAULTS.visibility,
    allowedUsers: [...(json.allowed_users ?? [])],
    labels: { ...json.labels },
    annotations: { ...json.annotations },
  };
}
