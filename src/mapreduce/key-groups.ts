/**
 * @module mapreduce/key-groups
 * Hash aggregation of key/value pairs, the heart of both map and reduce tasks: values grouped by key in
 * one Map, a key's values combined (when there is a combiner) as they come, so that a frequent key costs
 * one value rather than millions of entries. Nothing is sorted or encoded per
 * pair: map tasks encode each distinct key once at the end, reduce tasks sort the distinct keys once.
 */

/** `emit(key, value)` as user functions see it. */
export type Emit = (key: unknown, value: unknown) => void;
/** A combiner or reducer: called once per key with all of its values. */
export type Combine = (key: string, values: Iterable<unknown>, emit: Emit) => void;

/** Several values buffered for one key (a plain array could be a user's value). */
export class Values {
  constructor(public items: unknown[]) {}
}

/** Rough heap cost of buffered entries, to decide when to combine or spill. */
const ENTRY_BYTES = 80;
const VALUE_BYTES = 16;
/** Values of one key that trigger its combiner. */
const EAGER_COMBINE_AT = 64;

/** Converts an emitted key to the string it is grouped and sorted by. */
export function keyText(key: unknown): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean') return String(key);
  throw new TypeError(`emit(key, value): the key must be a string or a number, got ${typeof key}`);
}

export class KeyGroups {
  private map = new Map<string, unknown>();
  /** Keys whose combiner gave back as many values as it got: not combined eagerly again. */
  private readonly unshrinkable = new Set<string>();
  /** Estimated heap bytes of what is buffered. */
  estimatedBytes = 0;
  // The combiner's output for the key being combined, collected without a closure or an array per call:
  // the first value, and the rest only when there are several.
  private combining = '';
  private combinedCount = 0;
  private combinedFirst: unknown = undefined;
  private combinedMore: unknown[] = [];
  private strays: [string, unknown][] = [];
  private readonly collect: Emit = (key, value) => {
    const text = typeof key === 'string' ? key : keyText(key);
    if (text !== this.combining) this.strays.push([text, value]);
    else if (this.combinedCount++ === 0) this.combinedFirst = value;
    else this.combinedMore.push(value);
  };

  constructor(private readonly combine: Combine | null) {}

  get size(): number {
    return this.map.size;
  }

  /**
   * Adds one pair: the hot path. With a combiner, a key holds one plain value, combined with each new
   * one as it comes (a counter, for a word count: no array grows per key); a key whose combiner does not
   * shrink its values, and every key without a combiner, holds its values in a Values.
   */
  add(key: string, value: unknown): void {
    const map = this.map;
    const existing = map.get(key);
    if (existing === undefined) {
      // An emitted `undefined` is kept in a Values, so that undefined here always means a new key. The key
      // is kept as a copy of its own: one from the mapper's split sits among its short-lived strings, and
      // lookups comparing against such keys measured a third slower than against compact copies.
      map.set(ownCopy(key), value === undefined ? new Values([value]) : value);
      this.estimatedBytes += ENTRY_BYTES + 2 * key.length;
    } else if (existing instanceof Values) {
      const items = existing.items;
      items.push(value);
      this.estimatedBytes += VALUE_BYTES;
      if (items.length >= EAGER_COMBINE_AT && this.combine !== null && !this.unshrinkable.has(key))
        this.combineValues(key, existing);
    } else if (this.combine !== null) {
      this.combinePair(key, existing, value);
    } else {
      map.set(key, new Values([existing, value]));
      this.estimatedBytes += VALUE_BYTES * 3;
    }
  }

  /** Runs the combiner over `values` of `key`; returns how many values it gave back for the key. */
  private runCombine(key: string, values: unknown[]): number {
    this.combining = key;
    this.combinedCount = 0;
    this.combinedFirst = undefined;
    if (this.combinedMore.length > 0) this.combinedMore = [];
    (this.combine as Combine)(key, values, this.collect);
    this.combining = '';
    return this.combinedCount;
  }

