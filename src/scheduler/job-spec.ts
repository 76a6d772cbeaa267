/**
 * @module scheduler/job-spec
 * The job a user submits (API body, CLI file, or a file uploaded to the watched bucket), parsed once into a
 * fully resolved spec. TaScaaS's `time` and `initWorkers` are accepted as aliases of `deadlineSec` and
 * `partitions`, so its `*.config` files submit unchanged.
 */
import { z } from 'zod';
import { PlatformError } from '../core/index.js';

export const REDUCERS = ['none', 'sum', 'concat'] as const;
export type ReducerName = (typeof REDUCERS)[number];

const jobSpecSchema = z
  .object({
    name: z.string().min(1).max(128).optional(),
    iterations: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    /** Seconds from submission; when the forecast misses it, partitions are added. */
    deadlineSec: z.number().positive().optional(),
    time: z.number().optional(),
    partitions: z.number().int().min(1).max(10_000).optional(),
    initWorkers: z.number().int().min(1).max(10_000).optional(),
    input: z.record(z.unknown()).default({}),
    inputFile: z.string().optional(),
    /** argv (preferred) or one shell line, run by the worker agent for each partition. */
    command: z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]).optional(),
    /** An FDL service whose script the worker agent runs for each partition. */
    service: z.string().min(1).optional(),
    resultReducer: z.enum(REDUCERS).default('none'),
    reportIntervalSec: z.number().min(0.01).max(86_400).optional(),
    /** The job expires (stops, keeps what finished) after this long. TaScaaS: one day. */
    timeoutSec: z
      .number()
      .positive()
      .max(30 * 86_400)
      .default(86_400),
    /** Process failures of one partition before the job fails. */
    maxAttempts: z.number().int().min(1).max(100).default(3),
  })
  .strict();

/** A parsed job spec: every default applied. */
export interface JobSpec {
  name: string | null;
  iterations: number;
  deadlineSec: number | null;
  partitions: number;
  input: Record<string, unknown>;
  command: string[] | null;
  service: string | null;
  resultReducer: ReducerName;
  reportIntervalSec: number;
  timeoutSec: number;
  maxAttempts: number;
}

/** Parses and resolves a job spec; VALIDATION_FAILED names the field at fault. */
export function parseJobSpec(raw: unknown): JobSpec {
  const parsed = jobSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: issue.path.join('.') || '(job)',
      message: issue.message,
    }));
    throw new PlatformError(
      'VALIDATION_FAILED',
      `invalid job: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      { details: { issues } },
    );
  }
  const spec = parsed.data;
  if ((spec.command === undefined) === (spec.service === undefined)) {
    throw new PlatformError('VALIDATION_FAILED', 'invalid job: give exactly one of "command" or "service"', {
      details: { issues: [{ path: 'command', message: 'exactly one of command or service' }] },
    });
  }
  // TaScaaS: time <= 0 disables balancing; a deadline only when positive.
  const deadlineSec = spec.deadlineSec ?? (spec.time !== undefined && spec.time > 0 ? spec.time : null);
  // TaScaaS reports 20 times per job (at least every 20 s); without a deadline, every 20 s.
  const reportIntervalSec =
    spec.reportIntervalSec ?? (deadlineSec === null ? 20 : Math.max(deadlineSec / 20, 20));
  const input = { ...spec.input };
  if (spec.inputFile !== undefined) input['inputFile'] = spec.inputFile;
  return {
    name: spec.name ?? null,
    iterations: spec.iterations,
    deadlineSec,
    partitions: Math.min(spec.partitions ?? spec.initWorkers ?? 1, spec.iterations),
    input,
    command:
      spec.command === undefined
        ? null
        : typeof spec.command === 'string'
          ? ['sh', '-c', spec.command]
          : spec.command,
    service: spec.service ?? null,
    resultReducer: spec.resultReducer,
    reportIntervalSec,
    timeoutSec: spec.timeoutSec,
    maxAttempts: spec.maxAttempts,
  };
}
