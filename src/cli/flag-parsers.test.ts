import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import {
  parseJobStatuses,
  parsePort,
  parsePositiveInt,
  parseSecondsAsMs,
  parseSlurmGres,
  parseSlurmMemory,
  parseSlurmTime,
} from './flag-parsers.js';

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

void test("Slurm time limits, memory sizes and generic resources are taken in sbatch's forms only", () => {
  for (const time of ['30', '30:15', '2:00:00', '1-12', '1-12:30', '1-12:30:05'])
    assert.equal(parseSlurmTime(time), time);
  for (const bad of ['', '1h', '-5', '1:2:3:4', '1-', '1-2-3', '10m', '1 0'])
    assert.throws(() => parseSlurmTime(bad), InvalidArgumentError, bad);
  assert.equal(parseSlurmMemory('512m'), '512M');
  assert.equal(parseSlurmMemory('4G'), '4G');
  assert.equal(parseSlurmMemory('2048'), '2048');
  for (const bad of ['0', '4GB', '1.5G', 'G', '-1M', '4 G'])
    assert.throws(() => parseSlurmMemory(bad), InvalidArgumentError, bad);
  for (const gres of ['gpu:1', 'gpu:a100:2', 'gpu:1,shard:2', 'mps:100'])
    assert.equal(parseSlurmGres(gres), gres);
  for (const bad of ['', ':1', 'gpu:', 'gpu;rm -rf', 'gpu:1,', '--gres=gpu'])
    assert.throws(() => parseSlurmGres(bad), InvalidArgumentError, bad);
});
