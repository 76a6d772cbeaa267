import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../state/index.js';
import { ADMIN_TENANT } from './accounts.js';
import { Scheduler } from './scheduler.js';
import { ManualClock, seededRandom, simulate, type SimWorker } from './testing/simulation.js';

const INTERVAL_SEC = 10;

function heterogeneous(seed: number): SimWorker[] {
  const random = seededRandom(seed);
  // Speeds 10x apart: 100..1000 iterations per second, shuffled, with ±15 % noise per step.
  const speeds = Array.from({ length: 10 }, (_, i) => 100 * (i + 1)).sort(() => random() - 0.5);
  return speeds.map((speed) => ({ speed, noise: 0.15 }));
}

test('10 partitions whose speeds differ 10x finish within one report interval of each other', () => {
  const run = simulate({
    iterations: 2_750_000,
    reportIntervalSec: INTERVAL_SEC,
    workers: heterogeneous(1),
    seed: 2,
  });
  assert.equal(run.state, 'succeeded');
  const finishes = run.partitions.map((p) => p.finishedAtSec ?? Infinity);
  assert.equal(finishes.length, 10);
  const spread = Math.max(...finishes) - Math.min(...finishes);
  assert.ok(spread <= INTERVAL_SEC, `finish times spread over ${spread} s: ${finishes.join(', ')}`);
  // Exactly N iterations computed: nobody worked on a share someone else also did.
  assert.equal(run.finishedDone, 2_750_000);
  assert.equal(run.overrun, 0);
  // The fastest partition did about 10x the slowest one's work.
  const byspeed = [...run.partitions].sort((a, b) => a.speed - b.speed);
  const ratio = (byspeed[9]?.done ?? 0) / (byspeed[0]?.done ?? 1);
  assert.ok(ratio > 7 && ratio < 13, `work ratio fastest/slowest ${ratio}`);
});

