import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { parseJobStatuses, parsePort, parsePositiveInt, parseSecondsAsMs } from './flag-parsers.js';

void test('ports are whole numbers from 0 to 65535', () => {
  assert.equal(parsePort('0'), 0);
  assert.equal(parsePort('8080'), 8080);
  for (const bad of ['65536', '-1', '80.5', 'http', '', '1e3'])
    assert.throws(() => parsePort(bad), InvalidArgumentError, bad);
});

void test('counts are whole numbers of at least 1; durations are positive seconds, returned in ms', () => {
  assert.equal(parsePositiveInt('4'), 4);
  assert.throws(() => parsePositiveInt('0'), InvalidArgumentError);
  assert.throws(() => parsePositiveInt('two'), InvalidArgumentError);
  assert.equal(parseSecondsAsMs('2.5'), 2500);
  assert.throws(() => parseSecondsAsMs('0'), InvalidArgumentError);
  assert.throws(() => parseSecondsAsMs('5m'), InvalidArgumentError);
});

void test("job statuses are matched case-insensitively and spelt as OSCAR's", () => {
  assert.deepEqual(parseJobStatuses('failed, running'), ['Failed', 'Running']);
  assert.throws(() => parseJobStatuses('Done'), /unknown status "Done"/);
  assert.throws(() => parseJobStatuses(','), InvalidArgumentError);
});
