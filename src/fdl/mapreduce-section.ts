/**
 * @module fdl/mapreduce-section
 * The FDL's `mapreduce` section, beside `functions`: MapReduce definitions by name, each started by
 * uploads into its input folder. Validated as strictly as services (unknown keys, wrong kinds, bad sizes,
 * an output inside the input, both a chunk size and a mapper count), every problem at its line and column.
 * The function files are named relative to the FDL file and inlined, as service scripts are; the result is
 * the JSON body of PUT /system/mapreduce/definitions/{name}.
 *
 * ```yaml
 * mapreduce:
 *   wordcount:
 *     input: corpus/in          # bucket/folder watched for uploads
 *     output: corpus/out        # each job writes to out/<object name>/ (or out/<folder>/ with start_on)
 *     mapper: wordcount.mjs     # JS module, MARLA Python file, or executable (Hadoop Streaming)
 *     reducer: wordcount.mjs
 *     combiner: wordcount.mjs   # optional
 *     reducers: 4
 *     chunk_size: 64Mi          # or mappers: 16
 *     memory: 1Gi
 * ```
 */
import { z } from 'zod';
import type { DiagnosticSink } from './diagnostics.js';
import { checkByteQuantity } from './quantity.js';
import { bool, choice, fdlErrorMap, num, opt, strictObject, text } from './schema-kit.js';
import { YamlLiteral, type ValuePath } from './yaml-tree.js';

/** Definition names: those of the /system/mapreduce/definitions API. */
const DEFINITION_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** S3 bucket names (lower-case, 3 to 63 characters). */
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function checkPath(value: string): string | undefined {
  const trimmed = value.trim().replace(/^\/+/, '');
  const bucket = trimmed.split('/')[0] ?? '';
  if (!BUCKET_PATTERN.test(bucket))
    return `"${value}" does not start with a bucket name (write bucket/folder; bucket names are 3 to 63 lower-case letters, digits, dots and dashes)`;
  if (trimmed.split('/').some((part, index) => index > 0 && (part === '.' || part === '..')))
    return `"${value}" must not contain "." or ".." folders`;
  return undefined;
}

/** A byte size: a Kubernetes quantity (`64Mi`, `1Gi`) or a number of bytes. */
function byteSize() {
  return z.unknown().transform((value, ctx): number => {
    let written: string;
    if (typeof value === 'string') written = value;
    else if (value instanceof YamlLiteral && typeof value.value === 'number') written = value.source;
    else if (typeof value === 'number') written = String(value);
    else {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected a size such as "64Mi" or "1Gi"' });
      return z.NEVER;
    }
    const result = checkByteQuantity(written);
    if (!result.ok) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: result.message });
      return z.NEVER;
    }
    return result.value;
  });
}

const fileName = () =>
  text({
    nonEmpty: true,
    check: (value) => (value.includes('\0') ? 'a file name must not contain NUL characters' : undefined),
  });

/** One definition as written in the FDL. */
export const mapreduceDefinitionSchema = strictObject({
  input: text({ nonEmpty: true, check: checkPath }),
  output: text({ nonEmpty: true, check: checkPath }),
  mapper: fileName(),
  reducer: fileName(),
  combiner: opt(fileName()),
  reducers: opt(num({ integer: true, min: 1, max: 1024 })),
  chunk_size: opt(byteSize()),
  mappers: opt(num({ integer: true, min: 1, max: 100_000 })),
  memory: opt(byteSize()),
  output_mode: opt(choice(['per-reducer', 'merged'] as const)),
  executor: opt(text({ nonEmpty: true })),
  max_attempts: opt(num({ integer: true, min: 1, max: 10 })),
  speculative: opt(bool()),
  start_on: opt(
    text({
      nonEmpty: true,
      check: (value) => (value.includes('/') ? `"${value}" is a file name, without folders` : undefined),
    }),
  ),
});
type DefinitionFields = z.output<typeof mapreduceDefinitionSchema>;

/** A function file inlined into the definition's JSON. */
export interface MapReduceFunctionJson {
  file_name: string;
  /** The file's bytes, base64. */
  content: string;
}

/** The JSON of one definition, as PUT /system/mapreduce/definitions/{name} takes it. */
export type MapReduceDefinitionJson = Omit<DefinitionFields, 'mapper' | 'reducer' | 'combiner'> & {
  mapper: MapReduceFunctionJson;
  reducer: MapReduceFunctionJson;
  combiner?: MapReduceFunctionJson;
};