test('a partition killed mid-run is detected as missing and its work is finished by the others', () => {
  const workers = heterogeneous(3);
  const victim = workers[4];
  assert.ok(victim);
  victim.dieAtSec = 150;
  const run = simulate({ iterations: 2_750_000, reportIntervalSec: INTERVAL_SEC, workers, seed: 4 });
  assert.equal(run.state, 'succeeded');
  assert.ok(
    run.events.some((line) => /tick \{"missing":1/.test(line)),
    run.events.join('\n'),
  );
  assert.equal(run.finishedDone, 2_750_000);
  const dead = run.partitions.find((p) => p.speed === victim.speed);
  assert.equal(dead?.finishedAtSec, null);
  assert.ok(
    run.events.some((line) => /tick \{"missing":0,"requeued":1/.test(line)),
    'its lease expired',
  );
  // The survivors absorbed its share (and the work it lost) and still finished together.
  const finishes = run.partitions.flatMap((p) =>
    p.finishedAtSec === null || p.done === 0 ? [] : [p.finishedAtSec],
  );
  // The 9 survivors, and the partition's second attempt when a survivor freed up near the end.
  assert.ok(finishes.length >= 9, `${finishes.length} partitions finished`);
  assert.ok(Math.max(...finishes) - Math.min(...finishes) <= INTERVAL_SEC);
  const survivors = workers.filter((w) => w !== victim).reduce((sum, w) => sum + w.speed, 0);
  assert.ok(
    Math.max(...finishes) <= (2_750_000 / survivors) * 1.05,
    'within 5 % of the survivors-only ideal',
  );
});

test('a partition that falls silent loses its share, and is told to stop when it comes back', () => {
  const workers = heterogeneous(5);
  const flaky = workers[2];
  assert.ok(flaky);
  // Silent for 3 report intervals: past the missing window (2 intervals), within its lease (5 intervals).
  flaky.silentFromSec = 100;
  flaky.silentUntilSec = 130;
  const run = simulate({ iterations: 2_750_000, reportIntervalSec: INTERVAL_SEC, workers, seed: 6 });
  assert.equal(run.state, 'succeeded');
  const trace = run.partitions.find((p) => p.speed === flaky.speed);
  assert.ok(trace);
  const before = [...trace.answers].reverse().find((answer) => answer.atSec < 100);
  const back = trace.answers.find((answer) => answer.atSec >= 130);
  assert.ok(before && back, 'it reported before and after');
  assert.equal(back.stop, true);
  assert.equal(back.assigned, back.done, 'its assignment is what it has already done');
  assert.ok(back.assigned < before.assigned, 'the share it had was taken back');
  // Its work while presumed gone was kept only where nobody had taken it over; the rest is reported as overrun.
  assert.ok(run.finishedDone >= 2_750_000);
  assert.equal(run.finishedDone - run.overrun <= 2_750_000, true);
});

test('the deadline rule adds partitions when the forecast misses the deadline', () => {
  // Two slow workers cannot make it in 300 s (ideal 500 s); spare workers pick up the added partitions.
  const workers: SimWorker[] = [{ speed: 1000 }, { speed: 1000 }];
  const spare: SimWorker[] = Array.from({ length: 6 }, () => ({ speed: 1000 }));
  const run = simulate({
    iterations: 1_000_000,
    reportIntervalSec: INTERVAL_SEC,
    workers,
    spareWorkers: spare,
    deadlineSec: 300,
  });
  assert.equal(run.state, 'succeeded');
  assert.ok(run.partitionCount > 2, `partitions: ${run.partitionCount}`);
  assert.ok(run.makespanSec <= 300 + INTERVAL_SEC, `makespan ${run.makespanSec}`);
  assert.equal(run.finishedDone, 1_000_000);
});

test('the deadline rule stays within the tenant quota', () => {
  const clock = new ManualClock();
  const scheduler = new Scheduler({ db: openDatabase(':memory:'), clock, minLeaseMs: 0, minMissingMs: 0 });
  scheduler.accounts.createTenant({ name: 'lab', maxPartitions: 3 });
  scheduler.accounts.createSite({ name: 's' });
  const job = scheduler.submit('lab', {
    iterations: 1_000_000,
    partitions: 2,
    deadlineSec: 100,
    reportIntervalSec: 10,
    command: ['x'],
  });
  const leases = scheduler.lease('s', 2);
  for (const lease of leases) scheduler.start(job.id, lease.index, { token: lease.token });
  for (let round = 1; round <= 3; round++) {
    clock.advance(10_000);
    for (const lease of leases)
      scheduler.report(job.id, lease.index, { token: lease.token }, round * 1000, round * 10);
  }
  assert.equal(scheduler.requireJob(job.id).partitionCount, 3);
  assert.throws(
    () => scheduler.submit('lab', { iterations: 10, partitions: 2, command: ['x'] }),
    (error: { code?: string }) => error.code === 'QUOTA_EXCEEDED',
  );
});

test('a lease that expires puts the partition back; the old token is refused and another site runs it', () => {
  const clock = new ManualClock();
  const scheduler = new Scheduler({ db: openDatabase(':memory:'), clock, minLeaseMs: 0, minMissingMs: 0 });
  scheduler.accounts.createSite({ name: 'a' });
  scheduler.accounts.createSite({ name: 'b' });
  const job = scheduler.submit(ADMIN_TENANT, {
    iterations: 1000,
    partitions: 1,
    reportIntervalSec: 1,
    command: ['x'],
  });
  const [first] = scheduler.lease('a', 4);
  assert.ok(first);
  assert.equal(scheduler.lease('b', 4).length, 0, 'nothing else is queued');
  scheduler.start(job.id, 0, { token: first.token });
  scheduler.report(job.id, 0, { token: first.token }, 100, 1);
  clock.advance(2_500);
  assert.deepEqual(scheduler.tick(), { missing: 1, requeued: 0, expired: 0 });
  clock.advance(3_000);
  assert.deepEqual(scheduler.tick(), { missing: 0, requeued: 1, expired: 0 });
  const [second] = scheduler.lease('b', 4);
  assert.ok(second);
  assert.equal(second.index, 0);
  assert.equal(second.attempt, 1);
  assert.throws(
    () => scheduler.report(job.id, 0, { token: first.token }, 200, 2),
    (error: { code?: string }) => error.code === 'LEASE_LOST',
  );
  const started = scheduler.start(job.id, 0, { token: second.token });
  assert.equal(started.assigned, 1000, 'the lost work is assigned again');
  const done = scheduler.finish(job.id, 0, { site: 'b' }, 1000, 5, { hits: 1 });
  assert.equal(done.stop, true);
  assert.equal(scheduler.requireJob(job.id).state, 'succeeded');
});

test('dispatch is FIFO within a tenant and fair across tenants', () => {
  const clock = new ManualClock();
  const scheduler = new Scheduler({ db: openDatabase(':memory:'), clock });
  scheduler.accounts.createTenant({ name: 'big' });
  scheduler.accounts.createTenant({ name: 'small' });
  scheduler.accounts.createSite({ name: 's' });
  const older = scheduler.submit('big', { iterations: 100, partitions: 4, command: ['x'] });
  clock.advance(1);
  const newer = scheduler.submit('big', { iterations: 100, partitions: 4, command: ['x'] });
  clock.advance(1);
  const other = scheduler.submit('small', { iterations: 100, partitions: 2, command: ['x'] });
  const leases = scheduler
    .lease('s', 6)
    .map(
      (lease) =>
        `${lease.jobId === older.id ? 'old' : lease.jobId === newer.id ? 'new' : 'small'}${lease.index}`,
    );
  assert.deepEqual(leases, ['old0', 'small0', 'old1', 'small1', 'old2', 'old3']);
  void other;
});

test('a failing partition is retried, then fails the job with its exit code and log', () => {
  const clock = new ManualClock();
  const scheduler = new Scheduler({ db: openDatabase(':memory:'), clock });
  scheduler.accounts.createSite({ name: 's' });
  const job = scheduler.submit(ADMIN_TENANT, {
    iterations: 10,
    partitions: 1,
    maxAttempts: 2,
    command: ['x'],
  });
  for (let attempt = 0; attempt < 2; attempt++) {
    const [lease] = scheduler.lease('s', 1);
    assert.equal(lease?.attempt, attempt);
    scheduler.fail(job.id, 0, { site: 's' }, { exitCode: 3, log: `boom ${attempt}` });
  }
  const failed = scheduler.requireJob(job.id);
  assert.equal(failed.state, 'failed');
  assert.deepEqual((failed.error as { exitCode: number; log: string }).exitCode, 3);
  assert.equal((failed.error as { log: string }).log, 'boom 1');
});

test('a cancelled job tells its partitions to stop; another tenant cannot see it', () => {
  const clock = new ManualClock();
  const scheduler = new Scheduler({ db: openDatabase(':memory:'), clock });
  scheduler.accounts.createTenant({ name: 'x' });
  scheduler.accounts.createTenant({ name: 'y' });
  scheduler.accounts.createSite({ name: 's' });
  const job = scheduler.submit('x', { iterations: 1000, partitions: 2, command: ['x'] });
  const [lease] = scheduler.lease('s', 1);
  assert.ok(lease);
  scheduler.start(job.id, lease.index, { token: lease.token });
  assert.throws(
    () => scheduler.cancel(job.id, 'y'),
    (error: { code?: string }) => error.code === 'JOB_NOT_FOUND',
  );
  assert.equal(scheduler.cancel(job.id, 'x').state, 'cancelled');
  const answer = scheduler.report(job.id, lease.index, { token: lease.token }, 10, 1);
  assert.equal(answer.stop, true);
  assert.equal(scheduler.lease('s', 5).length, 0);
});
