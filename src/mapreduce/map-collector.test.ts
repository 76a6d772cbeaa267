import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MapCollector } from './map-collector.js';
import { partitionOfString } from './partition.js';
import { decodeRecords } from './record-codec.js';
import type { Combine } from './key-groups.js';

const sum: Combine = (key, values, emit) => {
  let total = 0;
  for (const value of values) total += value as number;
  emit(key, total);
};

/** Every record of every partition, checking that each sits in its key's partition. */
function decoded(partitions: Buffer[]): [string, number][] {
  const pairs: [string, number][] = [];
  for (const [partition, bytes] of partitions.entries()) {
    for (const { key, value } of decodeRecords(bytes)) {
      assert.equal(partitionOfString(key.toString(), partitions.length), partition);
      pairs.push([key.toString(), value as number]);
    }
  }
  return pairs;
}

void test('repeated keys are aggregated in the map task: one record per distinct key', () => {
  const collector = new MapCollector({ reducers: 3, combine: sum, budgetBytes: 64 * 1024 * 1024 });
  for (let i = 0; i < 300_000; i++) collector.emit(`w${i % 1000}`, 1);
  const { partitions, records } = collector.finish();
  const pairs = decoded(partitions);
  assert.equal(pairs.length, 1000);
  assert.equal(
    records.reduce((a, b) => a + b, 0),
    1000,
  );
  for (const [, count] of pairs) assert.equal(count, 300);
});

void test('keys that hardly repeat go straight to their partitions, none lost, totals exact', () => {
  const collector = new MapCollector({ reducers: 2, combine: sum, budgetBytes: 64 * 1024 * 1024 });
  const expected = new Map<string, number>();
  for (let i = 0; i < 400_000; i++) {
    // Mostly unique keys, a few repeated ones among them.
    const key = i % 10 === 0 ? 'often' : `k${i}`;
    collector.emit(key, i % 7);
    expected.set(key, (expected.get(key) ?? 0) + (i % 7));
  }
  const { partitions, records } = collector.finish();
  const pairs = decoded(partitions);
  // Unaggregated after the sample: far more records than distinct keys.
  assert.ok(pairs.length > expected.size + 10_000, String(pairs.length));
  assert.equal(
    records.reduce((a, b) => a + b, 0),
    pairs.length,
  );
  const totals = new Map<string, number>();
  for (const [key, value] of pairs) totals.set(key, (totals.get(key) ?? 0) + value);
  assert.deepEqual(totals, expected);
});

/** Emits `pairs` keys drawn uniformly from `space` (seeded), as a task whose input is `pairs` bytes. */
function drawn(
  space: number,
  pairs: number,
): { records: number; distinct: number; totals: Map<string, number> } {
  const collector = new MapCollector({
    reducers: 2,
    combine: sum,
    budgetBytes: 256 * 1024 * 1024,
    inputBytes: pairs,
  });
  let state = 12345;
  const expected = new Map<string, number>();
  for (let i = 0; i < pairs; i += 1000) {
    collector.consumed(1000);
    for (let j = 0; j < 1000; j++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const key = `k${(state >>> 0) % space}`;
      collector.emit(key, 1);
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
  }
  const { partitions, records } = collector.finish();
  const totals = new Map<string, number>();
  for (const [key, value] of decoded(partitions)) totals.set(key, (totals.get(key) ?? 0) + value);
  assert.deepEqual(totals, expected);
  return { records: records.reduce((a, b) => a + b, 0), distinct: expected.size, totals };
}

void test('keys new in the first sample but repeating over the whole task are aggregated', () => {
  // 400,000 possible keys: 78 % of the first 100,000 pairs bring a new key, 37 % of all 1,200,000 do.
  const { records, distinct } = drawn(400_000, 1_200_000);
  assert.equal(records, distinct);
  // In a task of 300,000 pairs from the same keys, 70 % bring a new key: the rest passes through.
  const short = drawn(400_000, 300_000);
  assert.ok(short.records > short.distinct + 10_000, `${short.records} records, ${short.distinct} keys`);
});

void test('beyond the budget, aggregated groups are encoded early and aggregated again later: totals exact', () => {
  const collector = new MapCollector({ reducers: 2, combine: sum, budgetBytes: 1024 * 1024 });
  for (let i = 0; i < 200_000; i++) collector.emit(`key${i % 40_000}`, 1);
  const { partitions } = collector.finish();
  const pairs = decoded(partitions);
  // 40,000 keys overflow a 1 MiB budget: flushed before the end, so some keys have several records.
  assert.ok(pairs.length > 40_000, String(pairs.length));
  const totals = new Map<string, number>();
  for (const [key, value] of pairs) totals.set(key, (totals.get(key) ?? 0) + value);
  assert.equal(totals.size, 40_000);
  for (const [, count] of totals) assert.equal(count, 5);
});
