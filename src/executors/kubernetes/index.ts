/**
 * @module executors/kubernetes
 * The Kubernetes executor: batch/v1 Jobs for events, Knative Services for synchronous services.
 */
export { kubernetesExecutorConfigSchema, type KubernetesExecutorConfig } from './config-schema.js';
export {
  configMapManifest,
  secretManifest,
  jobManifest,
  knativeServiceManifest,
  kubeName,
  cpuQuantity,
  type Manifest,
} from './manifests.js';
