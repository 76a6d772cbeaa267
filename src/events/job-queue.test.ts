import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../state/index.js';
import { JobQueue, backoffMs } from './job-queue.js';

function setup() {
  let now = 1_000_000;
  const clock = { now: () => now };
  const db = openDatabase(':memory:');
  const queue = new JobQueue(db, clock, 'p1');
  const add = (id: string, service = 'svc', maxAttempts = 3) =>
    queue.enqueue({
      id,
      service,
      kind: 'storage',
      event: '{}',
      inputBucket: 'b',
      inputKey: 'k',
      maxAttempts,
    });
  return { db, queue, add, advance: (ms: number) => (now += ms), clock };
}

const timing = { initialBackoffMs: 1000, maxBackoffMs: 8000 };

test('jobs are leased oldest first, once, and respect the per-service filter', () => {
  const { queue, add } = setup();
  add('a', 'x');
  add('b', 'y');
  add('c', 'x');
  const first = queue.lease(2, 30_000, (service) => service === 'x');
  assert.deepEqual(
    first.map((job) => job.id),
    ['a', 'c'],
  );
  assert.equal(first[0]?.attempts, 1);
  assert.deepEqual(
    queue.lease(5, 30_000, () => true).map((job) => job.id),
    ['b'],
  );
  assert.deepEqual(
    queue.lease(5, 30_000, () => true),
    [],
  );
});

test('a retryable failure is queued again after an exponential backoff, then becomes a dead letter', () => {
  const { queue, add, advance } = setup();
  add('a', 'svc', 2);
  queue.lease(1, 30_000, () => true);
  const error = { code: 'JOB_TIMEOUT' as const, message: 'too slow', retryable: true };
  let record = queue.complete(
    'a',
    { status: 'failed', exitCode: null, error, startedMs: 0, finishedMs: 1 },
    timing,
  );
  assert.equal(record?.status, 'queued');
  assert.deepEqual(
    queue.lease(1, 30_000, () => true),
    [],
    'not before its backoff',
  );
  advance(1000);
  assert.equal(queue.lease(1, 30_000, () => true)[0]?.attempts, 2);
  record = queue.complete(
    'a',
    { status: 'failed', exitCode: null, error, startedMs: 0, finishedMs: 1 },
    timing,
  );
  assert.equal(record?.status, 'failed');
  assert.deepEqual(
    queue.deadLetters().map((job) => job.id),
    ['a'],
  );
  assert.equal(queue.redrive('a'), true);
  const again = queue.lease(1, 30_000, () => true);
  assert.equal(again[0]?.attempts, 1);
});

test('a non-retryable failure (a script exiting non-zero) fails at once with its exit code', () => {
  const { queue, add } = setup();
  add('a');
  queue.lease(1, 30_000, () => true);
  const record = queue.complete(
    'a',
    {
      status: 'failed',
      exitCode: 3,
      error: { code: 'JOB_FAILED', message: 'exit 3', retryable: false },
      startedMs: 5,
      finishedMs: 9,
    },
    timing,
  );
  assert.equal(record?.status, 'failed');
  assert.equal(record?.exitCode, 3);
  assert.equal(record?.error?.code, 'JOB_FAILED');
});

test('expired leases and leases of a dead process go back to the queue', () => {
  const { db, queue, add, advance, clock } = setup();
  add('a');
  add('b');
  queue.lease(2, 1000, () => true);
  advance(1500);
  assert.equal(queue.recoverLeases(), 2);
  queue.lease(1, 1000, () => true);
  const restarted = new JobQueue(db, clock, 'p2');
  assert.equal(restarted.recoverLeases({ all: true }), 1);
  assert.equal(restarted.counts().queued, 2);
});

test('backoff doubles and is capped', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((attempt) => backoffMs(attempt, timing)),
    [1000, 2000, 4000, 8000, 8000],
  );
});

test('invocations that arrive together are stored in one commit; a refused one is left out alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-queue-'));
  try {
    const path = join(dir, 'nubes.db');
    const db = openDatabase(path);
    const queue = new JobQueue(db, { now: () => 1_000_000 }, 'p1');
    const job = (id: string) => ({
      id,
      service: 'svc',
      kind: 'http' as const,
      event: `{"n":"${id}"}`,
      inputBucket: null,
      inputKey: null,
      maxAttempts: 1,
    });
    let admitted = 0;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        queue.enqueueCommitted(job(`j${i}`), () => {
          // The quota check sees the jobs of the same burst stored before it.
          assert.equal(queue.counts().queued, admitted);
          if (i === 7) throw new Error('over quota');
          admitted += 1;
        }),
      ),
    );
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 49);
    assert.deepEqual(queue.invocationCommits, { commits: 1, steps: 50 });
    const refused = outcomes[7];
    assert.ok(refused?.status === 'rejected' && /over quota/.test(String(refused.reason)));
    assert.equal(queue.get('j7'), null);
    db.close();

    const reopened = openDatabase(path);
    const again = new JobQueue(reopened, { now: () => 1_000_000 }, 'p2');
    assert.equal(again.counts().queued, 49, 'every acknowledged job is on disk');
    assert.equal(again.get('j7'), null);
    assert.equal(again.get('j49')?.event, '{"n":"j49"}');
    reopened.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('outcomes of jobs that end together are stored in one commit, each as complete would store it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-queue-'));
  try {
    const path = join(dir, 'nubes.db');
    const db = openDatabase(path);
    const queue = new JobQueue(db, { now: () => 1_000_000 }, 'p1');
    for (let i = 0; i < 40; i++)
      queue.enqueue({
        id: `j${i}`,
        service: 'svc',
        kind: 'http',
        event: '{}',
        inputBucket: null,
        inputKey: null,
        maxAttempts: 2,
      });
    assert.equal(queue.lease(40, 30_000, () => true).length, 40);
    const timing = { initialBackoffMs: 1000, maxBackoffMs: 60_000 };
    const ended = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        queue.completeCommitted(
          `j${i}`,
          i % 10 === 3
            ? {
                status: 'failed',
                exitCode: null,
                error: { code: 'STORAGE_UNREACHABLE', message: 'try again', retryable: true },
                startedMs: 1_000_000,
                finishedMs: 1_000_100,
              }
            : {
                status: 'succeeded',
                exitCode: 0,
                error: null,
                startedMs: 1_000_000,
                finishedMs: 1_000_200 + i,
              },
          timing,
        ),
      ),
    );
    assert.deepEqual(queue.completionCommits, { commits: 1, steps: 40 });
    assert.equal(ended[3]?.status, 'queued', 'a retryable failure goes back to the queue');
    assert.equal(ended[5]?.status, 'succeeded');
    // A job no longer running (ended already) is left as it is.
    const late = await queue.completeCommitted(
      'j5',
      {
        status: 'failed',
        exitCode: 1,
        error: { code: 'JOB_FAILED', message: 'late', retryable: false },
        startedMs: 1_000_000,
        finishedMs: 1_000_900,
      },
      timing,
    );
    assert.equal(late?.status, 'succeeded');
    db.close();

    const reopened = openDatabase(path);
    const again = new JobQueue(reopened, { now: () => 1_000_000 }, 'p2');
    assert.deepEqual(
      { succeeded: again.counts().succeeded, queued: again.counts().queued },
      { succeeded: 36, queued: 4 },
    );
    assert.equal(again.get('j7')?.finishedMs, 1_000_207);
    reopened.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
