/**
 * @module storage/list-keys
 * S3's listing rules over any ordered key source: prefix, delimiter (common prefixes), start-after and
 * max-keys, where max-keys counts keys and common prefixes together, and a listing resumed after a common
 * prefix skips every key under it.
 */
import { compareKeys, prefixSuccessor } from './key-order.js';

/** Where a scan starts: at `key` (inclusive) or just after it. */
export interface ScanBound {
  key: string;
  inclusive: boolean;
}

/** Returns up to `limit` entries in UTF-8 byte order from `bound` on (from the first key when null). */
export type KeyScanner<T extends { key: string }> = (bound: ScanBound | null, limit: number) => T[];

export interface KeyListing<T> {
  entries: T[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextStartAfter: string | null;
}

/** Largest page S3 returns, and our default. */
export const MAX_LIST_KEYS = 1000;
const SCAN_BATCH = 256;

/** Lists keys with S3's semantics; `scan` is called in batches and never asked for more than it needs. */
export function listKeys<T extends { key: string }>(
  scan: KeyScanner<T>,
  options: { prefix?: string; delimiter?: string; startAfter?: string; maxKeys?: number },
): KeyListing<T> {
  const prefix = options.prefix ?? '';
  const delimiter = options.delimiter ?? '';
  const startAfter = options.startAfter ?? '';
  const maxKeys = Math.max(0, Math.min(options.maxKeys ?? MAX_LIST_KEYS, MAX_LIST_KEYS));
  const entries: T[] = [];
  const commonPrefixes: string[] = [];
  let returned = 0;
  let last: string | null = null;
  let isTruncated = false;
  if (maxKeys === 0) return { entries, commonPrefixes, isTruncated, nextStartAfter: null };

  let bound: ScanBound | null = prefix === '' ? null : { key: prefix, inclusive: true };
  if (startAfter !== '' && compareKeys(startAfter, prefix) >= 0)
    bound = { key: startAfter, inclusive: false };

  // The common prefix whose keys are being skipped: a whole "folder" is one entry.
  let skipping: string | null = null;
  scanning: for (;;) {
    const batch = scan(bound, SCAN_BATCH);
    for (const row of batch) {
      bound = { key: row.key, inclusive: false };
      if (!row.key.startsWith(prefix)) break scanning;
      if (skipping !== null && row.key.startsWith(skipping)) continue;
      skipping = null;
      const at = delimiter === '' ? -1 : row.key.indexOf(delimiter, prefix.length);
      if (at >= 0) {
        const commonPrefix = row.key.slice(0, at + delimiter.length);
        skipping = commonPrefix;
        // A prefix at or before start-after was returned by the previous page.
        if (compareKeys(commonPrefix, startAfter) <= 0) continue;
        if (returned === maxKeys) {
          isTruncated = true;
          break scanning;
        }
        commonPrefixes.push(commonPrefix);
        returned++;
        last = commonPrefix;
        continue;
      }
      if (returned === maxKeys) {
        isTruncated = true;
        break scanning;
      }
      entries.push(row);
      returned++;
      last = row.key;
    }
    if (batch.length < SCAN_BATCH) break;
    if (skipping !== null) {
      // Seek past the folder rather than reading every key in it.
      const successor = prefixSuccessor(skipping);
      if (successor === null) break;
      bound = { key: successor, inclusive: true };
    }
  }
  return { entries, commonPrefixes, isTruncated, nextStartAfter: isTruncated ? last : null };
}
