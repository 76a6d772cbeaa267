import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../state/index.js';
import { ADMIN_TENANT } from './accounts.js';
import type { LeasedPartition } from './dispatch.js';
import { Scheduler } from './scheduler.js';
import { ManualClock } from './testing/simulation.js';

interface Fixture {
  scheduler: Scheduler;
  db: Db;
  clock: ManualClock;
  jobId: string;
  leases: LeasedPartition[];
}

function fixture(path: string, partitions: number): Fixture {
  const clock = new ManualClock();
  const db = openDatabase(path);
  const scheduler = new Scheduler({ db, clock });
  scheduler.accounts.createSite({ name: 's' });
  const job = scheduler.submit(ADMIN_TENANT, {
    iterations: 1_000_000,
    partitions,
    reportIntervalSec: 10,
    command: ['x'],
  });
  const leases = scheduler.lease('s', partitions);
  for (const lease of leases) scheduler.start(job.id, lease.index, { token: lease.token });
  return { scheduler, db, clock, jobId: job.id, leases };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-commit-group-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What a job and its partitions hold, for comparing two runs. */
function snapshot(f: Fixture) {
  const job = f.scheduler.requireJob(f.jobId);
  return {
    state: job.state,
    balance: job.balance,
    overrun: job.overrun,
    partitions: f.scheduler.store
      .listPartitions(f.jobId)
      .map((p) => ({ index: p.index, balance: p.balance, lastReportAt: p.lastReportAt })),
    samples: [...f.scheduler.store.timelines(f.jobId).values()].map((list) => list.length),
  };
}

test('reports arriving together commit in one transaction, with the answers direct calls give', async () => {
  await withDir(async (dir) => {
    const direct = fixture(join(dir, 'direct.db'), 20);
    const grouped = fixture(join(dir, 'grouped.db'), 20);
    for (let round = 1; round <= 5; round++) {
      direct.clock.advance(10_000);
      grouped.clock.advance(10_000);
      const expected = direct.leases.map((lease) =>
        direct.scheduler.report(
          direct.jobId,
          lease.index,
          { token: lease.token },
          round * (lease.index + 1) * 500,
          round * 10,
        ),
      );
      const commitsBefore = grouped.scheduler.commits.stats.commits;
      const answers = await Promise.all(
        grouped.leases.map((lease) =>
          grouped.scheduler.grouped(() =>
            grouped.scheduler.report(
              grouped.jobId,
              lease.index,
              { token: lease.token },
              round * (lease.index + 1) * 500,
              round * 10,
            ),
          ),
        ),
      );
      assert.equal(grouped.scheduler.commits.stats.commits - commitsBefore, 1, 'one commit for the round');
      assert.deepEqual(answers, expected);
    }
    assert.deepEqual(snapshot(grouped), snapshot(direct));
    grouped.db.close();
    direct.db.close();
  });
});

test('an answer is handed out only after its commit, which another connection then sees', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'state.db');
    const f = fixture(path, 2);
    const other = openDatabase(path);
    const doneOf = () =>
      other
        .prepare<[string], { done: number }>('SELECT done FROM sched_partitions WHERE job_id = ? AND idx = 0')
        .get(f.jobId)?.done;
    const lease = f.leases[0];
    assert.ok(lease);
    f.clock.advance(10_000);
    let answered = false;
    const pending = f.scheduler
      .grouped(() => f.scheduler.report(f.jobId, lease.index, { token: lease.token }, 4242, 10))
      .then((answer) => {
        answered = true;
        return answer;
      });
    assert.equal(doneOf(), 0, 'not committed while queued');
    await new Promise((resolve) => setImmediate(resolve));
    await pending;
    assert.equal(answered, true);
    assert.equal(doneOf(), 4242, 'committed when answered');
    other.close();
    f.db.close();
  });
});

