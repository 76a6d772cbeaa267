import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildJobEnvironment,
  DEFAULT_SCRIPT_PATH,
  MAX_EVENT_ENV_BYTES,
  type JobEnvironmentInput,
} from './environment.js';

function input(overrides: Partial<JobEnvironmentInput> = {}): JobEnvironmentInput {
  return {
    jobId: 'svc-1234',
    service: { name: 'svc', variables: {}, secrets: {} },
    event: '{"Records":[]}',
    object: { key: 'in/a b.png', eventTimeIso: '2026-01-02T03:04:05.000Z' },
    workDir: '/data/work/j',
    inputDir: '/data/work/j/input',
    outputDir: '/data/work/j/output',
    inputFilePath: '/data/work/j/input/a b.png',
    ...overrides,
  };
}

void test('a storage event sets every OSCAR variable plus a minimal PATH, HOME and LANG', () => {
  const { env, notes } = buildJobEnvironment(input());
  assert.deepEqual(env, {
    PATH: DEFAULT_SCRIPT_PATH,
    HOME: '/data/work/j',
    LANG: 'C.UTF-8',
    TMP_INPUT_DIR: '/data/work/j/input',
    TMP_OUTPUT_DIR: '/data/work/j/output',
    INPUT_FILE_PATH: '/data/work/j/input/a b.png',
    STORAGE_OBJECT_KEY: 'in/a b.png',
    EVENT_TIME: '2026-01-02T03:04:05.000Z',
    EVENT: '{"Records":[]}',
    JOB_UUID: 'svc-1234',
    OSCAR_SERVICE_NAME: 'svc',
  });
  assert.deepEqual(notes, []);
});

void test('an http call has no STORAGE_OBJECT_KEY nor EVENT_TIME, even if the service defines them', () => {
  const { env } = buildJobEnvironment(
    input({
      object: null,
      service: { name: 's', variables: { STORAGE_OBJECT_KEY: 'x', EVENT_TIME: 'y' }, secrets: {} },
    }),
  );
  assert.equal(env.STORAGE_OBJECT_KEY, undefined);
  assert.equal(env.EVENT_TIME, undefined);
});

void test('service variables may replace PATH; secrets win over variables; OSCAR variables win over both', () => {
  const { env } = buildJobEnvironment(
    input({
      service: {
        name: 'svc',
        variables: { PATH: '/opt/bin:/usr/bin', MODE: 'var', TMP_OUTPUT_DIR: '/elsewhere' },
        secrets: { MODE: 'secret', JOB_UUID: 'forged' },
      },
    }),
  );
  assert.equal(env.PATH, '/opt/bin:/usr/bin');
  assert.equal(env.MODE, 'secret');
  assert.equal(env.TMP_OUTPUT_DIR, '/data/work/j/output');
  assert.equal(env.JOB_UUID, 'svc-1234');
});

void test('nothing of the calling process leaks in', () => {
  process.env.NUBES_LEAK_CHECK = 'leaked';
  try {
    const { env } = buildJobEnvironment(input());
    assert.ok(!Object.values(env).includes('leaked'));
  } finally {
    delete process.env.NUBES_LEAK_CHECK;
  }
});

void test('an event too large for exec is left out with a note; NUL bytes are dropped with a note', () => {
  const { env, notes } = buildJobEnvironment(
    input({
      event: 'x'.repeat(MAX_EVENT_ENV_BYTES + 1),
      service: { name: 'svc', variables: { BAD: 'a\0b' }, secrets: {} },
    }),
  );
  assert.equal(env.EVENT, undefined);
  assert.equal(env.BAD, undefined);
  assert.equal(notes.length, 2);
});