  /** The combiner's output of the last run, as a list. */
  private combinedValues(): unknown[] {
    return this.combinedCount === 0 ? [] : [this.combinedFirst, ...this.combinedMore];
  }

  /** A key holding one plain value gets another: both combined at once. */
  private combinePair(key: string, existing: unknown, value: unknown): void {
    const count = this.runCombine(key, [existing, value]);
    if (count === 1 && this.combinedFirst !== undefined) {
      this.map.set(key, this.combinedFirst);
    } else {
      const back = this.combinedValues();
      if (back.length >= 2) this.unshrinkable.add(key);
      this.map.set(key, new Values(back));
      this.estimatedBytes += VALUE_BYTES * (back.length + 1);
    }
    this.addStrays();
  }

  /** Replaces a key's values, in place, by what the combiner makes of them. */
  private combineValues(key: string, entry: Values): void {
    const items = entry.items;
    this.runCombine(key, items);
    const back = this.combinedValues();
    this.estimatedBytes += VALUE_BYTES * (back.length - items.length);
    if (back.length >= items.length) this.unshrinkable.add(key);
    // The Values entry stays in the Map (no delete and set: a Map full of deleted entries rehashes).
    entry.items = back;
    this.addStrays();
  }

  private addStrays(): void {
    if (this.strays.length === 0) return;
    const strays = this.strays;
    this.strays = [];
    for (const [k, v] of strays) this.add(k, v);
  }

  /** Applies the combiner to every key holding several values. */
  combineAll(): void {
    if (this.combine === null) return;
    for (const [key, entry] of [...this.map]) {
      if (entry instanceof Values && entry.items.length > 1) this.combineValues(key, entry);
    }
  }

  /** The groups: each key with its one value or its Values. */
  entries(): IterableIterator<[string, unknown]> {
    return this.map.entries();
  }

  get(key: string): unknown {
    return this.map.get(key);
  }

  /** The distinct keys in code-point order (the byte order of their UTF-8). */
  sortedKeys(): string[] {
    return sortKeys([...this.map.keys()]);
  }

  /** The groups in code-point order of their keys (no lookup per key afterwards). */
  sortedEntries(): [string, unknown][] {
    const entries = [...this.map.entries()];
    if (entries.some(([key]) => NEEDS_CODE_POINT_ORDER.test(key)))
      return entries.sort((a, b) => compareCodePoints(a[0], b[0]));
    return entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  clear(): void {
    this.map = new Map();
    this.unshrinkable.clear();
    this.estimatedBytes = 0;
  }
}

/** A fresh copy of a string through its UTF-8 bytes; a key with a lone surrogate (not UTF-8) is kept as is. */
function ownCopy(text: string): string {
  const copy = Buffer.from(text, 'utf8').toString('utf8');
  return copy === text ? copy : text;
}

/** A group's values as a list. */
export function valuesOf(entry: unknown): unknown[] {
  return entry instanceof Values ? entry.items : [entry];
}

/** UTF-16 order differs from code-point order only where surrogates meet U+E000..U+FFFF. */
const NEEDS_CODE_POINT_ORDER = /[\uD800-\uFFFF]/;

function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (astral characters) sort after U+E000..U+FFFF in code-point order.
      const rank = (c: number) => (c >= 0xe000 ? c - 0x800 : c + 0x2000);
      return rank(x) - rank(y);
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Code-point order of two keys (the byte order of their UTF-8). */
export function compareKeys(a: string, b: string): number {
  if (NEEDS_CODE_POINT_ORDER.test(a) || NEEDS_CODE_POINT_ORDER.test(b)) return compareCodePoints(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts keys in code-point order, which is the byte order of their UTF-8 (`LC_ALL=C sort`). */
export function sortKeys(keys: string[]): string[] {
  if (keys.some((key) => NEEDS_CODE_POINT_ORDER.test(key))) return keys.sort(compareCodePoints);
  return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
