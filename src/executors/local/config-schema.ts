/**
 * @module executors/local/config-schema
 * The configuration of the local executor as it may be written (config file, flags), validated strictly.
 */
import { z } from 'zod';

/** Options of the local executor that come from configuration (the store and logger come from the platform). */
export const localExecutorConfigSchema = z
  .object({
    sandbox: z.enum(['auto', 'bwrap', 'none']).default('auto'),
    maxConcurrentJobs: z.number().int().min(1).max(10_000),
    killGraceMs: z.number().int().min(0).max(600_000).optional(),
    maxLogBytes: z.number().int().min(1024).optional(),
    pidsMax: z.number().int().min(8).max(1_000_000).optional(),
    memoryLimit: z.enum(['auto', 'rlimit']).default('auto'),
    bwrapPath: z.string().startsWith('/').optional(),
    hiddenPaths: z.array(z.string().startsWith('/')).default([]),
    cgroupRoot: z.string().startsWith('/').optional(),
    cgroupGroup: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/)
      .optional(),
    /**
     * Limits to declare (0 = none), so that hybrid execution moves bigger jobs to the batch executor: with
     * `{ timeoutMs: 60000 }`, a function-batch job still running after a minute is resubmitted there.
     */
    limits: z
      .object({
        timeoutMs: z.number().int().min(0).default(0),
        memoryBytes: z.number().int().min(0).default(0),
      })
      .strict()
      .default({}),
  })
  .strict();

/** The parsed, defaulted configuration. */
export type LocalExecutorConfig = z.infer<typeof localExecutorConfigSchema>;
