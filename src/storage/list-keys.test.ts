import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareKeys } from './key-order.js';
import { listKeys, type KeyScanner } from './list-keys.js';

function scannerOver(keys: string[]): { scan: KeyScanner<{ key: string }>; calls: number[] } {
  const sorted = [...keys].sort(compareKeys).map((key) => ({ key }));
  const calls: number[] = [];
  const scan: KeyScanner<{ key: string }> = (bound, limit) => {
    const from = sorted.filter((row) => {
      if (bound === null) return true;
      const order = compareKeys(row.key, bound.key);
      return bound.inclusive ? order >= 0 : order > 0;
    });
    calls.push(limit);
    return from.slice(0, limit);
  };
  return { scan, calls };
}

test('prefix and delimiter give keys and common prefixes; max-keys counts both', () => {
  const { scan } = scannerOver(['a/1', 'a/2', 'b', 'c/x/1', 'c/y', 'd']);
  const all = listKeys(scan, { delimiter: '/' });
  assert.deepEqual(
    all.entries.map((e) => e.key),
    ['b', 'd'],
  );
  assert.deepEqual(all.commonPrefixes, ['a/', 'c/']);
  assert.equal(all.isTruncated, false);

  const page = listKeys(scan, { delimiter: '/', maxKeys: 2 });
  assert.deepEqual(page.commonPrefixes, ['a/']);
  assert.deepEqual(
    page.entries.map((e) => e.key),
    ['b'],
  );
  assert.equal(page.isTruncated, true);
  assert.equal(page.nextStartAfter, 'b');

  const under = listKeys(scan, { prefix: 'c/', delimiter: '/' });
  assert.deepEqual(under.commonPrefixes, ['c/x/']);
  assert.deepEqual(
    under.entries.map((e) => e.key),
    ['c/y'],
  );
});

test('resuming after a common prefix skips every key under it', () => {
  const { scan } = scannerOver(['a/1', 'a/2', 'a/3', 'b']);
  const first = listKeys(scan, { delimiter: '/', maxKeys: 1 });
  assert.deepEqual(first.commonPrefixes, ['a/']);
  assert.equal(first.nextStartAfter, 'a/');
  const second = listKeys(scan, { delimiter: '/', maxKeys: 1, startAfter: first.nextStartAfter ?? '' });
  assert.deepEqual(
    second.entries.map((e) => e.key),
    ['b'],
  );
  assert.deepEqual(second.commonPrefixes, []);
  assert.equal(second.isTruncated, false);
});

test('paging with max-keys visits every key once, in UTF-8 byte order', () => {
  const keys = Array.from({ length: 700 }, (_, i) => `k/${String(i).padStart(4, '0')}`).concat([
    '😀',
    '\uff5e',
    'é',
  ]);
  const { scan } = scannerOver(keys);
  const seen: string[] = [];
  let startAfter: string | undefined;
  for (;;) {
    const page = listKeys(scan, { maxKeys: 101, ...(startAfter === undefined ? {} : { startAfter }) });
    seen.push(...page.entries.map((e) => e.key));
    if (!page.isTruncated) break;
    startAfter = page.nextStartAfter ?? undefined;
  }
  assert.deepEqual(seen, [...keys].sort(compareKeys));
  assert.deepEqual(seen.slice(-2), ['\uff5e', '😀']);
});

test('a large folder is skipped by seeking, not by reading it all', () => {
  const keys = Array.from({ length: 5000 }, (_, i) => `big/${i}`).concat(['z']);
  const { scan, calls } = scannerOver(keys);
  const listing = listKeys(scan, { delimiter: '/' });
  assert.deepEqual(listing.commonPrefixes, ['big/']);
  assert.deepEqual(
    listing.entries.map((e) => e.key),
    ['z'],
  );
  assert.ok(calls.length <= 3, `${calls.length} scans`);
});

test('max-keys 0 returns nothing and is not truncated; start-after before the prefix is ignored', () => {
  const { scan } = scannerOver(['p/1', 'p/2']);
  assert.deepEqual(listKeys(scan, { maxKeys: 0 }), {
    entries: [],
    commonPrefixes: [],
    isTruncated: false,
    nextStartAfter: null,
  });
  assert.deepEqual(
    listKeys(scan, { prefix: 'p/', startAfter: 'a' }).entries.map((e) => e.key),
    ['p/1', 'p/2'],
  );
  assert.deepEqual(
    listKeys(scan, { prefix: 'p/', startAfter: 'p/1' }).entries.map((e) => e.key),
    ['p/2'],
  );
});
