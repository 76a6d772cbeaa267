/**
 * @module executors/hybrid/execution-roles
 * SCAR's hybrid execution, as pure decisions: which executors play the function and batch roles for a
 * service (NUBES_EXECUTION_ROLES: defaults and rules), whether a job outgrows the function executor before
 * it starts (memory, GPU), and the time limit it gets there (the executor's own, when shorter than the
 * service's). Nothing here names an executor: any pair works (local and Slurm, Lambda and Batch, Knative
 * and Slurm), each declaring its limits in its capabilities (executor.ts, ExecutorLimits).
 */
import type { ExecutionRolesConfig } from '../../core/index.js';
import type { ServiceSpec } from '../../fdl/service-spec.js';
import type { ExecutorCapabilities } from '../executor.js';

export interface ExecutionRoles {
  function: string;
  batch: string;
}

/** The executors of each role for `service`: the first rule that matches it, over the defaults. */
export function rolesFor(service: ServiceSpec, config: ExecutionRolesConfig): ExecutionRoles {
  for (const rule of config.rules) {
    const named = rule.services.length === 0 || rule.services.some((glob) => globMatches(glob, service.name));
    const labelled = Object.entries(rule.labels).every(([key, value]) => service.labels[key] === value);
    if (named && labelled) {
      return { function: rule.function ?? config.function, batch: rule.batch ?? config.batch };
    }
  }
  return { function: config.function, batch: config.batch };
}

/**
 * Every executor a service's jobs may run on (and so must be deployed to): its own without an execution
 * mode, the function and/or batch executor with one. Lambda functions and Batch job definitions must
 * exist before a job is sent there.
 */
export function executorsFor(service: ServiceSpec, config: ExecutionRolesConfig): string[] {
  if (service.executionMode === null) return [service.executor];
  const roles = rolesFor(service, config);
  if (service.executionMode === 'function') return [roles.function];
  if (service.executionMode === 'batch') return [roles.batch];
  return [...new Set([roles.function, roles.batch])];
}

/**
 * Why a job of `service` cannot run on an executor with `capabilities` at all (it asks for more memory
 * than the executor's limit, or for a GPU the executor has not); [] when it can.
 */
export function outgrows(service: ServiceSpec, capabilities: ExecutorCapabilities): string[] {
  const reasons: string[] = [];
  const { memoryBytes } = capabilities.limits;
  if (memoryBytes > 0 && service.memoryBytes > memoryBytes) {
    reasons.push(`it asks for ${service.memoryBytes} bytes of memory, over the limit of ${memoryBytes}`);
  }
  if (service.enableGpu && !capabilities.gpu) reasons.push('it asks for a GPU, which the executor has not');
  return reasons;
}

/**
 * The time limit of a job on the function executor: the executor's limit when the service has none or a
 * longer one (`capped`: a timeout then means the job outgrew the executor, not its own limit).
 */
export function functionTimeout(
  service: ServiceSpec,
  capabilities: ExecutorCapabilities,
): { timeoutMs: number; capped: boolean } {
  const limit = capabilities.limits.timeoutMs;
  if (limit > 0 && (service.timeoutMs === 0 || service.timeoutMs > limit)) {
    return { timeoutMs: limit, capped: true };
  }
  return { timeoutMs: service.timeoutMs, capped: false };
}

/** `*` matches any run of characters; everything else matches itself. */
export function globMatches(glob: string, name: string): boolean {
  const pattern = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`).test(name);
}
