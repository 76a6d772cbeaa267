import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformError } from './errors.js';
import { ShutdownGate } from './shutdown-gate.js';

void test('once closed the gate refuses with UNAVAILABLE and is idle when the admitted requests are answered', async () => {
  const gate = new ShutdownGate();
  const first = gate.admit();
  const second = gate.admit();
  gate.close();
  assert.throws(
    () => gate.admit(),
    (error: unknown) =>
      error instanceof PlatformError &&
      error.code === 'UNAVAILABLE' &&
      (error.details as { retryAfterSeconds: number }).retryAfterSeconds > 0,
  );
  let idle = false;
  const waiting = gate.idle().then(() => (idle = true));
  first();
  first();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(idle, false, 'one request is still under way');
  assert.equal(gate.pending, 1);
  second();
  await waiting;
  assert.equal(gate.pending, 0);
});

void test('a gate closed with nothing under way is idle at once', async () => {
  const gate = new ShutdownGate();
  gate.close();
  await gate.idle();
  assert.equal(gate.closing, true);
});
