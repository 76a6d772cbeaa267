/**
 * @module mapreduce/key-groups
 * Hash aggregation of key/value pairs, the heart of both map and reduce tasks: values grouped by key in
 * one hash table, a key's values combined (when there is a combiner) as they come, so that a frequent key costs
 * one value rather than millions of entries. Nothing is sorted or encoded per
 * pair: map tasks encode each distinct key once at the end, reduce tasks sort the distinct keys once.
 */
import { stringHash } from './partition.js';

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

/** Slots of a new table (a power of two); it doubles when more than half are taken. */
const INITIAL_SLOTS = 1024;

/**
 * The groups live in an open-addressing table (linear probing) of three parallel arrays: each key's
 * 32-bit FNV-1a hash, the key, its value or Values. A lookup reads one hash, and compares strings only
 * when the hashes are equal, where a JS Map of the same half a million keys chases its bucket, entry and
 * key through three places in memory: a word count's map task measured about twice as fast with this
 * table. The stored hash also places each key in its partition (partition.ts) without hashing it again.
 */
export class KeyGroups {
  private hashes = new Int32Array(INITIAL_SLOTS);
  private keys: (string | undefined)[] = new Array<string | undefined>(INITIAL_SLOTS).fill(undefined);
  private values: unknown[] = new Array<unknown>(INITIAL_SLOTS).fill(undefined);
  private mask = INITIAL_SLOTS - 1;
  private count = 0;
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
    return this.count;
  }

  /** The slot holding `key` (whose hash is `hash`), or the empty slot where it would go. */
  private slotOf(key: string, hash: number): number {
    const hashes = this.hashes;
    const keys = this.keys;
    const mask = this.mask;
    let slot = (hash ^ (hash >>> 15)) & mask;
    for (;;) {
      const stored = hashes[slot] as number;
      // A stored hash of 0 is either an empty slot or a key whose hash is 0: the key tells which.
      if (stored === hash) {
        const there = keys[slot];
        if (there === key || there === undefined) return slot;
      } else if (stored === 0 && keys[slot] === undefined) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /**
   * Adds one pair: the hot path. With a combiner, a key holds one plain value, combined with each new
   * one as it comes (a counter, for a word count: no array grows per key); a key whose combiner does not
   * shrink its values, and every key without a combiner, holds its values in a Values.
   */
  add(key: string, value: unknown): void {
    let hash = 0x811c9dc5 | 0;
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    const slot = this.slotOf(key, hash);
    const stored = this.keys[slot];
    // A new key is kept as a copy of its own: one from the mapper's split sits among its short-lived
    // strings, and lookups comparing against such keys measured a third slower than against compact copies.
    if (stored === undefined) this.insert(slot, hash, ownCopy(key), value);
    else this.addTo(slot, stored, value);
  }

  /**
   * `add` for a key given as its UTF-8 bytes (a reducer reading intermediate records): an ASCII key, whose
   * bytes are its code units and hash the same, is found without making a string of it; a string is made
   * only for a new key. Other keys are decoded and added as strings.
   */
  addUtf8(bytes: Buffer, start: number, end: number, value: unknown): void {
    let hash = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) {
      const byte = bytes[i] as number;
      if (byte >= 0x80) {
        this.add(bytes.toString('utf8', start, end), value);
        return;
      }
      hash = Math.imul(hash ^ byte, 0x01000193);
    }
    const length = end - start;
    const hashes = this.hashes;
    const keys = this.keys;
    const mask = this.mask;
    let slot = (hash ^ (hash >>> 15)) & mask;
    for (;;) {
      const stored = hashes[slot] as number;
      if (stored === hash) {
        const there = keys[slot];
        if (there === undefined) break;
        if (there.length === length && sameAscii(there, bytes, start)) {
          this.addTo(slot, there, value);
          return;
        }
      } else if (stored === 0 && keys[slot] === undefined) break;
      slot = (slot + 1) & mask;
    }
    this.insert(slot, hash, bytes.toString('latin1', start, end), value);
  }

  /** Puts a new key with its first value into the empty `slot`. */
  private insert(slot: number, hash: number, key: string, value: unknown): void {
    // An emitted `undefined` is kept in a Values, so that a group's value is never undefined.
    this.hashes[slot] = hash;
    this.keys[slot] = key;
    this.values[slot] = value === undefined ? new Values([value]) : value;
    this.estimatedBytes += ENTRY_BYTES + 2 * key.length;
    if (++this.count * 2 > this.mask) this.grow();
  }

  /** Adds a value to the group of `key`, which is in `slot`. */
  private addTo(slot: number, key: string, value: unknown): void {
    const values = this.values;
    const existing = values[slot];
    if (existing instanceof Values) {
      const items = existing.items;
      items.push(value);
      this.estimatedBytes += VALUE_BYTES;
      if (items.length >= EAGER_COMBINE_AT && this.combine !== null && !this.unshrinkable.has(key))
        this.combineValues(key, existing);
    } else if (this.combine !== null) {
      this.combinePair(slot, key, existing, value);
    } else {
      values[slot] = new Values([existing, value]);
      this.estimatedBytes += VALUE_BYTES * 3;
    }
  }

  /** Doubles the table, placing each key by its stored hash. */
  private grow(): void {
    const { hashes, keys, values } = this;
    const slots = hashes.length * 2;
    this.hashes = new Int32Array(slots);
    this.keys = new Array<string | undefined>(slots).fill(undefined);
    this.values = new Array<unknown>(slots).fill(undefined);
    this.mask = slots - 1;
    for (let i = 0; i < hashes.length; i++) {
      const key = keys[i];
      if (key === undefined) continue;
      const hash = hashes[i] as number;
      const slot = this.slotOf(key, hash);
      this.hashes[slot] = hash;
      this.keys[slot] = key;
      this.values[slot] = values[i];
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
  private combinePair(slot: number, key: string, existing: unknown, value: unknown): void {
    const count = this.runCombine(key, [existing, value]);
    if (count === 1 && this.combinedFirst !== undefined) {
      this.values[slot] = this.combinedFirst;
    } else {
      const back = this.combinedValues();
      if (back.length >= 2) this.unshrinkable.add(key);
      this.values[slot] = new Values(back);
      this.estimatedBytes += VALUE_BYTES * (back.length + 1);
    }
    // After the slot is written: a stray may grow the table and move every key.
    this.addStrays();
  }

  /** Replaces a key's values, in place, by what the combiner makes of them. */
  private combineValues(key: string, entry: Values): void {
    const items = entry.items;
    this.runCombine(key, items);
    const back = this.combinedValues();
    this.estimatedBytes += VALUE_BYTES * (back.length - items.length);
    if (back.length >= items.length) this.unshrinkable.add(key);
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
    const pending: [string, Values][] = [];
    this.forEach((key, entry) => {
      if (entry instanceof Values && entry.items.length > 1) pending.push([key, entry]);
    });
    for (const [key, entry] of pending) this.combineValues(key, entry);
  }

  /** Calls `visit` with each group: its key, its one value or its Values, and the key's `stringHash`. */
  forEach(visit: (key: string, entry: unknown, hash: number) => void): void {
    const { hashes, keys, values } = this;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key !== undefined) visit(key, values[i], hashes[i] as number);
    }
  }

  /** The groups: each key with its one value or its Values. */
  entries(): [string, unknown][] {
    const entries: [string, unknown][] = [];
    this.forEach((key, entry) => entries.push([key, entry]));
    return entries;
  }

  get(key: string): unknown {
    return this.values[this.slotOf(key, stringHash(key))];
  }

  /** The distinct keys in code-point order (the byte order of their UTF-8). */
  sortedKeys(): string[] {
    const keys: string[] = [];
    this.forEach((key) => keys.push(key));
    return sortKeys(keys);
  }

  /** The groups in code-point order of their keys (no lookup per key afterwards). */
  sortedEntries(): [string, unknown][] {
    const entries = this.entries();
    if (entries.some(([key]) => NEEDS_CODE_POINT_ORDER.test(key)))
      return entries.sort((a, b) => compareCodePoints(a[0], b[0]));
    return entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  clear(): void {
    this.hashes = new Int32Array(INITIAL_SLOTS);
    this.keys = new Array<string | undefined>(INITIAL_SLOTS).fill(undefined);
    this.values = new Array<unknown>(INITIAL_SLOTS).fill(undefined);
    this.mask = INITIAL_SLOTS - 1;
    this.count = 0;
    this.unshrinkable.clear();
    this.estimatedBytes = 0;
  }
}

/** Whether the ASCII string `text` has the code units `bytes[start..]` (as many as it has). */
function sameAscii(text: string, bytes: Buffer, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
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