test('a step that fails rolls back alone; the steps around it in the same commit keep their changes', async () => {
  await withDir(async (dir) => {
    const f = fixture(join(dir, 'state.db'), 3);
    const reference = fixture(join(dir, 'reference.db'), 3);
    const [a, b, c] = f.leases;
    assert.ok(a && b && c);
    f.clock.advance(10_000);
    reference.clock.advance(10_000);
    const results = await Promise.allSettled([
      f.scheduler.grouped(() => f.scheduler.report(f.jobId, a.index, { token: a.token }, 1000, 10)),
      // A stale token: refused before anything changed.
      f.scheduler.grouped(() => f.scheduler.report(f.jobId, b.index, { token: 'nbp_wrong' }, 1000, 10)),
      // A step that changed the job and the partition, then failed: its savepoint undoes both.
      f.scheduler.grouped(() => {
        f.scheduler.report(f.jobId, b.index, { token: b.token }, 5000, 10);
        throw new Error('the step failed after its writes');
      }),
      f.scheduler.grouped(() => f.scheduler.report(f.jobId, c.index, { token: c.token }, 3000, 10)),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
    );
    assert.equal(
      (results[1] as PromiseRejectedResult).reason instanceof Error &&
        ((results[1] as PromiseRejectedResult).reason as { code?: string }).code,
      'LEASE_LOST',
    );
    assert.equal(f.scheduler.commits.stats.commits, 1);
    // The same two reports, made directly, leave the same state: nothing of the failed steps remains.
    const [ra, , rc] = reference.leases;
    assert.ok(ra && rc);
    reference.scheduler.report(reference.jobId, ra.index, { token: ra.token }, 1000, 10);
    reference.scheduler.report(reference.jobId, rc.index, { token: rc.token }, 3000, 10);
    assert.deepEqual(snapshot(f), snapshot(reference));
    f.db.close();
    reference.db.close();
  });
});

test('idempotency keys hold inside a group commit: a replay answers the first answer and changes nothing', async () => {
  await withDir(async (dir) => {
    const f = fixture(join(dir, 'state.db'), 2);
    const lease = f.leases[0];
    assert.ok(lease);
    f.clock.advance(10_000);
    const report = (done: number, hash: string) =>
      f.scheduler.grouped(() =>
        f.scheduler.once('partition:0', 'key-1', hash, () =>
          f.scheduler.report(f.jobId, lease.index, { token: lease.token }, done, 10),
        ),
      );
    // The first call and its replay arrive in the same turn: the replay finds the record in the same transaction.
    const [first, replay] = await Promise.all([report(2000, 'h1'), report(2000, 'h1')]);
    assert.deepEqual(replay, first);
    f.clock.advance(10_000);
    assert.deepEqual(await report(2000, 'h1'), first, 'a later replay too');
    await assert.rejects(
      report(9000, 'h2'),
      (error: { code?: string }) => error.code === 'IDEMPOTENCY_KEY_REUSED',
    );
    const samples = f.scheduler.store.timelines(f.jobId).get(lease.index) ?? [];
    assert.equal(samples.length, 2, 'start and one report: the replays ran nothing');
    assert.equal(f.scheduler.store.getPartition(f.jobId, lease.index)?.balance.done, 2000);
    f.db.close();
  });
});

test('optimistic concurrency holds with the group commit: a write from a stale read changes nothing', async () => {
  await withDir(async (dir) => {
    const f = fixture(join(dir, 'state.db'), 2);
    const lease = f.leases[0];
    assert.ok(lease);
    const outcome = await f.scheduler.grouped(() => {
      const stale = f.scheduler.requireJob(f.jobId);
      f.scheduler.report(f.jobId, lease.index, { token: lease.token }, 100, 1);
      stale.state = 'cancelled';
      return f.scheduler.store.writeJob(stale);
    });
    assert.equal(outcome, false);
    assert.equal(f.scheduler.requireJob(f.jobId).state, 'running');
    // Another connection to the same file sees the job the group committed.
    const other = new Scheduler({ db: openDatabase(join(dir, 'state.db')), clock: f.clock });
    assert.equal(other.requireJob(f.jobId).version, f.scheduler.requireJob(f.jobId).version);
    f.db.close();
  });
});
