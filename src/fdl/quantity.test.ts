import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformError } from '../core/index.js';
import { checkByteQuantity, checkCpuQuantity, parseByteQuantity, parseCpuQuantity } from './quantity.js';

void test('CPU quantities: plain numbers, decimals and millicores', () => {
  assert.equal(parseCpuQuantity('2'), 2);
  assert.equal(parseCpuQuantity('0.5'), 0.5);
  assert.equal(parseCpuQuantity('1.0'), 1);
  assert.equal(parseCpuQuantity('500m'), 0.5);
  assert.equal(parseCpuQuantity('100m'), 0.1);
  assert.equal(parseCpuQuantity('.25'), 0.25);
  assert.equal(parseCpuQuantity('2e0'), 2);
});

void test('byte quantities: binary and decimal suffixes, exponents, plain bytes', () => {
  assert.equal(parseByteQuantity('256Mi'), 256 * 2 ** 20);
  assert.equal(parseByteQuantity('1Gi'), 2 ** 30);
  assert.equal(parseByteQuantity('0.5Gi'), 2 ** 29);
  assert.equal(parseByteQuantity('1G'), 1e9);
  assert.equal(parseByteQuantity('500M'), 5e8);
  assert.equal(parseByteQuantity('128974848'), 128974848);
  assert.equal(parseByteQuantity('129e6'), 129e6);
  assert.equal(parseByteQuantity('1k'), 1000);
  assert.equal(parseByteQuantity('1.5'), 2, 'fractional bytes round up as in Kubernetes');
});

void test('common mistakes get a message that says how to write the quantity', () => {
  const mb = checkByteQuantity('256MB');
  assert.equal(mb.ok, false);
  assert.match(mb.ok ? '' : mb.message, /write "256Mi" \(or "256M"\)/);
  const milli = checkByteQuantity('256m');
  assert.match(milli.ok ? '' : milli.message, /did you mean "256Mi"/);
  const cpuBytes = checkCpuQuantity('1Gi');
  assert.match(cpuBytes.ok ? '' : cpuBytes.message, /byte size, not a CPU quantity/);
  for (const bad of ['', 'abc', '1.2.3', '-1', '0', '1 Gi', 'Mi']) {
    assert.equal(checkByteQuantity(bad).ok, false, `memory ${JSON.stringify(bad)}`);
    assert.equal(checkCpuQuantity(bad).ok, false, `cpu ${JSON.stringify(bad)}`);
  }
});

void test('parse functions throw VALIDATION_FAILED naming the field', () => {
  assert.throws(
    () => parseByteQuantity('lots', 'total_memory'),
    (error: unknown) =>
      error instanceof PlatformError &&
      error.code === 'VALIDATION_FAILED' &&
      error.message.startsWith('total_memory: ') &&
      (error.details as { issues: { path: string }[] }).issues[0]?.path === 'total_memory',
  );
});
