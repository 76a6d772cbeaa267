/**
 * @module executors/registry
 * The table of executors: a name, the zod schema of its configuration, and a factory that imports its
 * implementation (and any heavy SDK) only when that executor is actually created.
 */
import { z } from 'zod';
import type { Logger } from '../core/index.js';
import { PlatformError } from '../core/index.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { Executor } from './executor.js';
import { localExecutorConfigSchema } from './local/config-schema.js';
import { podmanExecutorConfigSchema } from './podman/config-schema.js';
import { kubernetesExecutorConfigSchema } from './kubernetes/config-schema.js';
import { slurmExecutorConfigSchema } from './slurm/config-schema.js';
import type { ScopedKeyIssuer } from '../storage/scoped-access.js';
import { lambdaExecutorConfigSchema } from './lambda/config-schema.js';
import { batchExecutorConfigSchema } from './batch/config-schema.js';

/** What every executor gets from the platform besides its own configuration. */
export interface ExecutorContext {
  dataDir: string;
  /** The embedded store (provider `minio.default`). */
  store: ObjectStore;
  logger: Logger;
  /**
   * The platform's S3 endpoint, for executors whose jobs run on other machines (Slurm nodes): its address
   * (known once it listens) and short-lived keys scoped to one job. Absent where there is none (tests).
   */
  storage?: StorageAccess;
}

/** How a job on another machine reaches the platform's store. */
export interface StorageAccess {
  endpoint(): string;
  region: string;
  keys: ScopedKeyIssuer;
}

/** One row of the registry: how to validate an executor's configuration and how to create it. */
export interface ExecutorRegistration<Schema extends z.ZodTypeAny> {
  configSchema: Schema;
  create(config: z.output<Schema>, context: ExecutorContext): Promise<Executor>;
}

function register<Schema extends z.ZodTypeAny>(
  entry: ExecutorRegistration<Schema>,
): ExecutorRegistration<Schema> {
  return entry;
}

/** Every executor Nubes knows. Later: slurm, kubernetes, lambda, container. */
export const executorRegistry = {
  local: register({
    configSchema: localExecutorConfigSchema,
    async create(config, context) {
      const { createLocalExecutor } = await import('./local/local-executor.js');
      return createLocalExecutor({ ...config, ...context });
    },
  }),
  container: register({
    configSchema: podmanExecutorConfigSchema,
    async create(config, context) {
      const { createPodmanExecutor } = await import('./podman/podman-executor.js');
      return createPodmanExecutor({ ...config, store: context.store, logger: context.logger });
    },
  }),
  kubernetes: register({
    configSchema: kubernetesExecutorConfigSchema,
    async create(config, context) {
      const { createKubernetesExecutor } = await import('./kubernetes/kubernetes-executor.js');
      return createKubernetesExecutor({ config, logger: context.logger });
    },
  }),
  slurm: register({
    configSchema: slurmExecutorConfigSchema,
    async create(config, context) {
      const { createSlurmExecutor } = await import('./slurm/slurm-executor.js');
      return createSlurmExecutor({
        config,
        dataDir: context.dataDir,
        logger: context.logger,
        storage: context.storage ?? null,
      });
    },
  }),
  lambda: register({
    configSchema: lambdaExecutorConfigSchema,
    async create(config, context) {
      const { createLambdaExecutor } = await import('./lambda/lambda-executor.js');
      return createLambdaExecutor({ config, logger: context.logger });
    },
  }),
  batch: register({
    configSchema: batchExecutorConfigSchema,
    async create(config, context) {
      const { createBatchExecutor } = await import('./batch/batch-executor.js');
      return createBatchExecutor({ config, logger: context.logger });
    },
  }),
} as const;

/** The name of a registered executor (`local`, later `slurm`, `kubernetes`, `lambda`). */
export type ExecutorName = keyof typeof executorRegistry;

/** Whether `name` is a registered executor. */
export function isExecutorName(name: string): name is ExecutorName {
  return Object.hasOwn(executorRegistry, name);
}

/**
 * Validates `rawConfig` against the executor's schema and creates it. Unknown names and invalid
 * configuration fail with CONFIG_INVALID, naming the offending fields.
 */
export async function createExecutor(
  name: string,
  rawConfig: unknown,
  context: ExecutorContext,
): Promise<Executor> {
  if (!isExecutorName(name)) {
    throw new PlatformError(
      'CONFIG_INVALID',
      `unknown executor "${name}"; known: ${Object.keys(executorRegistry).join(', ')}`,
    );
  }
  const entry: ExecutorRegistration<z.ZodTypeAny> = executorRegistry[name];
  const parsed = entry.configSchema.safeParse(rawConfig);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new PlatformError(
      'CONFIG_INVALID',
      `invalid configuration of executor "${name}": ${issues.join('; ')}`,
      {
        details: { issues },
      },
    );
  }
  return entry.create(parsed.data, context);
}
