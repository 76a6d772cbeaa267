import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformError } from '../core/index.js';
import { EXIT_SYSTEM_ERROR, EXIT_USER_ERROR, hintOf, reportError, withHint } from './error-output.js';

void test('a user error exits 1 with one message line and its hint; no stack without --debug', () => {
  const error = new PlatformError('SERVICE_NOT_FOUND', 'service "x" not found');
  const report = reportError(error, { debug: false });
  assert.equal(report.exitCode, EXIT_USER_ERROR);
  assert.deepEqual(report.lines, [
    'error: service "x" not found',
    'hint: list the deployed services with `nubes service list`',
  ]);
});

void test('a system error exits 2; its own hint wins over the default one', () => {
  const error = new PlatformError(
    'UNAVAILABLE',
    'cannot reach Nubes at http://127.0.0.1:8080: connection refused',
    {
      details: { hint: 'is `npm start` running?' },
    },
  );
  const report = reportError(error, { debug: false });
  assert.equal(report.exitCode, EXIT_SYSTEM_ERROR);
  assert.equal(report.lines[1], 'hint: is `npm start` running?');
});

void test('--debug adds the code, the stack and the causes', () => {
  const cause = new Error('connect ECONNREFUSED');
  const report = reportError(new PlatformError('UNAVAILABLE', 'down', { cause }), { debug: true });
  const text = report.lines.join('\n');
  assert.match(text, /code: UNAVAILABLE/);
  assert.match(text, /at /);
  assert.match(text, /caused by: Error: connect ECONNREFUSED/);
});

void test('an unexpected error is a system error that points at --debug; multi-line messages keep their first line', () => {
  const report = reportError(new TypeError('x is undefined'), { debug: false });
  assert.equal(report.exitCode, EXIT_SYSTEM_ERROR);
  assert.equal(report.lines[0], 'error: x is undefined');
  assert.match(report.lines[1] ?? '', /--debug/);
  const multi = reportError(new PlatformError('FDL_INVALID', 'a.yaml:1:1: one\na.yaml:2:1: two'), {
    debug: false,
  });
  assert.equal(multi.lines[0], 'error: a.yaml:1:1: one');
});

void test('withHint keeps code and details and adds the hint', () => {
  const error = withHint(
    new PlatformError('CONFLICT', 'taken', { details: { name: 'x' } }),
    'pick another name',
  );
  assert.equal(error.code, 'CONFLICT');
  assert.deepEqual(error.details, { name: 'x', hint: 'pick another name' });
  assert.equal(hintOf(error), 'pick another name');
});
