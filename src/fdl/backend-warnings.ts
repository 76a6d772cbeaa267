/**
 * @module fdl/backend-warnings
 * What a service asks for that the chosen executor (or Nubes as a whole) does not do yet. Deploying still
 * succeeds; these sentences are shown by the API, the CLI and `nubes fdl validate`, so nothing in an OSCAR
 * or SCAR file is dropped without a word.
 */
import { normalizeProvider } from './resolve-service.js';
import type { ServiceJson } from './service-json.js';

/** The parts of an executor's capabilities the warnings depend on (see executors/executor.ts). */
export interface BackendCapabilities {
  sync: boolean;
  gpu: boolean;
  /** Runs the FDL `image` for real. */
  containers: boolean;
  /** Jobs it can run at once (0 = unbounded). */
  maxConcurrency: number;
}

/**
 * Provider types whose buckets start jobs: the embedded store (`minio.default`) by its own events, an
 * external MinIO or S3 service by webhook, polling or SQS (events/external).
 */
const TRIGGER_TYPES = new Set(['minio', 's3']);
/** Provider types the supervisor reads inputs from and writes outputs to (storage/providers). */
const SUPPORTED_TYPES = new Set(['minio', 's3', 'webdav', 'onedata']);

function typeOf(provider: string): string {
  return provider.slice(0, provider.indexOf('.'));
}

/** Sentences naming each field of `json` that `executorName` (with `capabilities`) will not honour. */
export function backendWarnings(
  json: ServiceJson,
  capabilities: BackendCapabilities,
  executorName: string,
): string[] {
  const warnings: string[] = [];
  const on = `the ${executorName} executor`;

  if (!capabilities.containers) {
    warnings.push(`${on} runs the script on the host; image ${json.image} is recorded, not run`);
    if (!json.script) warnings.push(`${on} needs a script: with none, jobs have nothing to run`);
    if (json.image_pull_secrets?.length)
      warnings.push(`image_pull_secrets: not used by ${on} (it pulls no images)`);
  } else if (json.image_pull_secrets?.length) {
    warnings.push(
      "image_pull_secrets: not supported yet; images are pulled with the engine's own registry logins",
    );
  }
  if (json.enable_gpu && !capabilities.gpu)
    warnings.push(`enable_gpu: ${on} has no GPU; jobs run without one`);
  if (json.synchronous && !capabilities.sync) {
    warnings.push(`synchronous: ${on} does not answer /run; use /job or a storage upload`);
  }
  if (
    json.max_concurrency &&
    capabilities.maxConcurrency > 0 &&
    json.max_concurrency > capabilities.maxConcurrency
  ) {
    warnings.push(
      `max_concurrency ${json.max_concurrency}: ${on} runs at most ${capabilities.maxConcurrency} jobs at once`,
    );
  }

  if (json.federation?.members?.length)
    warnings.push('federation: delegation to other clusters is not supported yet; every job runs here');
  else if (json.federation) warnings.push('federation: not supported yet; recorded only');
  if (json.replicas?.length)
    warnings.push('replicas: delegation to other clusters is not supported yet; every job runs here');
  if (json.delegation !== undefined || json.rescheduler_threshold !== undefined) {
    warnings.push('delegation/rescheduler_threshold: delegation is not supported yet; recorded only');
  }
  if (json.expose) warnings.push('expose: long-running exposed HTTP services are not supported yet');
  if (json.kserve) warnings.push('kserve: KServe inference services are not supported yet');
  if (json.mount?.path)
    warnings.push(
      `mount: mounting ${json.mount.storage_provider ?? 'minio'}:${json.mount.path} is not supported yet`,
    );
  if (json.volume) warnings.push('volume: managed persistent volumes are not supported yet');
  if (json.vo) warnings.push(`vo "${json.vo}": EGI virtual organisations are not checked yet; recorded only`);
  if (json.isolation_level?.toUpperCase() === 'USER' && (json.allowed_users ?? []).length === 0)
    warnings.push('isolation_level USER without allowed_users: no user has a private bucket yet');
  if (json.enable_sgx) warnings.push('enable_sgx: SGX enclaves are not supported');
  if (json.image_prefetch) warnings.push('image_prefetch: has no effect; images are pulled on first use');
  if (json.interlink_node_name)
    warnings.push('interlink_node_name: interLink virtual nodes are not supported');
  if (json.total_cpu || json.total_memory) {
    warnings.push(
      'total_cpu/total_memory: YuniKorn queue limits are not supported; use max_concurrency to bound a service',
    );
  }
  // Lambda sizes the function's /tmp from it; elsewhere it is not enforced.
  if (json.ephemeral_storage_request && executorName !== 'lambda')
    warnings.push("ephemeral_storage_request: not enforced; jobs use the data directory's disk");

  json.input?.forEach((io, index) => {
    const type = typeOf(normalizeProvider(io.storage_provider));
    if (!TRIGGER_TYPES.has(type)) {
      warnings.push(
        `input[${index}] on ${io.storage_provider}: ${type} uploads do not start jobs; only MinIO and S3 buckets ` +
          "(the platform's own, or external ones by webhook, polling or SQS) do",
      );
    }
  });
  json.output?.forEach((io, index) => {
    const type = typeOf(normalizeProvider(io.storage_provider));
    if (!SUPPORTED_TYPES.has(type)) {
      warnings.push(
        `output[${index}] on ${io.storage_provider}: ${type} outputs are not supported; jobs will fail`,
      );
    }
    if (io.trigger !== undefined || io.poll_interval !== undefined || io.queue_url !== undefined) {
      warnings.push(`output[${index}]: trigger, poll_interval and queue_url apply to inputs only; ignored`);
    }
  });
  return warnings;
}
