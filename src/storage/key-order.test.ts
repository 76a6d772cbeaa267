import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareKeys, prefixSuccessor } from './key-order.js';

test('compareKeys sorts by UTF-8 bytes, unlike JavaScript for characters past U+FFFF', () => {
  const keys = ['😀', '\uff5e', 'z', 'a', 'é', 'a/b', 'a/'];
  const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  assert.deepEqual([...keys].sort(compareKeys), byBytes);
  assert.ok(compareKeys('\uff5e', '😀') < 0);
  assert.ok('\uff5e' > '😀', 'JavaScript order differs, which is why compareKeys exists');
  assert.equal(compareKeys('abc', 'abc'), 0);
});

test('prefixSuccessor bounds every key under a prefix', () => {
  assert.equal(prefixSuccessor('a/'), 'a0');
  assert.equal(prefixSuccessor('a\ud7ff'), 'a\ue000');
  assert.equal(prefixSuccessor('a\u{10ffff}'), 'b');
  assert.equal(prefixSuccessor('\u{10ffff}'), null);
  for (const key of ['a/', 'a/zzz', 'a/\u{10ffff}x']) assert.ok(compareKeys(key, 'a0') < 0);
});
