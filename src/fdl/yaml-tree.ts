/**
 * @module fdl/yaml-tree
 * The bridge between a parsed YAML document and the schemas: turns the node tree into plain values the
 * schemas validate, and turns a schema issue's path back into a line and column of the source.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/** A path into a document: map keys and list indices, as zod reports them. */
export type ValuePath = readonly (string | number)[];

/**
 * A number or boolean scalar of a YAML file, with the text it was written as. OSCAR's Go decoder hands
 * such scalars to string fields as written (`cpu: 1.0` is "1.0", `PYTHON_VERSION: 3.10` is "3.10",
 * `SEND_SNS: false` is "false"); the schemas read `source` for text fields and `value` elsewhere. Service
 * JSON from the API has plain numbers instead, which string fields refuse, as Go's JSON decoder does.
 */
export class YamlLiteral {
  constructor(
    readonly value: number | boolean,
    readonly source: string,
  ) {}
}

/** Values a document may expand to: aliases of aliases ("billion laughs") must not exhaust memory. */
export const MAX_PLAIN_VALUES = 100_000;

/** Thrown by toPlain when a document expands past MAX_PLAIN_VALUES. */
export class YamlTooLargeError extends Error {}

/** Plain values of a YAML node: maps become objects, lists arrays, scalars their typed value (see YamlLiteral). */
export function toPlain(node: unknown, doc: Document, budget = { left: MAX_PLAIN_VALUES }): unknown {
  if (--budget.left < 0)
    throw new YamlTooLargeError(`the document expands to more than ${MAX_PLAIN_VALUES} values`);
  if (isAlias(node)) return toPlain(node.resolve(doc), doc, budget);
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      // defineProperty: a key named __proto__ is a key, not the object's prototype.
      Object.defineProperty(out, keyText(pair.key), {
        value: toPlain(pair.value, doc, budget),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  if (isSeq(node)) return node.items.map((item) => toPlain(item, doc, budget));
  if (isScalar(node)) {
    const { value, source } = node;
    if (typeof value === 'number' || typeof value === 'boolean')
      return new YamlLiteral(value, source ?? String(value));
    return value;
  }
  // An empty value (`key:`) has no node at all.
  return null;
}

/** A map key as the text a schema sees (keys are always strings in the FDL). */
export function keyText(key: unknown): string {
  if (isScalar(key)) return key.source ?? String(key.value);
  if (typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean') return String(key);
  // A map or list used as a key (`? [a, b]: c`) has no name; the schema then reports it as unknown.
  return '';
}

/** Where a path points in the source: the node itself, or for a missing key, the key of its would-be parent. */
export interface Location {
  line: number;
  column: number;
}

/**
 * The line and column of `path` in `doc`. Unknown keys point at the key; wrong values at the value (or at
 * its key when the value is empty); missing keys at the key of the map that should hold them.
 */
export function locate(
  doc: Document,
  lineCounter: LineCounter,
  path: ValuePath,
  target: 'key' | 'value' = 'value',
): Location {
  let node: unknown = doc.contents;
  // The best position found so far: the key (or list item) that leads to the current node.
  let anchor: number = rangeStart(doc.contents) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    if (isAlias(node)) node = node.resolve(doc);
    const last = i === path.length - 1;
    if (isMap(node) && typeof segment === 'string') {
      const pair = node.items.find((item) => isPair(item) && keyText(item.key) === segment);
      if (!pair) break;
      const keyStart = rangeStart(pair.key);
      const valueStart = rangeStart(pair.value);
      // An empty value has no useful position, and a block map or list starts on the next line: the key reads better.
      const valueEmpty = !pair.value || (isScalar(pair.value) && pair.value.value === null);
      const blockCollection = (isMap(pair.value) || isSeq(pair.value)) && !pair.value.flow;
      if (last && (target === 'key' || valueEmpty || blockCollection)) anchor = keyStart ?? anchor;
      else anchor = (last ? valueStart : keyStart) ?? anchor;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      anchor = rangeStart(item) ?? anchor;
      node = item;
    } else {
      break;
    }
  }
  const { line, col } = lineCounter.linePos(anchor);
  return { line, column: col };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}

/** `functions.oscar[0].cowsay.memory`; keys that are not plain words are quoted: `annotations["a.b/c"]`. */
export function formatPath(path: ValuePath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
