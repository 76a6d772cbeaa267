/**
 * @module executors/lambda/function-definition
 * Pure builders of what a service becomes in Lambda: a container-image function named after it, with
 * memory, timeout and `/tmp` from the service (clamped to Lambda's limits, each clamp a warning), the
 * runtime entry point from the configuration, and an environment that lets an S3 trigger run the service
 * with no envelope (the service definition when it fits Lambda's 4 KB, the storage endpoint, the secrets).
 */
import type { ProviderSettings, ServiceSpec } from '../../fdl/service-spec.js';
import { encodeStorageProviders } from '../../supervisor/standalone-config.js';
import { functionConfig } from '../kubernetes/manifests.js';
import { LAMBDA_LIMITS, type LambdaExecutorConfig } from './config-schema.js';

const MIB = 1024 * 1024;
/** Lambda gives one vCPU per 1,769 MB of memory (up to 6). */
const MB_PER_VCPU = 1769;

/** The function of a service: `<prefix><name>` (Lambda names are at most 64 of [A-Za-z0-9_-]). */
export function functionName(config: Pick<LambdaExecutorConfig, 'functionPrefix'>, service: string): string {
  return `${config.functionPrefix}${service.replace(/[^A-Za-z0-9_-]/g, '-')}`.slice(0, 64);
}

/** The log group Lambda writes a function's logs to. */
export function logGroupName(name: string): string {
  return `/aws/lambda/${name}`;
}

/** Everything of a function that UpdateFunctionConfiguration sets. */
export interface FunctionSettings {
  Role: string;
  MemorySize: number;
  Timeout: number;
  EphemeralStorage: { Size: number };
  Environment: { Variables: Record<string, string> };
  ImageConfig: { EntryPoint: string[]; Command: string[] };
  Description: string;
}

export interface FunctionDefinition {
  name: string;
  imageUri: string;
  settings: FunctionSettings;
  /** What of the service Lambda cannot honour. */
  warnings: string[];
}

/** The function of `service` under `config`. */
export function functionDefinition(service: ServiceSpec, config: LambdaExecutorConfig): FunctionDefinition {
  const warnings: string[] = [];
  const askedMiB = Math.ceil(service.memoryBytes / MIB);
  const memory = Math.min(LAMBDA_LIMITS.memoryMiB, Math.max(LAMBDA_LIMITS.minMemoryMiB, askedMiB));
  if (askedMiB > LAMBDA_LIMITS.memoryMiB) {
    warnings.push(
      `memory: ${askedMiB} MiB is over Lambda's ${LAMBDA_LIMITS.memoryMiB} MiB; functions get the most`,
    );
  }
  if (service.cpu > Math.min(6, memory / MB_PER_VCPU) + 1e-9) {
    warnings.push(
      `cpu: Lambda gives CPU in proportion to memory (one vCPU per ${MB_PER_VCPU} MB); ${memory} MiB ` +
        `gets about ${(memory / MB_PER_VCPU).toFixed(2)}, not ${service.cpu}`,
    );
  }
  if (service.enableGpu) warnings.push('enable_gpu: Lambda has no GPU; jobs run without one');

  const askedSeconds = Math.ceil(service.timeoutMs / 1000);
  // The function lives a little past the job's limit so that the supervisor can stop it and report.
  const ceiling = Math.min(
    LAMBDA_LIMITS.timeoutSeconds,
    config.maxTimeoutSeconds + config.timeoutThresholdSeconds,
  );
  let timeout = Math.min(config.defaultTimeoutSeconds, ceiling);
  if (service.timeoutMs > 0) {
    timeout = Math.min(ceiling, askedSeconds + config.timeoutThresholdSeconds);
    if (askedSeconds > config.maxTimeoutSeconds) {
      warnings.push(
        `timeout: ${askedSeconds} s is over the ${config.maxTimeoutSeconds} s a job may run on Lambda; jobs are stopped then ` +
          '(or go on to the batch executor with execution_mode function-batch)',
      );
    }
  }

  const storageMiB = Math.max(config.ephemeralStorageMiB, Math.ceil(service.ephemeralStorageBytes / MIB));
  const ephemeral = Math.min(LAMBDA_LIMITS.ephemeralStorageMiB, storageMiB);
  if (storageMiB > LAMBDA_LIMITS.ephemeralStorageMiB) {
    warnings.push(
      `ephemeral_storage_request: over Lambda's ${LAMBDA_LIMITS.ephemeralStorageMiB} MiB of /tmp; functions get the most`,
    );
  }
  if (service.image === '') warnings.push('no image: a Lambda function needs a container image in ECR');

  const { variables, warnings: envWarnings } = functionEnvironment(service, config);
  warnings.push(...envWarnings);
  return {
    name: functionName(config, service.name),
    imageUri: service.image,
    settings: {
      Role: config.role,
      MemorySize: memory,
      Timeout: timeout,
      EphemeralStorage: { Size: ephemeral },
      Environment: { Variables: variables },
      ImageConfig: { EntryPoint: [...config.entryPoint], Command: [] },
      Description: `Nubes service ${service.name}`,
    },
    warnings,
  };
}

