import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyGroups, compareKeys, sortKeys, valuesOf, type Combine } from './key-groups.js';

const sum: Combine = (key, values, emit) => {
  let total = 0;
  for (const value of values) total += value as number;
  emit(key, total);
};

void test('values of a frequent key are combined as they pile up; the totals stay exact', () => {
  const groups = new KeyGroups(sum);
  const expected = new Map<string, number>();
  for (let i = 0; i < 100_000; i++) {
    const key = `k${(i * i) % 97}`;
    groups.add(key, i % 7);
    expected.set(key, (expected.get(key) ?? 0) + (i % 7));
  }
  for (const [key, entry] of groups.entries()) {
    // Never more than the eager threshold of values buffered for one key.
    assert.ok(valuesOf(entry).length < 64, key);
  }
  groups.combineAll();
  const got = new Map([...groups.entries()].map(([key, entry]) => [key, valuesOf(entry)[0] as number]));
  assert.deepEqual(got, expected);
});

void test('without a combiner every value is kept, undefined included; identity combiners do not loop', () => {
  const plain = new KeyGroups(null);
  plain.add('a', undefined);
  plain.add('b', 1);
  plain.add('a', 2);
  assert.deepEqual(valuesOf(plain.get('a')), [undefined, 2]);
  assert.deepEqual(valuesOf(plain.get('b')), [1]);
  const identity = new KeyGroups((key, values, emit) => {
    for (const value of values) emit(key, value);
  });
  for (let i = 0; i < 10_000; i++) identity.add('same', i);
  assert.equal(valuesOf(identity.get('same')).length, 10_000);
});

void test('a combiner may emit other keys: they are grouped too', () => {
  let strays = 0;
  const groups = new KeyGroups((key, values, emit) => {
    sum(key, values, emit);
    if (key === 'x') {
      strays++;
      emit('seen', 1);
    }
  });
  for (let i = 0; i < 200; i++) groups.add('x', 1);
  groups.combineAll();
  assert.deepEqual(valuesOf(groups.get('x')), [200]);
  assert.deepEqual(valuesOf(groups.get('seen')), [strays]);
  assert.ok(strays >= 3);
});

void test('keys sort in code-point order, which is the byte order of their UTF-8', () => {
  const keys = ['b', 'a', '\uE000', '😀', 'ä', '', 'ab', '\uFFFF', 'Z', '𝔘'];
  const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  assert.deepEqual(sortKeys([...keys]), byBytes);
  assert.deepEqual(sortKeys(['b', 'a', 'c']), ['a', 'b', 'c']);
  assert.ok(compareKeys('\uE000', '😀') < 0);
  assert.ok(compareKeys('a', 'b') < 0 && compareKeys('b', 'a') > 0 && compareKeys('a', 'a') === 0);
});

void test('keys given as UTF-8 bytes meet the same keys given as strings, ASCII or not', () => {
  const groups = new KeyGroups(sum);
  const keys = ['alpha', 'beta', 'ünï', '😀', '', 'a'.repeat(300)];
  const expected = new Map<string, number>();
  for (let i = 0; i < 5_000; i++) {
    const key = keys[i % keys.length] as string;
    if (i % 2 === 0) groups.add(key, 1);
    else {
      // The key inside a larger buffer, as a record reader hands it over.
      const bytes = Buffer.concat([Buffer.from('xx'), Buffer.from(key), Buffer.from('yy')]);
      groups.addUtf8(bytes, 2, bytes.length - 2, 1);
    }
    expected.set(key, (expected.get(key) ?? 0) + 1);
  }
  groups.combineAll();
  assert.equal(groups.size, keys.length);
  for (const [key, count] of expected) assert.deepEqual(valuesOf(groups.get(key)), [count], key);
  assert.deepEqual(groups.sortedKeys(), sortKeys([...keys]));
});
