/**
 * @module mapreduce/partition
 * Which reducer a key goes to: a real hash of the key's UTF-8 bytes (32-bit FNV-1a, then a murmur3
 * finaliser to spread the low bits) modulo the number of reducers. MARLA split keys by their first character,
 * which sends most real keys to a few reducers and drops non-Latin ones; a hash balances any key set.
 */

/** The reducer (0 ≤ r < reducers) of a key given as bytes. */
export function partitionOf(key: Buffer, reducers: number): number {
  if (reducers <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key[i] as number;
    hash = Math.imul(hash, 0x01000193);
  }
  return reducerOf(hash, reducers);
}

/**
 * The reducer of a key given as a string: the same hash over its UTF-16 code units, so that map tasks
 * never encode a key just to place it. Every map task uses this one, so a key always meets its values.
 */
export function partitionOfString(key: string, reducers: number): number {
  if (reducers <= 1) return 0;
  return reducerOf(stringHash(key), reducers);
}

/** 32-bit FNV-1a over a string's UTF-16 code units (also what key-groups.ts files keys under). */
export function stringHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // As a signed 32-bit integer, as the hash tables store it (an empty key never reaches Math.imul).
  return hash | 0;
}

/** The reducer of a key whose `stringHash` is `fnv`: the murmur3 finaliser, modulo the number of reducers. */
export function reducerOf(fnv: number, reducers: number): number {
  let hash = fnv;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % reducers;
}