/** One MapReduce definition of an FDL file. */
export interface FdlMapReduce {
  name: string;
  json: MapReduceDefinitionJson;
}

function folderOf(path: string): { bucket: string; folder: string } {
  const trimmed = path.trim().replace(/^\/+/, '').replace(/\/+$/, '');
  const slash = trimmed.indexOf('/');
  return slash < 0
    ? { bucket: trimmed, folder: '' }
    : { bucket: trimmed.slice(0, slash), folder: trimmed.slice(slash + 1) };
}

/** A definition that passed validation, its function files not read yet. */
export interface PendingMapReduce {
  name: string;
  fields: DefinitionFields;
  base: ValuePath;
}

/** Validates the `mapreduce` section, reporting every problem to `sink`. */
export function readMapReduceSection(
  section: Record<string, unknown>,
  sink: DiagnosticSink,
): PendingMapReduce[] {
  const pending: PendingMapReduce[] = [];
  for (const [name, raw] of Object.entries(section)) {
    const base: ValuePath = ['mapreduce', name];
    let valid = true;
    if (!DEFINITION_NAME_PATTERN.test(name)) {
      sink.error(
        base,
        `"${name}" is not a valid name: lower-case letters, digits and dashes, at most 63`,
        'key',
      );
      valid = false;
    }
    const parsed = mapreduceDefinitionSchema.safeParse(raw ?? {}, { errorMap: fdlErrorMap });
    if (!parsed.success) {
      sink.addIssues(parsed.error.issues, base);
      continue;
    }
    const fields = parsed.data;
    if (fields.chunk_size !== undefined && fields.mappers !== undefined) {
      sink.error([...base, 'mappers'], 'give either chunk_size or mappers, not both', 'key');
      valid = false;
    }
    const input = folderOf(fields.input);
    const output = folderOf(fields.output);
    if (
      input.bucket === output.bucket &&
      (input.folder === '' || `${output.folder}/`.startsWith(`${input.folder}/`))
    ) {
      // An output inside the input would start the definition again on its own results.
      sink.error([...base, 'output'], `"${fields.output}" lies inside the input folder "${fields.input}"`);
      valid = false;
    }
    if (valid) pending.push({ name, fields, base });
  }
  return pending;
}

/**
 * Inlines each definition's function files with `readFile` (a path relative to the FDL file; undefined
 * when there is none); a missing or empty file is reported where the FDL names it.
 */
export function inlineMapReduceFiles(
  pending: readonly PendingMapReduce[],
  readFile: (relativePath: string) => string | undefined,
  fdlFile: string,
  sink: DiagnosticSink,
): FdlMapReduce[] {
  const definitions: FdlMapReduce[] = [];
  for (const { name, fields, base } of pending) {
    const files: Partial<Record<'mapper' | 'reducer' | 'combiner', MapReduceFunctionJson>> = {};
    let valid = true;
    for (const role of ['mapper', 'reducer', 'combiner'] as const) {
      const reference = fields[role];
      if (reference === undefined) continue;
      const content = readFile(reference);
      if (content === undefined || content.length === 0) {
        sink.error(
          [...base, role],
          content === undefined
            ? `${role} file "${reference}" not found (relative to the folder of ${fdlFile})`
            : `${role} file "${reference}" is empty`,
        );
        valid = false;
        continue;
      }
      files[role] = {
        file_name: reference.split('/').pop() ?? reference,
        content: Buffer.from(content, 'utf8').toString('base64'),
      };
    }
    if (!valid || files.mapper === undefined || files.reducer === undefined) continue;
    const { combiner: _combiner, ...rest } = fields;
    const json: MapReduceDefinitionJson = { ...rest, mapper: files.mapper, reducer: files.reducer };
    if (files.combiner !== undefined) json.combiner = files.combiner;
    definitions.push({ name, json });
  }
  return definitions;
}

/** Definitions as written, for validation without the files (their contents left empty). */
export function definitionsWithoutFiles(pending: readonly PendingMapReduce[]): FdlMapReduce[] {
  return pending.map(({ name, fields }) => {
    const file = (reference: string) => ({ file_name: reference.split('/').pop() ?? reference, content: '' });
    const { combiner, ...rest } = fields;
    const json: MapReduceDefinitionJson = {
      ...rest,
      mapper: file(fields.mapper),
      reducer: file(fields.reducer),
    };
    if (combiner !== undefined) json.combiner = file(combiner);
    return { name, json };
  });
}
