import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../program.js';
import { startFakeApi } from '../testing/fake-api.js';
import { localProject } from '../testing/local-project.js';
import { memoryIo } from '../testing/memory-io.js';
import { formatJobTable, latestJob } from './service-logs.js';

const job = (status: string, created: string, extra: Record<string, unknown> = {}) => ({
  status,
  creation_time: created,
  start_time: created,
  finish_time: status === 'Succeeded' || status === 'Failed' ? created : null,
  ...extra,
});

const pages: Record<string, unknown> = {
  '': {
    jobs: {
      'count-b': job('Succeeded', '2024-05-01T10:00:02Z', { exit_code: 0 }),
      'count-a': job('Failed', '2024-05-01T10:00:01Z', { exit_code: 3 }),
    },
    next_page: '1',
    remaining_jobs: 1,
  },
  '1': { jobs: { 'count-c': job('Running', '2024-05-01T10:00:03Z') }, next_page: '', remaining_jobs: 0 },
};

async function setup() {
  const api = await startFakeApi({
    'GET /system/logs/count': (request) => ({ json: pages[request.query.get('page') ?? ''] }),
    'GET /system/logs/count/count-c': () => ({ text: 'counting...' }),
    'DELETE /system/logs/count': () => ({ status: 204 }),
    'DELETE /system/logs/count/count-a': () => ({ status: 204 }),
  });
  const project = localProject(api.url);
  const run = async (args: string[]) => {
    const io = memoryIo(project);
    const code = await runCli(args, io);
    return { code, out: io.out(), err: io.err() };
  };
  return { api, run };
}

void test('logs list follows next_page and prints every job oldest first; -s filters by status', async () => {
  const { api, run } = await setup();
  try {
    const all = await run(['service', 'logs', 'list', 'count']);
    assert.equal(all.code, 0, all.err);
    const lines = all.out.trim().split('\n');
    assert.match(lines[0] ?? '', /^JOB\s+STATUS\s+CREATED \(UTC\)\s+STARTED\s+FINISHED\s+EXIT$/);
    assert.deepEqual(
      lines.slice(1).map((line) => line.split(/\s+/)[0]),
      ['count-a', 'count-b', 'count-c'],
    );
    assert.match(lines[1] ?? '', /Failed\s+2024-05-01 10:00:01 .*\s3$/);
    assert.deepEqual(
      api.requests.map((request) => request.query.get('page')),
      [null, '1'],
    );
    const failed = await run(['service', 'logs', 'list', 'count', '-s', 'failed']);
    assert.equal(api.requests.at(-1)?.query.get('status'), 'Failed');
    assert.doesNotMatch(failed.out, /count-b/);
    assert.match(failed.out, /count-a/);
  } finally {
    await api.close();
  }
});

void test('logs get --latest picks the most recent job; without a job id or --latest it is a usage error', async () => {
  const { api, run } = await setup();
  try {
    const latest = await run(['service', 'logs', 'get', 'count', '--latest']);
    assert.equal(latest.code, 0, latest.err);
    assert.equal(latest.out, 'counting...\n');
    assert.match(latest.err, /job count-c \(Running\)/);
    assert.equal((await run(['service', 'logs', 'get', 'count'])).code, 1);
  } finally {
    await api.close();
  }
});

void test('logs delete: named jobs, --succeeded (finished) or --all, exactly one of them', async () => {
  const { api, run } = await setup();
  try {
    assert.equal((await run(['service', 'logs', 'delete', 'count', 'count-a'])).code, 0);
    assert.equal(api.requests.at(-1)?.path, '/system/logs/count/count-a');
    assert.equal((await run(['service', 'logs', 'delete', 'count', '--all'])).code, 0);
    assert.equal(api.requests.at(-1)?.query.get('all'), 'true');
    assert.equal((await run(['service', 'logs', 'delete', 'count', '--succeeded'])).code, 0);
    assert.equal(api.requests.at(-1)?.query.get('all'), null);
    const count = api.requests.length;
    assert.equal((await run(['service', 'logs', 'delete', 'count'])).code, 1);
    assert.equal((await run(['service', 'logs', 'delete', 'count', 'x', '--all'])).code, 1);
    assert.equal(api.requests.length, count);
  } finally {
    await api.close();
  }
});

void test('latestJob and the table cope with missing times', () => {
  const rows = [
    {
      id: 'b',
      status: 'Pending',
      creation_time: undefined,
      start_time: undefined,
      finish_time: undefined,
      exit_code: undefined,
    },
    {
      id: 'a',
      status: 'Succeeded',
      creation_time: '2024-01-01T00:00:00Z',
      start_time: undefined,
      finish_time: undefined,
      exit_code: 0,
    },
  ];
  assert.equal(latestJob(rows)?.id, 'a');
  assert.equal(latestJob([]), undefined);
  assert.match(formatJobTable(rows), /^b\s+Pending$/m);
});
