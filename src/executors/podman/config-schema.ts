/**
 * @module executors/podman/config-schema
 * The configuration of the container executor (Podman's CLI), validated strictly.
 */
import { z } from 'zod';

/** Options of the container executor that come from configuration. */
export const podmanExecutorConfigSchema = z
  .object({
    /** The podman program. */
    podmanPath: z.string().min(1).default('podman'),
    /**
     * OCI runtime. runc, not crun: crun refuses hosts with hybrid cgroups (v1 controllers, v2 mounted).
     * @default runc
     */
    runtime: z.string().min(1).default('runc'),
    maxConcurrentJobs: z.number().int().min(1).max(10_000),
    /** Between SIGTERM and SIGKILL when a job is stopped. @default 2000 */
    killGraceMs: z.number().int().min(0).max(600_000).default(2000),
    /** Processes of one container. @default 4096 */
    pidsMax: z.number().int().min(8).max(1_000_000).default(4096),
    /**
     * nofile and nproc of containers: podman's defaults exceed the hard limits of hosts whose root lacks
     * CAP_SYS_RESOURCE, and every start then fails. @default 1024
     */
    ulimit: z.number().int().min(64).max(1_048_576).default(1024),
    /** Longest wait for `podman pull`. @default 600000 */
    pullTimeoutMs: z.number().int().min(1000).default(600_000),
  })
  .strict();

/** The parsed, defaulted configuration. */
export type PodmanExecutorConfig = z.infer<typeof podmanExecutorConfigSchema>;
