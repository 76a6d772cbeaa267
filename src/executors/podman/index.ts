/**
 * @module executors/podman
 * The container executor (Podman): the FDL `image` runs for real on this machine.
 */
export { createPodmanExecutor, type PodmanExecutor, type PodmanExecutorOptions } from './podman-executor.js';
export { podmanExecutorConfigSchema, type PodmanExecutorConfig } from './config-schema.js';
export { buildContainerRunArgv, containerName } from './podman-args.js';
