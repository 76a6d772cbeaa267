/**
 * @module mapreduce/spec-json
 * The JSON form of a MapReduce job or definition (API bodies, the stored definitions, what the FDL's
 * `mapreduce` section becomes): snake_case, function files inlined as base64, validated strictly and
 * resolved into a MapReduceSpec with every default filled in.
 */
import { z } from 'zod';
import { PlatformError } from '../core/index.js';
import { functionKind } from './function-files.js';
import type { FunctionKind, FunctionSource, MapReduceSpec } from './job-model.js';

/** Unit factors of byte sizes: `64MiB`, `64Mi` and `64M` are binary, `64MB` decimal. */
const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  ki: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

/** Reads a size such as `64MiB`, `64Mi`, `512k`, `1GB` or `1048576`; undefined when it is not one. */
export function parseByteSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text > 0 ? text : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!match) return undefined;
  const factor = BYTE_UNITS[(match[2] ?? '').toLowerCase()];
  if (factor === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * factor);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

const byteSizeSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const bytes = parseByteSize(value);
  if (bytes === undefined) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `"${value}" is not a size; write e.g. 64MiB, 512k or 1048576`,
    });
    return z.NEVER;
  }
  return bytes;
});

export const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const functionFileSchema = z
  .object({
    file_name: z.string().min(1).max(255),
    /** The file's bytes, base64. */
    content: z.string(),
    kind: z.enum(['js', 'python', 'executable']).optional(),
  })
  .strict();

/** The JSON of a job (ad hoc) or a definition (FDL). */
export const mapreduceJsonSchema = z
  .object({
    name: z.string().regex(NAME_PATTERN, 'lower-case letters, digits and dashes').optional(),
    /** `bucket/key` of one object, or `bucket/prefix` (a folder: every object under it). */
    input: z.string().min(1),
    output: z.string().min(1).optional(),
    mapper: functionFileSchema,
    reducer: functionFileSchema,
    combiner: functionFileSchema.optional(),
    reducers: z.number().int().min(1).max(1024).optional(),
    chunk_size: byteSizeSchema.optional(),
    mappers: z.number().int().min(1).max(100_000).optional(),
    memory: byteSizeSchema.optional(),
    output_mode: z.enum(['per-reducer', 'merged']).optional(),
    executor: z.string().min(1).optional(),
    max_attempts: z.number().int().min(1).max(10).optional(),
    speculative: z.boolean().optional(),
    /** Definitions: the marker file whose upload starts one job over its whole folder. */
    start_on: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^/]+$/, 'a file name, without folders')
      .optional(),
  })
  .strict();
export type MapReduceJson = z.input<typeof mapreduceJsonSchema>;
/** A stored definition: the validated JSON, its name required. */
export type MapReduceDefinitionJson = MapReduceJson & { name: string };

/** Defaults of the optional fields. */
export const MAPREDUCE_DEFAULTS = {
  reducers: 2,
  memoryBytes: 1024 ** 3,
  outputMode: 'per-reducer',
  executor: 'local',
  maxAttempts: 3,
  speculative: true,
} as const;

/** Splits `bucket/rest` into its bucket and its key or prefix (no leading or trailing slashes). */
export function splitPath(path: string): { bucket: string; rest: string } {
  const trimmed = path.trim().replace(/^\/+/, '');
  const slash = trimmed.indexOf('/');
  if (slash < 0) return { bucket: trimmed, rest: '' };
  return { bucket: trimmed.slice(0, slash), rest: trimmed.slice(slash + 1).replace(/\/+$/, '') };
}

function source(json: z.output<typeof functionFileSchema>, role: string): FunctionSource {
  const content = Buffer.from(json.content, 'base64');
  const kind: FunctionKind = json.kind ?? functionKind(json.file_name, content);
  if (content.length === 0)
    throw new PlatformError('VALIDATION_FAILED', `the ${role} file ${json.file_name} is empty`);
  return { fileName: json.file_name, kind, content };
}

