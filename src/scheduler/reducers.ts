/**
 * @module scheduler/reducers
 * Combining the partitions' result objects into the job's one result. `sum` adds numbers at the same
 * place (histograms: arrays element by element, objects key by key), which is how PenRed tallies combine.
 */
import { PlatformError } from '../core/index.js';
import type { ReducerName } from './job-spec.js';

function sumTwo(a: unknown, b: unknown, path: string): unknown {
  if (a === undefined || a === null) return b;
  if (b === undefined || b === null) return a;
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (Array.isArray(a) && Array.isArray(b)) {
    const length = Math.max(a.length, b.length);
    return Array.from({ length }, (_, i) => sumTwo(a[i], b[i], `${path}[${i}]`));
  }
  if (typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [key, value] of Object.entries(b as Record<string, unknown>))
      out[key] = sumTwo(out[key], value, path === '' ? key : `${path}.${key}`);
    return out;
  }
  if (typeof a === 'string' && a === b) return a;
  throw new PlatformError(
    'VALIDATION_FAILED',
    `cannot sum partition results at "${path || '(root)'}": ${typeof a} and ${typeof b}`,
  );
}

/** Reduces `results` (in partition order) with the named reducer. */
export function reduceResults(
  reducer: ReducerName,
  results: { partition: number; result: unknown }[],
): unknown {
  switch (reducer) {
    case 'none':
      return results;
    case 'concat':
      return results.flatMap((entry) =>
        Array.isArray(entry.result) ? (entry.result as unknown[]) : [entry.result],
      );
    case 'sum':
      return results.reduce<unknown>((acc, entry) => sumTwo(acc, entry.result, ''), null);
  }
}
