import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InvocationResult } from '../executors/executor.js';
import { formatResultLine, splitResultLine } from './result-line.js';
import { loadStandaloneConfig } from './standalone-config.js';

const result: InvocationResult = {
  status: 'failed',
  exitCode: 3,
  termSignal: null,
  error: { code: 'JOB_FAILED', message: 'exit 3', retryable: false },
  outputs: [{ provider: 'minio.default', bucket: 'b', key: 'k' }],
  outputFiles: ['k'],
  outputDir: '/tmp/out',
  startedMs: 1,
  finishedMs: 2,
};

void test('the result line round-trips what a remote run reports, and is taken out of the log', () => {
  const log = `hello\nnubes-result {"not":"a result"}\nworld\n\n${formatResultLine(result)}`;
  const split = splitResultLine(log);
  assert.deepEqual(split.result, {
    status: 'failed',
    exitCode: 3,
    termSignal: null,
    error: result.error,
    outputs: result.outputs,
    startedMs: 1,
    finishedMs: 2,
  });
  assert.equal(split.log, 'hello\nnubes-result {"not":"a result"}\nworld\n\n');
});

void test('a log without a valid result line gives no result and stays as it is', () => {
  const log = 'nubes-result {"status":"succeeded"}\nnubes-result not json\n';
  assert.deepEqual(splitResultLine(log), { log, result: null });
});

void test('NUBES_SECRET_NAMES moves those variables into the service secrets; a missing one is CONFIG_INVALID', () => {
  const FUNCTION_CONFIG = Buffer.from(JSON.stringify({ name: 's', script: 'true' })).toString('base64');
  const config = loadStandaloneConfig({
    FUNCTION_CONFIG,
    NUBES_SECRET_NAMES: 'TOKEN',
    TOKEN: 'xyz',
    OTHER: 'not a secret',
    NUBES_RESULT_LINE: '1',
  });
  assert.deepEqual(config.service.secrets, { TOKEN: 'xyz' });
  assert.equal(config.resultLine, true);
  assert.throws(
    () => loadStandaloneConfig({ FUNCTION_CONFIG, NUBES_SECRET_NAMES: 'GONE' }),
    (error: unknown) => (error as { code?: string }).code === 'CONFIG_INVALID',
  );
});