/** Validates a body; VALIDATION_FAILED names each wrong field. */
export function parseMapReduceJson(body: unknown): z.output<typeof mapreduceJsonSchema> {
  const parsed = mapreduceJsonSchema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`,
    );
    throw new PlatformError('VALIDATION_FAILED', `invalid MapReduce job: ${problems.join('; ')}`, {
      details: {
        issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
      },
    });
  }
  return parsed.data;
}

/**
 * Resolves a validated body. `inputIsObject` says whether `input` names one object (the API checks) or a
 * prefix; `defaultOutput` is used when the body has none.
 */
export function toMapReduceSpec(
  json: z.output<typeof mapreduceJsonSchema>,
  options: { inputIsObject: boolean; defaultOutput: string; owner?: string },
): MapReduceSpec {
  const input = splitPath(json.input);
  const output = splitPath(json.output ?? options.defaultOutput);
  if (input.bucket === '' || output.bucket === '')
    throw new PlatformError('VALIDATION_FAILED', 'input and output are paths "bucket/folder"');
  return {
    name: json.name ?? 'adhoc',
    owner: options.owner ?? '',
    input: options.inputIsObject
      ? {
          bucket: input.bucket,
          prefix: input.rest.includes('/') ? input.rest.slice(0, input.rest.lastIndexOf('/')) : '',
        }
      : { bucket: input.bucket, prefix: input.rest },
    inputKey: options.inputIsObject ? input.rest : null,
    output: { bucket: output.bucket, prefix: output.rest },
    mapper: source(json.mapper, 'mapper'),
    reducer: source(json.reducer, 'reducer'),
    combiner: json.combiner ? source(json.combiner, 'combiner') : null,
    reducers: json.reducers ?? MAPREDUCE_DEFAULTS.reducers,
    chunkBytes: json.chunk_size ?? null,
    mappers: json.mappers ?? null,
    memoryBytes: json.memory ?? MAPREDUCE_DEFAULTS.memoryBytes,
    outputMode: json.output_mode ?? MAPREDUCE_DEFAULTS.outputMode,
    executor: json.executor ?? MAPREDUCE_DEFAULTS.executor,
    maxAttempts: json.max_attempts ?? MAPREDUCE_DEFAULTS.maxAttempts,
    speculative: json.speculative ?? MAPREDUCE_DEFAULTS.speculative,
    startOn: json.start_on ?? null,
  };
}

function fileJson(source: FunctionSource): z.input<typeof functionFileSchema> {
  return { file_name: source.fileName, content: source.content.toString('base64'), kind: source.kind };
}

/** The stored JSON of a definition. */
export function definitionToJson(spec: MapReduceSpec): MapReduceDefinitionJson {
  const json: MapReduceDefinitionJson = {
    name: spec.name,
    input: spec.input.prefix === '' ? spec.input.bucket : `${spec.input.bucket}/${spec.input.prefix}`,
    output: spec.output.prefix === '' ? spec.output.bucket : `${spec.output.bucket}/${spec.output.prefix}`,
    mapper: fileJson(spec.mapper),
    reducer: fileJson(spec.reducer),
    reducers: spec.reducers,
    memory: spec.memoryBytes,
    output_mode: spec.outputMode,
    executor: spec.executor,
    max_attempts: spec.maxAttempts,
    speculative: spec.speculative,
  };
  if (spec.combiner) json.combiner = fileJson(spec.combiner);
  if (spec.chunkBytes !== null) json.chunk_size = spec.chunkBytes;
  if (spec.mappers !== null) json.mappers = spec.mappers;
  if (spec.startOn !== null) json.start_on = spec.startOn;
  return json;
}

/** A stored definition back into its spec (its input is a folder). */
export function definitionFromJson(json: unknown, owner = ''): MapReduceSpec {
  const parsed = parseMapReduceJson(json);
  return toMapReduceSpec(parsed, { inputIsObject: false, defaultOutput: parsed.input, owner });
}

/** A job's spec as stored beside its record, so that a restart can run it again. */
export function specToStored(spec: MapReduceSpec): string {
  // A Buffer's toJSON runs before the replacer sees the value: look at the holder's raw property.
  return JSON.stringify(spec, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    return Buffer.isBuffer(raw) ? { base64: raw.toString('base64') } : value;
  });
}

export function specFromStored(text: string): MapReduceSpec {
  return JSON.parse(text, (_key, value: unknown) =>
    typeof value === 'object' && value !== null && 'base64' in value && Object.keys(value).length === 1
      ? Buffer.from((value as { base64: string }).base64, 'base64')
      : value,
  ) as MapReduceSpec;
}

/** A definition as listed by the API (function contents left out). */
export function describeDefinition(spec: MapReduceSpec): Record<string, unknown> {
  const json = definitionToJson(spec);
  const describe = (file: z.input<typeof functionFileSchema>) => ({
    file_name: file.file_name,
    kind: file.kind,
  });
  return {
    ...json,
    mapper: describe(json.mapper),
    reducer: describe(json.reducer),
    ...(json.combiner ? { combiner: describe(json.combiner) } : {}),
  };
}
