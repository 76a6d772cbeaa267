/**
 * @module executors/kubernetes/manifests
 * Pure builders of the objects a service and its jobs become in Kubernetes, in OSCAR's shape: a ConfigMap
 * named after the service (its resolved definition and script), a Secret (its secrets and the storage
 * keys, given to pods with `envFrom`), one batch/v1 Job per event with the supervisor as entrypoint, and a
 * Knative Service for synchronous calls. The supervisor is copied from its own image into the pod by an
 * init container, so any user image with a POSIX shell runs it (OSCAR mounts it from a shared volume).
 */
import type { ServiceSpec } from '../../fdl/service-spec.js';
import { encodeStorageProviders } from '../../supervisor/index.js';
import type { KubernetesExecutorConfig } from './config-schema.js';

/** A Kubernetes object as plain JSON (validated against the API's schema in the tests). */
export type Manifest = Record<string, unknown>;

/** Name of the only container of a job's pod (OSCAR's). */
export const CONTAINER_NAME = 'oscar-container';
/** Label that marks every object Nubes creates for a service. */
export const SERVICE_LABEL = 'nubes.grycap/service';
/** Label of a job's objects with the Nubes job id. */
export const JOB_LABEL = 'nubes.grycap/job';
const BIN_VOLUME = 'nubes-bin';
const BIN_DIR = '/nubes/bin';

export interface JobManifestInput {
  service: ServiceSpec;
  jobId: string;
  /** The raw event JSON or the http body as text (the supervisor's stdin, via $EVENT as in OSCAR). */
  event: string;
  config: KubernetesExecutorConfig;
}

/** A DNS-1123 name for `text` (lower case, at most 63 characters, alphanumeric at both ends). */
export function kubeName(text: string): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return cleaned === '' ? 'x' : cleaned;
}

/** Names of the service's objects (ConfigMap, Secret, Knative Service share the service's name). */
export function serviceObjectName(serviceName: string): string {
  return kubeName(serviceName);
}

/**
 * The service as the supervisor reads it (FUNCTION_CONFIG): secrets and storage provider credentials left
 * out, they come from the Secret.
 */
export function functionConfig(service: ServiceSpec): string {
  return Buffer.from(JSON.stringify({ ...service, secrets: {}, storageProviders: {} })).toString('base64');
}

/** The ConfigMap of a service: its definition for the supervisor and its script (for people reading it). */
export function configMapManifest(service: ServiceSpec, namespace: string): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMetadata(service, namespace),
    data: { FUNCTION_CONFIG: functionConfig(service), 'script.sh': service.script },
  };
}

/** The Secret of a service: its secrets and the keys of the platform's S3 endpoint. */
export function secretManifest(service: ServiceSpec, config: KubernetesExecutorConfig): Manifest {
  const data: Record<string, string> = {};
  for (const [name, value] of Object.entries(service.secrets)) data[name] = base64(value);
  if (config.storage !== undefined) {
    data.NUBES_S3_ACCESS_KEY = base64(config.storage.accessKey);
    data.NUBES_S3_SECRET_KEY = base64(config.storage.secretKey);
  }
  if (Object.keys(service.storageProviders).length > 0) {
    data.NUBES_STORAGE_PROVIDERS = base64(encodeStorageProviders(service.storageProviders));
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: objectMetadata(service, config.namespace),
    type: 'Opaque',
    data,
  };
}

/** One Job for one event: no retries by Kubernetes (the platform's queue retries), removed after the TTL. */
export function jobManifest(input: JobManifestInput): Manifest {
  const { service, config } = input;
  const name = kubeName(input.jobId);
  const labels = { ...service.labels, ...serviceLabels(service), [JOB_LABEL]: name };
  const spec: Record<string, unknown> = {
    backoffLimit: 0,
    ttlSecondsAfterFinished: config.ttlSecondsAfterFinished,
    template: {
      metadata: { labels, annotations: { ...service.annotations } },
      spec: {
        ...podSpecBase(),
        restartPolicy: 'Never',
        initContainers: [supervisorCopyContainer(config)],
        containers: [
          {
            ...containerBase(service, config),
            env: [
              ...jobEnvironment(service, config),
              { name: 'EVENT', value: input.event },
              { name: 'JOB_UUID', value: input.jobId },
            ],
          },
        ],
      },
    },
  };
  // The deadline covers the pod's whole life, pulls included; a Job past it fails with DeadlineExceeded.
  if (service.timeoutMs > 0) spec.activeDeadlineSeconds = Math.ceil(service.timeoutMs / 1000);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: config.namespace, labels },
    spec,
  };
}

/**
 * The Knative Service of a synchronous service: one request per pod at a time (OSCAR's containerConcurrency
 * 1), visible inside the cluster only, scaled between the service's bounds (annotations) or the defaults.
 * Inside, OpenFaaS's classic watchdog hands each request body to the supervisor, as in OSCAR.
 */
