/**
 * @module executors/kubernetes/config-schema
 * The configuration of the Kubernetes executor, validated strictly: where the cluster is, where services go,
 * how the supervisor reaches the pods and the pods reach the platform's S3 endpoint.
 */
import { z } from 'zod';
import { storageEndpointSchema } from '../storage-endpoint-schema.js';

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label (lower-case letters, digits, -)')
  .max(63);

/** Options of the Kubernetes executor as they may be written in the platform's configuration. */
export const kubernetesExecutorConfigSchema = z
  .object({
    /** Path of a kubeconfig file; without it and without `inCluster`, the default loading rules apply. */
    kubeconfig: z.string().min(1).optional(),
    /** Context of the kubeconfig to use. @default its current context */
    context: z.string().min(1).optional(),
    /** Use the pod's service-account credentials (Nubes running inside the cluster). @default false */
    inCluster: z.boolean().default(false),
    /** Namespace of services, jobs and their ConfigMaps and Secrets (OSCAR's `oscar-svc`). */
    namespace: dnsLabel.default('nubes-svc'),
    /** Jobs of all services at once (reported in capabilities; the dispatcher enforces it). */
    maxConcurrentJobs: z.number().int().min(1).max(100_000).default(100),
    /** Seconds a finished Job stays before the cluster deletes it (OSCAR's TTL_JOB). @default 30 days */
    ttlSecondsAfterFinished: z.number().int().min(0).default(2_592_000),
    /** How often a running job's status is read. @default 2000 */
    pollIntervalMs: z.number().int().min(10).max(600_000).default(2000),
    /** Attempts of one API call answered 429 or 5xx (Retry-After honoured), the first included. @default 6 */
    maxAttempts: z.number().int().min(1).max(20).default(6),
    /** Delay before the second attempt when the server gives no Retry-After; doubles each time. */
    initialBackoffMs: z.number().int().min(1).max(60_000).default(500),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('Always'),
    supervisor: z
      .object({
        /** Image holding the standalone supervisor at `/nubes/bin` (copied into each pod by an init container). */
        image: z.string().min(1).default('ghcr.io/nubes/supervisor:latest'),
        /** The supervisor's command inside the user's container. */
        path: z.string().startsWith('/').default('/nubes/bin/nubes-supervisor'),
      })
      .strict()
      .default({}),
    /** The platform's S3 endpoint as the pods reach it (provider `minio.default`). */
    storage: storageEndpointSchema.optional(),
    /** Knative Serving for synchronous services. */
    knative: z
      .object({
        enabled: z.boolean().default(false),
        /** Scale bounds when a service names none (annotations `autoscaling.knative.dev/min-scale` …). */
        minScale: z.number().int().min(0).default(0),
        maxScale: z.number().int().min(0).default(0),
      })
      .strict()
      .default({}),
  })
  .strict()
  .refine((config) => !(config.inCluster && config.kubeconfig !== undefined), {
    message: 'inCluster and kubeconfig exclude each other',
    path: ['inCluster'],
  });

/** The parsed, defaulted configuration. */
export type KubernetesExecutorConfig = z.infer<typeof kubernetesExecutorConfigSchema>;