/**
 * The service's storage providers, plus AWS S3 with the function's own role for every `s3.*` provider the
 * service names without settings (SCAR's rule: an `s3` provider without keys uses the function's role).
 */
export function storageProvidersWithRole(
  service: ServiceSpec,
  config: LambdaExecutorConfig,
): Record<string, ProviderSettings> {
  const providers: Record<string, ProviderSettings> = { ...service.storageProviders };
  for (const io of [...service.input, ...service.output]) {
    if (!io.provider.startsWith('s3.') || Object.hasOwn(providers, io.provider)) continue;
    providers[io.provider] = {
      type: 's3',
      endpoint: config.functionS3Endpoint ?? null,
      region: config.region,
      accessKey: null,
      secretKey: null,
      verifyTls: true,
    };
  }
  return providers;
}

/** Bytes Lambda counts for an environment (names and values). */
export function environmentBytes(variables: Record<string, string>): number {
  let total = 0;
  for (const [name, value] of Object.entries(variables)) {
    total += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  return total;
}

/**
 * The function's environment: storage settings and secrets always; the service definition only when the
 * whole fits Lambda's 4 KB (invocations from the executor carry it in their envelope anyway; an S3 trigger
 * needs it here).
 */
export function functionEnvironment(
  service: ServiceSpec,
  config: LambdaExecutorConfig,
): { variables: Record<string, string>; warnings: string[] } {
  const warnings: string[] = [];
  const variables: Record<string, string> = { NUBES_RESULT_LINE: '1' };
  if (config.storage !== undefined) {
    variables.NUBES_S3_ENDPOINT = config.storage.endpoint;
    variables.NUBES_S3_REGION = config.storage.region;
    variables.NUBES_S3_ACCESS_KEY = config.storage.accessKey;
    variables.NUBES_S3_SECRET_KEY = config.storage.secretKey;
  }
  const providers = storageProvidersWithRole(service, config);
  if (Object.keys(providers).length > 0) {
    variables.NUBES_STORAGE_PROVIDERS = encodeStorageProviders(providers);
  }
  const secretNames = Object.keys(service.secrets);
  if (secretNames.length > 0) {
    variables.NUBES_SECRET_NAMES = secretNames.join(',');
    Object.assign(variables, service.secrets);
  }
  const withConfig = { ...variables, FUNCTION_CONFIG: functionConfig(service) };
  if (environmentBytes(withConfig) <= LAMBDA_LIMITS.environmentBytes)
    return { variables: withConfig, warnings };
  if (service.input.some((io) => io.provider.startsWith('s3.'))) {
    warnings.push(
      `the service definition does not fit Lambda's ${LAMBDA_LIMITS.environmentBytes}-byte environment: ` +
        'invocations from Nubes carry it, but S3 triggers cannot run the service (shorten the script)',
    );
  }
  return { variables, warnings };
}
