/**
 * @module fdl/schema-kit
 * The building blocks of the FDL and Service JSON schemas. They read values the way OSCAR's Go decoders do
 * (in YAML a scalar fits a string field as written; `null` is an absent optional field) while staying strict
 * where Go is lax: unknown keys, wrong kinds and unknown enum values are errors with messages written for people.
 */
import { z } from 'zod';
import { YamlLiteral } from './yaml-tree.js';

/** How a value is named in messages: "a list", "a map", "a number"… */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (value instanceof YamlLiteral) return typeof value.value === 'number' ? 'a number' : 'a boolean';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}

function missing(ctx: z.RefinementCtx): typeof z.NEVER {
  const key = ctx.path[ctx.path.length - 1];
  ctx.addIssue({
    code: z.ZodIssueCode.custom,
    message: `missing required field${typeof key === 'string' ? ` "${key}"` : ''}`,
  });
  return z.NEVER;
}

function wrongKind(ctx: z.RefinementCtx, expected: string, value: unknown): typeof z.NEVER {
  ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected ${expected}, got ${describe(value)}` });
  return z.NEVER;
}

/**
 * A required string. A YAML number or boolean is taken as written (`cpu: 1.0` is "1.0"), as OSCAR's YAML
 * decoder does; a JSON number is refused, as its JSON decoder does.
 */
export function text(
  options: {
    nonEmpty?: boolean;
    pattern?: RegExp;
    patternMessage?: string;
    maxLength?: number;
    /** Further check on the text: returns a message when it is wrong. */
    check?: (value: string) => string | undefined;
  } = {},
) {
  return z.unknown().transform((value, ctx): string => {
    if (value === undefined) return missing(ctx);
    let out: string;
    if (typeof value === 'string') out = value;
    else if (value instanceof YamlLiteral) out = value.source;
    else return wrongKind(ctx, 'a string', value);
    if (options.nonEmpty && out.trim() === '') {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must not be empty' });
      return z.NEVER;
    }
    if (options.maxLength !== undefined && out.length > options.maxLength) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `"${out}" is longer than ${options.maxLength} characters`,
      });
      return z.NEVER;
    }
    if (options.pattern && !options.pattern.test(out)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: options.patternMessage ?? `"${out}" has an invalid format`,
      });
      return z.NEVER;
    }
    const problem = options.check?.(out);
    if (problem !== undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
      return z.NEVER;
    }
    return out;
  });
}

/** A required boolean (`true`, `false`; YAML's `True`/`FALSE` too). Strings such as "yes" are errors. */
export function bool() {
  return z.unknown().transform((value, ctx): boolean => {
    if (value === undefined) return missing(ctx);
    if (typeof value === 'boolean') return value;
    if (value instanceof YamlLiteral && typeof value.value === 'boolean') return value.value;
    return wrongKind(ctx, 'true or false', value);
  });
}

/** A required number, optionally a whole one, within bounds. */
export function num(options: { integer?: boolean; min?: number; max?: number } = {}) {
  const expected = options.integer ? 'a whole number' : 'a number';
  return z.unknown().transform((value, ctx): number => {
    if (value === undefined) return missing(ctx);
    let out: number;
    if (typeof value === 'number') out = value;
    else if (value instanceof YamlLiteral && typeof value.value === 'number') out = value.value;
    else return wrongKind(ctx, expected, value);
    if (!Number.isFinite(out) || (options.integer && !Number.isInteger(out)))
      return wrongKind(ctx, expected, value);
    if (options.min !== undefined && out < options.min) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be at least ${options.min}, got ${out}` });
      return z.NEVER;
    }
    if (options.max !== undefined && out > options.max) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be at most ${options.max}, got ${out}` });
      return z.NEVER;
    }
    return out;
  });
}

/** One of a fixed set of words. `caseInsensitive` maps any spelling to the canonical one (OSCAR upper-cases log levels). */
export function choice<const T extends string>(
  values: readonly T[],
  options: { caseInsensitive?: boolean } = {},
) {
  return z.unknown().transform((value, ctx): T => {
    if (value === undefined) return missing(ctx);
    if (typeof value !== 'string') return wrongKind(ctx, `one of ${values.join(', ')}`, value);
    const found = values.find((v) =>
      options.caseInsensitive ? v.toLowerCase() === value.toLowerCase() : v === value,
    );
    if (found === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${value}" is not one of ${values.join(', ')}` });
      return z.NEVER;
    }
    return found;
  });
}

/**
 * An optional field: absent, `null` (YAML `key:` with nothing) and — with `emptyIsAbsent` — "" (the zero value
 * OSCAR's GET answers for unset strings) all read as absent.
 */
export function opt<T extends z.ZodTypeAny>(schema: T, options: { emptyIsAbsent?: boolean } = {}) {
  return z.preprocess(
    (value) => (value === null || (options.emptyIsAbsent && value === '') ? undefined : value),
    schema.optional(),
  );
}

/** A string → string map (environment variables, labels, headers). An empty value (`KEY:`) is "". */
export function textMap() {
  return z.record(
    z.string(),
    z.preprocess((value) => (value === null ? '' : value), text()),
  );
}

/**
 * A map with exactly these keys, all checked: every unknown key is reported (with a "did you mean" when one is
 * close), and the other fields are still validated so one run reports every problem.
 */
export function strictObject<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape);
  return z
    .preprocess((value, ctx) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof YamlLiteral)
        return value;
      const kept: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        if (Object.hasOwn(shape, key)) {
          kept[key] = item;
          continue;
        }
        const suggestion = closest(key, known);
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [key],
          message: `unknown key ${JSON.stringify(key)}${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
          params: { unknownKey: true },
        });
      }
      return kept;
    }, z.object(shape))
    .transform((parsed) => {
      // Fields read as absent (`null`, "") leave no `key: undefined` behind: the output is plain JSON.
      for (const key of Object.keys(parsed)) if (parsed[key] === undefined) delete parsed[key];
      return parsed;
    });
}

/** The known key nearest to a misspelt one, if it is near enough to be a plausible typo. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Messages for zod's own issues (maps and lists of the wrong kind, missing maps and lists). */
export const fdlErrorMap: z.ZodErrorMap = (issue, ctx) => {
  if (issue.code === z.ZodIssueCode.invalid_type) {
    if (issue.received === 'undefined') {
      const key = issue.path[issue.path.length - 1];
      return { message: `missing required field${typeof key === 'string' ? ` "${key}"` : ''}` };
    }
    const expected =
      issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'a map' : issue.expected;
    return { message: `expected ${expected}, got ${describe(ctx.data)}` };
  }
  return { message: ctx.defaultError };
};
