/**
 * @module fdl/resolve-service
 * Service JSON → ServiceSpec: quantities read, defaults applied, storage references resolved the way
 * OSCAR's manager does it (`minio` → `minio.default`, a MinIO/S3 path without `/` → `<service>/<path>`).
 */
import { PlatformError } from '../core/index.js';
import { checkByteQuantity, checkCpuQuantity } from './quantity.js';
import type { ServiceJson } from './service-json.js';
import type {
  ExecutionMode,
  InputTrigger,
  ProviderSettings,
  RetryPolicy,
  ServiceSpec,
  StorageIoSpec,
} from './service-spec.js';
import type { StorageIoJson, StorageProvidersJson } from './storage-json.js';

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
  pollIntervalSeconds: 30,
  region: 'us-east-1',
} as const;

/** `minio` → `minio.default`; the type part lower-cased as OSCAR does (`S3.x` → `s3.x`). */
export function normalizeProvider(reference: string): string {
  const trimmed = reference.trim();
  const dot = trimmed.indexOf('.');
  if (dot === -1) return `${trimmed.toLowerCase()}.default`;
  return `${trimmed.slice(0, dot).toLowerCase()}${trimmed.slice(dot)}`;
}

/** The provider's host as a URL: OSCAR writes WebDAV and Onedata hosts without a scheme (https). */
function baseUrlOf(host: string): string {
  const trimmed = host.trim().replace(/\/+$/, '');
  return /^https?:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
}

/** `storage_providers` → settings by `<type>.<id>`. Entries missing what they need to connect are left out. */
export function resolveProviders(json: StorageProvidersJson | undefined): Record<string, ProviderSettings> {
  const out: Record<string, ProviderSettings> = {};
  const put = (id: string, settings: ProviderSettings) => {
    // Own properties only: an id such as `__proto__` must stay a key.
    Object.defineProperty(out, id, { value: settings, enumerable: true, writable: true, configurable: true });
  };
  for (const [id, minio] of Object.entries(json?.minio ?? {})) {
    if (!minio.endpoint) continue;
    put(`minio.${id}`, {
      type: 'minio',
      endpoint: minio.endpoint,
      region: minio.region || SERVICE_DEFAULTS.region,
      accessKey: minio.access_key || null,
      secretKey: minio.secret_key || null,
      verifyTls: minio.verify ?? true,
    });
  }
  for (const [id, s3] of Object.entries(json?.s3 ?? {})) {
    put(`s3.${id}`, {
      type: 's3',
      endpoint: s3.endpoint || null,
      region: s3.region || SERVICE_DEFAULTS.region,
      accessKey: s3.access_key || null,
      secretKey: s3.secret_key || null,
      verifyTls: s3.verify ?? true,
    });
  }
  for (const [id, webdav] of Object.entries(json?.webdav ?? {})) {
    if (!webdav.hostname) continue;
    put(`webdav.${id}`, {
      type: 'webdav',
      baseUrl: baseUrlOf(webdav.hostname),
      login: webdav.login || null,
      password: webdav.password || null,
    });
  }
  for (const [id, onedata] of Object.entries(json?.onedata ?? {})) {
    if (!onedata.oneprovider_host || !onedata.token || !onedata.space) continue;
    put(`onedata.${id}`, {
      type: 'onedata',
      baseUrl: baseUrlOf(onedata.oneprovider_host),
      token: onedata.token,
      space: onedata.space,
    });
  }
  return out;
}

function inputTrigger(io: StorageIoJson, type: string): InputTrigger | undefined {
  if (type !== 'minio' && type !== 's3') return undefined;
  switch (io.trigger) {
    case 'poll':
      return {
        kind: 'poll',
        intervalMs: Math.round((io.poll_interval ?? SERVICE_DEFAULTS.pollIntervalSeconds) * 1000),
      };
    case 'sqs':
      return { kind: 'sqs', queueUrl: io.queue_url ?? '' };
    default:
      return { kind: 'webhook' };
  }
}

/**
 * Resolves one input/output entry of service `serviceName`. `direction` decides whether the entry gets a
 * trigger (inputs on an external MinIO or S3 service).
 */
export function resolveStorageIo(
  io: StorageIoJson,
  serviceName: string,
  direction: 'input' | 'output' = 'output',
): StorageIoSpec {
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
  const trigger = inputTrigger(io, type);
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
    ...(direction === 'input' && provider !== 'minio.default' && trigger !== undefined ? { trigger } : {}),
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
  const ephemeralStorageBytes =
    json.ephemeral_storage_request === undefined || json.ephemeral_storage_request === ''
      ? 0
      : quantity(checkByteQuantity, json.ephemeral_storage_request, '0', 'ephemeral_storage_request', issues);
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
    input: (json.input ?? []).map((io) => resolveStorageIo(io, json.name, 'input')),
    output: (json.output ?? []).map((io) => resolveStorageIo(io, json.name)),
    storageProviders: resolveProviders(json.storage_providers),
    ephemeralStorageBytes,
    timeoutMs: Math.round((json.timeout ?? SERVICE_DEFAULTS.timeoutSeconds) * 1000),
    maxConcurrency: json.max_concurrency ?? SERVICE_DEFAULTS.maxConcurrency,
    retry: retryPolicy(json),
    executor: json.executor ?? SERVICE_DEFAULTS.executor,
    executionMode: executionModeOf(json.execution_mode),
    synchronous: {
      minScale: json.synchronous?.min_scale ?? null,
      maxScale: json.synchronous?.max_scale ?? null,
    },
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

/** SCAR's names are aliases: `lambda` is `function`, `lambda-batch` is `function-batch`. */
function executionModeOf(mode: ServiceJson['execution_mode']): ExecutionMode | null {
  switch (mode) {
    case undefined:
      return null;
    case 'lambda':
      return 'function';
    case 'lambda-batch':
      return 'function-batch';
    default:
      return mode;
  }
}
