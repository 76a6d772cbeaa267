import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformError } from '../core/index.js';
import { ConcurrencyLimiter } from './concurrency-limiter.js';

void test('a waiter that gets no slot within its wait is turned away with TOO_MANY_REQUESTS and leaves the line', async () => {
  const limiter = new ConcurrencyLimiter(1, 8);
  await limiter.acquire();
  const started = Date.now();
  await assert.rejects(
    limiter.acquire(undefined, 50),
    (error: unknown) =>
      error instanceof PlatformError &&
      error.code === 'TOO_MANY_REQUESTS' &&
      (error.details as { retryAfterSeconds: number }).retryAfterSeconds > 0,
  );
  assert.ok(Date.now() - started >= 45);
  // The one who timed out is out of line: the next waiter gets the slot when it is released.
  const next = limiter.acquire(undefined, 5000);
  limiter.release();
  await next;
  assert.equal(limiter.running, 1);
});

void test('a waiter served within its wait keeps the slot (its timer does not fire later)', async () => {
  const limiter = new ConcurrencyLimiter(1, 8);
  await limiter.acquire();
  const waiting = limiter.acquire(undefined, 40);
  limiter.release();
  await waiting;
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(limiter.running, 1);
  limiter.release();
  assert.equal(limiter.running, 0);
});
