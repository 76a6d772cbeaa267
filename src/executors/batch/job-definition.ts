/**
 * @module executors/batch/job-definition
 * Pure builders of what a service becomes in AWS Batch (SCAR's shape): one container job definition named
 * after it, running the service's image with the standalone supervisor as command (the event in $EVENT, as
 * OSCAR's `echo $EVENT | supervisor`), vCPUs, memory and a GPU as resourceRequirements, and the job's
 * time limit, and the service itself (FUNCTION_CONFIG, its secrets) in the environment; SubmitJob adds only
 * the event and the job id, since Batch limits a job's container overrides to 8 KiB (a definition to 24 KiB).
 * Secrets in a definition are readable by whoever may describe job definitions: keep such rights narrow.
 */
import type { ServiceSpec } from '../../fdl/service-spec.js';
import { encodeStorageProviders } from '../../supervisor/standalone-config.js';
import { functionConfig } from '../kubernetes/manifests.js';
import type { BatchExecutorConfig } from './config-schema.js';

const MIB = 1024 * 1024;
/** Batch refuses an attempt duration under 60 s. */
const MIN_ATTEMPT_SECONDS = 60;
/** vCPU values Fargate accepts. */
const FARGATE_VCPUS = [0.25, 0.5, 1, 2, 4, 8, 16];

export interface KeyValue {
  name: string;
  value: string;
}

/** The containerProperties Nubes sets (what is compared to decide whether to register a new revision). */
export interface ContainerProperties {
  image: string;
  command: string[];
  resourceRequirements: { type: 'VCPU' | 'MEMORY' | 'GPU'; value: string }[];
  environment: KeyValue[];
  jobRoleArn?: string;
  executionRoleArn?: string;
}

export interface JobDefinitionInput {
  jobDefinitionName: string;
  type: 'container';
  containerProperties: ContainerProperties;
  timeout?: { attemptDurationSeconds: number };
  retryStrategy: { attempts: number };
  platformCapabilities: ('EC2' | 'FARGATE')[];
  propagateTags: boolean;
  tags: Record<string, string>;
}

/** The job definition of a service: `<prefix><name>`. */
export function jobDefinitionName(
  config: Pick<BatchExecutorConfig, 'definitionPrefix'>,
  service: string,
): string {
  return `${config.definitionPrefix}${service.replace(/[^A-Za-z0-9_-]/g, '-')}`.slice(0, 128);
}

/** A valid Batch job name for a Nubes job id. */
export function batchJobName(jobId: string): string {
  return jobId.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 128);
}

/** The job definition of `service`, and what Batch cannot honour as warnings. */
export function jobDefinition(
  service: ServiceSpec,
  config: BatchExecutorConfig,
): { input: JobDefinitionInput; warnings: string[] } {
  const warnings: string[] = [];
  const fargate = config.computeEnvironment?.type.startsWith('FARGATE') === true;
  let vcpus: number;
  if (fargate) {
    vcpus = FARGATE_VCPUS.find((value) => value >= service.cpu) ?? 16;
  } else {
    vcpus = Math.max(1, Math.ceil(service.cpu));
  }
  if (vcpus !== service.cpu) warnings.push(`cpu: ${service.cpu} becomes ${vcpus} vCPU (what Batch accepts)`);
  const memoryMiB = Math.max(fargate ? 512 : 4, Math.ceil(service.memoryBytes / MIB));
  const resourceRequirements: ContainerProperties['resourceRequirements'] = [
    { type: 'VCPU', value: String(vcpus) },
    { type: 'MEMORY', value: String(memoryMiB) },
  ];
  if (service.enableGpu) {
    if (fargate) warnings.push('enable_gpu: Fargate has no GPU; jobs run without one');
    else resourceRequirements.push({ type: 'GPU', value: '1' });
  }
  if (service.image === '') warnings.push('no image: a Batch job needs a container image');

  const environment: KeyValue[] = [
    { name: 'NUBES_RESULT_LINE', value: '1' },
    { name: 'FUNCTION_CONFIG', value: functionConfig(service) },
  ];
  const secretNames = Object.keys(service.secrets);
  if (secretNames.length > 0) {
    environment.push({ name: 'NUBES_SECRET_NAMES', value: secretNames.join(',') });
    for (const [name, value] of Object.entries(service.secrets)) environment.push({ name, value });
  }
  if (Object.keys(service.storageProviders).length > 0) {
    environment.push({
      name: 'NUBES_STORAGE_PROVIDERS',
      value: encodeStorageProviders(service.storageProviders),
    });
  }
  if (config.storage !== undefined) {
    environment.push(
      { name: 'NUBES_S3_ENDPOINT', value: config.storage.endpoint },
      { name: 'NUBES_S3_REGION', value: config.storage.region },
      { name: 'NUBES_S3_ACCESS_KEY', value: config.storage.accessKey },
      { name: 'NUBES_S3_SECRET_KEY', value: config.storage.secretKey },
    );
  }
  const containerProperties: ContainerProperties = {
    image: service.image,
    // $EVENT on stdin, as OSCAR's `echo $EVENT | supervisor`, without echo's escapes.
    command: ['/bin/sh', '-c', `printf '%s' "$EVENT" | ${config.supervisorPath}`],
    resourceRequirements,
    environment,
    ...(config.jobRoleArn === undefined ? {} : { jobRoleArn: config.jobRoleArn }),
    ...(config.executionRoleArn === undefined ? {} : { executionRoleArn: config.executionRoleArn }),
  };
  const input: JobDefinitionInput = {
    jobDefinitionName: jobDefinitionName(config, service.name),
    type: 'container',
    containerProperties,
    // The platform's queue retries failed jobs.
    retryStrategy: { attempts: 1 },
    platformCapabilities: [fargate ? 'FARGATE' : 'EC2'],
    propagateTags: true,
    tags: { 'nubes:service': service.name },
  };
  if (service.timeoutMs > 0) {
    const seconds = Math.ceil(service.timeoutMs / 1000) + config.timeoutThresholdSeconds;
    input.timeout = { attemptDurationSeconds: Math.max(MIN_ATTEMPT_SECONDS, seconds) };
  }
  return { input, warnings };
}

/** The environment one job adds at submission: the event and its id. */
export function submissionEnvironment(jobId: string, event: string): KeyValue[] {
  return [
    { name: 'EVENT', value: event },
    { name: 'JOB_UUID', value: jobId },
  ];
}

/** Whether a registered definition already is `wanted` (Batch adds defaults of its own; those are ignored). */
export function sameDefinition(
  current: {
    containerProperties?: Partial<ContainerProperties>;
    timeout?: { attemptDurationSeconds?: number };
  },
  wanted: JobDefinitionInput,
): boolean {
  const have = current.containerProperties ?? {};
  const want = wanted.containerProperties;
  const sortedEnv = (env: KeyValue[] | undefined) =>
    JSON.stringify([...(env ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
  const sortedReq = (req: ContainerProperties['resourceRequirements'] | undefined) =>
    JSON.stringify([...(req ?? [])].sort((a, b) => (a.type < b.type ? -1 : 1)));
  return (
    have.image === want.image &&
    JSON.stringify(have.command ?? []) === JSON.stringify(want.command) &&
    sortedReq(have.resourceRequirements) === sortedReq(want.resourceRequirements) &&
    sortedEnv(have.environment) === sortedEnv(want.environment) &&
    have.jobRoleArn === want.jobRoleArn &&
    have.executionRoleArn === want.executionRoleArn &&
    current.timeout?.attemptDurationSeconds === wanted.timeout?.attemptDurationSeconds
  );
}