export function knativeServiceManifest(service: ServiceSpec, config: KubernetesExecutorConfig): Manifest {
  // The FDL's `synchronous` bounds first (as OSCAR sets them), then the service's own annotations, then
  // the executor's defaults.
  const minScale = String(
    service.synchronous.minScale ??
      service.annotations['autoscaling.knative.dev/min-scale'] ??
      config.knative.minScale,
  );
  const maxScale = String(
    service.synchronous.maxScale ??
      service.annotations['autoscaling.knative.dev/max-scale'] ??
      config.knative.maxScale,
  );
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: {
      ...objectMetadata(service, config.namespace),
      labels: {
        ...service.labels,
        ...serviceLabels(service),
        'networking.knative.dev/visibility': 'cluster-local',
      },
    },
    spec: {
      template: {
        metadata: {
          labels: { ...service.labels, ...serviceLabels(service) },
          annotations: {
            ...service.annotations,
            'autoscaling.knative.dev/min-scale': minScale,
            'autoscaling.knative.dev/max-scale': maxScale,
          },
        },
        spec: {
          ...podSpecBase(),
          containerConcurrency: 1,
          initContainers: [supervisorCopyContainer(config)],
          containers: [
            {
              ...containerBase(service, config),
              command: [`${BIN_DIR}/fwatchdog`],
              args: [],
              env: [
                ...jobEnvironment(service, config),
                { name: 'fprocess', value: config.supervisor.path },
                { name: 'read_timeout', value: `${Math.max(1, Math.ceil(service.timeoutMs / 1000))}s` },
              ],
            },
          ],
        },
      },
    },
  };
}

/** Label selector of every object of a service. */
export function serviceSelector(serviceName: string): string {
  return `${SERVICE_LABEL}=${kubeName(serviceName)}`;
}

function serviceLabels(service: ServiceSpec): Record<string, string> {
  return { oscar_service: kubeName(service.name), [SERVICE_LABEL]: kubeName(service.name) };
}

function objectMetadata(service: ServiceSpec, namespace: string): Manifest {
  return {
    name: serviceObjectName(service.name),
    namespace,
    labels: { ...service.labels, ...serviceLabels(service) },
  };
}

function podSpecBase(): Manifest {
  return {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    volumes: [{ name: BIN_VOLUME, emptyDir: {} }],
  };
}

function supervisorCopyContainer(config: KubernetesExecutorConfig): Manifest {
  return {
    name: 'nubes-supervisor',
    image: config.supervisor.image,
    imagePullPolicy: config.imagePullPolicy,
    command: ['/bin/sh', '-c', `cp -a ${BIN_DIR}/. /mnt/${BIN_VOLUME}/`],
    volumeMounts: [{ name: BIN_VOLUME, mountPath: `/mnt/${BIN_VOLUME}` }],
  };
}

function containerBase(service: ServiceSpec, config: KubernetesExecutorConfig): Manifest {
  const limits: Record<string, string> = {
    cpu: cpuQuantity(service.cpu),
    memory: String(service.memoryBytes),
  };
  if (service.enableGpu) limits['nvidia.com/gpu'] = '1';
  return {
    name: CONTAINER_NAME,
    image: service.image,
    imagePullPolicy: config.imagePullPolicy,
    // $EVENT on stdin, as OSCAR's `echo $EVENT | supervisor`, without echo's escapes.
    command: ['/bin/sh', '-c'],
    args: [`printf '%s' "$EVENT" | ${config.supervisor.path}`],
    resources: { limits },
    volumeMounts: [{ name: BIN_VOLUME, mountPath: BIN_DIR, readOnly: true }],
    envFrom: [{ secretRef: { name: serviceObjectName(service.name) } }],
  };
}

function jobEnvironment(service: ServiceSpec, config: KubernetesExecutorConfig): Manifest[] {
  const env: Manifest[] = [
    {
      name: 'FUNCTION_CONFIG',
      valueFrom: { configMapKeyRef: { name: serviceObjectName(service.name), key: 'FUNCTION_CONFIG' } },
    },
    { name: 'NUBES_SECRET_NAMES', value: Object.keys(service.secrets).join(',') },
    { name: 'NUBES_RESULT_LINE', value: '1' },
  ];
  if (config.storage !== undefined) {
    env.push(
      { name: 'NUBES_S3_ENDPOINT', value: config.storage.endpoint },
      { name: 'NUBES_S3_REGION', value: config.storage.region },
    );
  }
  return env;
}

/** CPUs as a Kubernetes quantity in millicores (0.2 -> "200m"); at least 1m. */
export function cpuQuantity(cpus: number): string {
  return `${Math.max(1, Math.round(cpus * 1000))}m`;
}

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}
