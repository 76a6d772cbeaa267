/**
 * @module auth/quotas
 * Per-user limits. A limit of null means unlimited; a user's stored limits override the configured defaults
 * field by field.
 */
import { z } from 'zod';

export interface Quotas {
  /** Jobs queued or running at once, over all of the user's services. */
  maxConcurrentJobs: number | null;
  /** Sum of the `cpu` of the user's running and queued jobs. */
  maxCpu: number | null;
  /** Sum of the `memory` of the user's running and queued jobs, in bytes. */
  maxMemoryBytes: number | null;
  /** Bytes stored in the buckets the user owns. */
  maxStoredBytes: number | null;
  /** Buckets the user owns. */
  maxBuckets: number | null;
}

export const UNLIMITED: Quotas = {
  maxConcurrentJobs: null,
  maxCpu: null,
  maxMemoryBytes: null,
  maxStoredBytes: null,
  maxBuckets: null,
};

const limit = z.number().nonnegative().nullable().optional();

/** Quotas as the API and the configuration write them (snake_case, every field optional). */
export const quotasInputSchema = z
  .object({
    max_concurrent_jobs: limit,
    max_cpu: limit,
    max_memory_bytes: limit,
    max_stored_bytes: limit,
    max_buckets: limit,
  })
  .strict();

export type QuotasInput = z.infer<typeof quotasInputSchema>;

/** Partial quotas from their input form (absent fields stay absent). */
export function quotasFromInput(input: QuotasInput): Partial<Quotas> {
  const out: Partial<Quotas> = {};
  if (input.max_concurrent_jobs !== undefined) out.maxConcurrentJobs = input.max_concurrent_jobs;
  if (input.max_cpu !== undefined) out.maxCpu = input.max_cpu;
  if (input.max_memory_bytes !== undefined) out.maxMemoryBytes = input.max_memory_bytes;
  if (input.max_stored_bytes !== undefined) out.maxStoredBytes = input.max_stored_bytes;
  if (input.max_buckets !== undefined) out.maxBuckets = input.max_buckets;
  return out;
}

export function presentQuotas(quotas: Quotas): Record<string, number | null> {
  return {
    max_concurrent_jobs: quotas.maxConcurrentJobs,
    max_cpu: quotas.maxCpu,
    max_memory_bytes: quotas.maxMemoryBytes,
    max_stored_bytes: quotas.maxStoredBytes,
    max_buckets: quotas.maxBuckets,
  };
}
