/**
 * `npm run bench -- scheduler`: the scheduler against the ideal and against static partitioning.
 *
 * 1. Makespan: one job over 10 simulated workers with speeds drawn from 1x..10x, ±20 % noise per step,
 *    one worker killed at 40 % of the run; the real Scheduler (SQLite file, state machine, balancer) on a
 *    manual clock. Ideal = total work / total speed of the workers that survive (the killed one's work is
 *    lost: its result was never uploaded). Static = equal partitions, no balancing; the killed partition is
 *    re-run from zero by the first worker that frees up after its lease expires. Several seeds.
 * 2. Report throughput with 1,000 partitions: reports through Scheduler.report on a SQLite file (WAL, the
 *    same transaction and optimistic-concurrency path the API uses), and through the HTTP API (real server,
 *    loopback, 32 concurrent clients).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/state/index.js';
import { ADMIN_TENANT, Scheduler } from '../src/scheduler/index.js';
import { ManualClock, seededRandom, simulate, type SimWorker } from '../src/scheduler/testing/simulation.js';
import { startServer } from '../test/support/server-process.js';

const INTERVAL_SEC = 10;
const ITERATIONS = 20_000_000;
const LEASE_SEC = 5 * INTERVAL_SEC;

interface MakespanRow {
  seed: number;
  idealSec: number;
  balancedSec: number;
  staticSec: number;
  vsIdealPct: number;
  shorterThanStaticPct: number;
  computed: number;
}

async function makespan(seed: number, dir: string): Promise<MakespanRow> {
  const random = seededRandom(seed);
  const workers: SimWorker[] = Array.from({ length: 10 }, () => ({
    speed: 1000 * (1 + 9 * random()),
    noise: 0.2,
  }));
  const total = workers.reduce((sum, w) => sum + w.speed, 0);
  const victimIndex = Math.floor(random() * 10);
  const victim = workers[victimIndex];
  if (!victim) throw new Error('no victim');
  const survivors = total - victim.speed;
  const idealSec = ITERATIONS / survivors;
  const killAt = 0.4 * (ITERATIONS / total);
  victim.dieAtSec = killAt;
  const run = simulate({
    iterations: ITERATIONS,
    reportIntervalSec: INTERVAL_SEC,
    workers,
    seed,
    dbPath: join(dir, `makespan-${seed}.db`),
  });
  if (run.state !== 'succeeded') throw new Error(`job ended ${run.state}`);
  // Static: each worker its N/10 at its mean speed; the victim's share restarts from zero on the first worker
  // free after the lease expired.
  const chunk = ITERATIONS / 10;
  const ends = workers.map((w, i) => (i === victimIndex ? Infinity : chunk / w.speed));
  const detected = killAt + LEASE_SEC;
  let best = Infinity;
  workers.forEach((w, i) => {
    if (i === victimIndex) return;
    best = Math.min(best, Math.max(ends[i] ?? Infinity, detected) + chunk / w.speed);
  });
  const staticSec = Math.max(best, ...ends.filter((end) => Number.isFinite(end)));
  return {
    seed,
    idealSec,
    balancedSec: run.makespanSec,
    staticSec,
    vsIdealPct: (100 * (run.makespanSec - idealSec)) / idealSec,
    shorterThanStaticPct: (100 * (staticSec - run.makespanSec)) / staticSec,
    computed: run.finishedDone,
  };
}

async function directReports(dir: string, partitions: number, rounds: number): Promise<number> {
  const clock = new ManualClock();
  const scheduler = new Scheduler({ db: openDatabase(join(dir, 'throughput.db')), clock });
  scheduler.accounts.createSite({ name: 'bench' });
  const job = scheduler.submit(ADMIN_TENANT, {
    iterations: 1e12,
    partitions,
    reportIntervalSec: 10,
    command: ['x'],
  });
  const leases = scheduler.lease('bench', partitions);
  for (const lease of leases) scheduler.start(job.id, lease.index, { token: lease.token });
  const started = performance.now();
  let count = 0;
  for (let round = 1; round <= rounds; round++) {
    clock.advance(10);
    for (const lease of leases) {
      scheduler.report(job.id, lease.index, { token: lease.token }, round * 1000 + lease.index, round * 0.01);
      count++;
    }
  }
  return count / ((performance.now() - started) / 1000);
}

async function httpReports(partitions: number, seconds: number): Promise<number> {
  const server = await startServer();
  try {
    const post = async (path: string, body: unknown) => {
      const response = await server.api(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as Record<string, unknown>;
    };
    const site = (await post('/system/scheduler/sites', { name: 'bench' })) as { token: string };
    const job = (await post('/system/scheduler/jobs', {
      iterations: 1e12,
      partitions,
      reportIntervalSec: 10,
      command: ['x'],
    })) as { id: string };
    const leaseResponse = await fetch(`${server.apiUrl}/system/scheduler/sites/bench/lease`, {
      method: 'POST',
      headers: { authorization: `Bearer ${site.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ slots: partitions }),
    });
    const { partitions: leases } = (await leaseResponse.json()) as {
      partitions: { index: number; token: string }[];
    };
    const call = (lease: { index: number; token: string }, action: string, body: unknown) =>
      fetch(`${server.apiUrl}/system/scheduler/jobs/${job.id}/partitions/${lease.index}/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${lease.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (response) => {
        if (!response.ok) throw new Error(`${action}: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      });
    for (const lease of leases) await call(lease, 'start', {});
    const done = new Array<number>(partitions).fill(0);
    const deadline = performance.now() + seconds * 1000;
    let count = 0;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (performance.now() < deadline) {
          const lease = leases[next++ % leases.length];
          if (!lease) break;
          done[lease.index] = (done[lease.index] ?? 0) + 1000;
          await call(lease, 'report', {
            done: done[lease.index],
            elapsedSec: (performance.now() - started) / 1000,
          });
          count++;
        }
      }),
    );
    return count / ((performance.now() - started) / 1000);
  } finally {
    await server.cleanup();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'nubes-bench-scheduler-'));
try {
  const rows: MakespanRow[] = [];
  for (const seed of [1, 2, 3, 4, 5]) rows.push(await makespan(seed, dir));
  console.log('\nMakespan, 10 workers 1x..10x, ±20 % noise, one killed at 40 %, N = 2e7, report every 10 s');
  console.table(
    rows.map((row) => ({
      seed: row.seed,
      'ideal s': row.idealSec.toFixed(1),
      'balanced s': row.balancedSec.toFixed(1),
      'static s': row.staticSec.toFixed(1),
      'vs ideal': `+${row.vsIdealPct.toFixed(2)} %`,
      'shorter than static': `${row.shorterThanStaticPct.toFixed(1)} %`,
      'iterations computed': row.computed,
    })),
  );
  const worstVsIdeal = Math.max(...rows.map((row) => row.vsIdealPct));
  const worstVsStatic = Math.min(...rows.map((row) => row.shorterThanStaticPct));

  const direct = await directReports(dir, 1000, 30);
  const http = await httpReports(1000, 5);
  console.log('\nReports per second, 1,000 partitions');
  console.table([
    {
      path: 'Scheduler.report on a SQLite file (WAL, one transaction each)',
      'reports/s': Math.round(direct),
    },
    {
      path: 'HTTP API, loopback, 32 concurrent clients (server in its own process)',
      'reports/s': Math.round(http),
    },
  ]);
  const summary = {
    makespan: rows,
    worstVsIdealPct: worstVsIdeal,
    worstShorterThanStaticPct: worstVsStatic,
    reportsPerSecond: { direct, http },
    targets: { vsIdealPct: 5, shorterThanStaticPct: 35, reportsPerSecond: 10_000 },
    met: {
      vsIdeal: worstVsIdeal <= 5,
      vsStatic: worstVsStatic >= 35,
      throughputDirect: direct >= 10_000,
      throughputHttp: http >= 10_000,
    },
  };
  console.log(
    `\nworst vs ideal +${worstVsIdeal.toFixed(2)} % (target <= 5 %), worst vs static ${worstVsStatic.toFixed(1)} % shorter (target >= 35 %)`,
  );
  const resultsDir = new URL('../../bench/results/', import.meta.url).pathname;
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, 'scheduler.json'), JSON.stringify(summary, null, 2) + '\n');
  console.log('written to bench/results/scheduler.json');
} finally {
  await rm(dir, { recursive: true, force: true });
}
