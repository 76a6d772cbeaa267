import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newObjects, type ListedObject } from './bucket-poller.js';

const at = (key: string, lastModifiedMs: number): ListedObject => ({
  key,
  lastModifiedMs,
  size: 1,
  etag: 'e',
});

void test('polling watermark: the first look starts nothing; later ones start each new object once', () => {
  const first = newObjects([at('in/a', 10), at('in/b', 20)], null);
  assert.deepEqual(first.fresh, []);
  assert.deepEqual(first.next, { lastModifiedMs: 20, keysAt: ['in/b'] });

  // Same listing again: nothing. A new object in the same second as the watermark: found by its key.
  assert.deepEqual(newObjects([at('in/a', 10), at('in/b', 20)], first.next).fresh, []);
  const sameSecond = newObjects([at('in/a', 10), at('in/b', 20), at('in/c', 20), at('in/d', 30)], first.next);
  assert.deepEqual(
    sameSecond.fresh.map((o) => o.key),
    ['in/c', 'in/d'],
  );
  assert.deepEqual(sameSecond.next, { lastModifiedMs: 30, keysAt: ['in/d'] });
  // An object replaced later is new again (its LastModified moved); a deleted one changes nothing.
  assert.deepEqual(
    newObjects([at('in/a', 40), at('in/d', 30)], sameSecond.next).fresh.map((o) => o.key),
    ['in/a'],
  );
  // Keys seen at the watermark's instant stay seen even when a later listing lacks one of them.
  const kept = newObjects([at('in/c', 20)], { lastModifiedMs: 20, keysAt: ['in/b', 'in/c'] });
  assert.deepEqual(kept.fresh, []);
  assert.deepEqual(kept.next.keysAt, ['in/b', 'in/c']);
});
