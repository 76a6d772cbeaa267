/**
 * @module scheduler/testing/simulation
 * Drives the real Scheduler (SQLite, state machine, balancer) with simulated partitions on a manual clock:
 * each simulated worker computes at its own (noisy) speed, reports every report interval, may die or fall
 * silent and come back. Used by the scheduler's tests and by `npm run bench -- scheduler`.
 */
import { openDatabase } from '../../state/index.js';
import { ADMIN_TENANT } from '../accounts.js';
import { Scheduler, type ProtocolAnswer } from '../scheduler.js';
import type { LeasedPartition } from '../dispatch.js';

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public ms = 1_700_000_000_000) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** One simulated worker. */
export interface SimWorker {
  /** Iterations per second. */
  speed: number;
  /** Relative speed noise per step (0.1 = ±10 %). */
  noise?: number;
  /** Seconds after the job starts when the process dies (stops computing and reporting). */
  dieAtSec?: number;
  /** Seconds after the job starts when it stops reporting (keeps computing), and when it reports again. */
  silentFromSec?: number;
  silentUntilSec?: number;
}

export interface SimOptions {
  iterations: number;
  reportIntervalSec: number;
  workers: SimWorker[];
  /** Extra workers (speeds) idle at the start, that take partitions the deadline rule adds. */
  spareWorkers?: SimWorker[];
  deadlineSec?: number;
  /** Simulation step, in seconds. @default reportIntervalSec / 20 */
  stepSec?: number;
  /** Seed of the noise. */
  seed?: number;
  maxSec?: number;
  minLeaseMs?: number;
  dbPath?: string;
}

export interface SimPartitionTrace {
  index: number;
  speed: number;
  finishedAtSec: number | null;
  done: number;
  /** Answers this partition received, in order. */
  answers: (ProtocolAnswer & { atSec: number })[];
}

export interface SimResult {
  jobId: string;
  makespanSec: number;
  state: string;
  partitions: SimPartitionTrace[];
  scheduler: Scheduler;
  clock: ManualClock;
  events: string[];
  /** Σ done over finished partitions. */
  finishedDone: number;
  overrun: number;
  partitionCount: number;
}

/** mulberry32: a small seeded PRNG, so a simulation is reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Running {
  lease: LeasedPartition;
  worker: SimWorker;
  trace: SimPartitionTrace;
  exact: number;
  assigned: number;
  startSec: number;
  nextReportSec: number;
  dead: boolean;
}

/** Runs one job to completion (or `maxSec`) and returns what happened. */
export function simulate(options: SimOptions): SimResult {
  const clock = new ManualClock();
  const db = openDatabase(options.dbPath ?? ':memory:');
  const scheduler = new Scheduler({ db, clock, minLeaseMs: options.minLeaseMs ?? 0, minMissingMs: 0 });
  scheduler.accounts.createSite({ name: 'sim' });
  const random = seededRandom(options.seed ?? 1);
  const job = scheduler.submit(ADMIN_TENANT, {
    iterations: options.iterations,
    partitions: options.workers.length,
    reportIntervalSec: options.reportIntervalSec,
    command: ['sim'],
    ...(options.deadlineSec === undefined ? {} : { deadlineSec: options.deadlineSec }),
  });
  const t0 = clock.now();
  const nowSec = () => (clock.now() - t0) / 1000;
  const stepSec = options.stepSec ?? options.reportIntervalSec / 20;
  const maxSec = options.maxSec ?? 1e6;
  const idle: SimWorker[] = [...options.workers];
  const spare = [...(options.spareWorkers ?? [])];
  const running: Running[] = [];
  const traces: SimPartitionTrace[] = [];
  const events: string[] = [];
  let nextTickSec = 0;

  const dispatch = () => {
    const free = [...idle, ...spare];
    if (free.length === 0) return;
    for (const lease of scheduler.lease('sim', free.length)) {
      const worker = idle.shift() ?? spare.shift();
      if (!worker) break;
      const trace: SimPartitionTrace = {
        index: lease.index,
        speed: worker.speed,
        finishedAtSec: null,
        done: 0,
        answers: [],
      };
      traces.push(trace);
      const answer = scheduler.start(job.id, lease.index, { token: lease.token });
      trace.answers.push({ ...answer, atSec: nowSec() });
      running.push({
        lease,
        worker,
        trace,
        exact: 0,
        assigned: answer.assigned,
        startSec: nowSec(),
        nextReportSec: nowSec() + answer.nextReportSec,
        dead: false,
      });
      events.push(`${nowSec().toFixed(2)} start p${lease.index} assigned ${answer.assigned}`);
    }
  };

  dispatch();
  while (nowSec() < maxSec) {
    const current = scheduler.store.getJob(job.id);
    if (!current || ['succeeded', 'failed', 'cancelled', 'expired'].includes(current.state)) break;
    clock.advance(Math.round(stepSec * 1000));
    const t = nowSec();
    for (const run of [...running]) {
      const w = run.worker;
      if (run.dead) continue;
      if (w.dieAtSec !== undefined && t >= w.dieAtSec) {
        run.dead = true;
        events.push(`${t.toFixed(2)} p${run.lease.index} dies at ${Math.floor(run.exact)}`);
        continue;
      }
      const noise = w.noise ?? 0;
      const rate = w.speed * (1 + noise * (2 * random() - 1));
      run.exact = Math.min(run.assigned, run.exact + rate * stepSec);
      const done = Math.floor(run.exact);
      const silent =
        w.silentFromSec !== undefined && t >= w.silentFromSec && t < (w.silentUntilSec ?? Infinity);
      // Cut off from the network: keeps computing its last assignment, cannot report.
      if (silent) continue;
      const elapsed = t - run.startSec;
      let answer: ProtocolAnswer;
      try {
        if (done >= run.assigned) {
          answer = scheduler.report(job.id, run.lease.index, { token: run.lease.token }, done, elapsed);
          if (answer.stop || answer.assigned <= done) {
            answer = scheduler.finish(job.id, run.lease.index, { token: run.lease.token }, done, elapsed, {
              done,
            });
            run.trace.finishedAtSec = t;
            run.trace.done = done;
            running.splice(running.indexOf(run), 1);
            idle.push(w);
            events.push(`${t.toFixed(2)} finish p${run.lease.index} done ${done}`);
          }
        } else if (t >= run.nextReportSec) {
          answer = scheduler.report(job.id, run.lease.index, { token: run.lease.token }, done, elapsed);
        } else continue;
      } catch (error) {
        // A lease that was lost (the partition was handed out again): the process gives up.
        events.push(`${t.toFixed(2)} p${run.lease.index} rejected: ${(error as Error).message}`);
        run.dead = true;
        continue;
      }
      run.trace.answers.push({ ...answer, atSec: t });
      run.trace.done = done;
      run.assigned = answer.assigned;
      run.nextReportSec = t + answer.nextReportSec;
      if (answer.stop && run.trace.finishedAtSec === null && done >= answer.assigned) {
        // Told to stop its share: it finishes at the next step.
        run.assigned = done;
      }
    }
    if (t >= nextTickSec) {
      const changes = scheduler.tick();
      if (changes.missing + changes.requeued > 0)
        events.push(`${t.toFixed(2)} tick ${JSON.stringify(changes)}`);
      nextTickSec = t + options.reportIntervalSec / 4;
    }
    dispatch();
  }
  const final = scheduler.store.getJob(job.id);
  return {
    jobId: job.id,
    makespanSec: Math.max(0, ...traces.map((trace) => trace.finishedAtSec ?? 0)),
    state: final?.state ?? 'missing',
    partitions: traces,
    scheduler,
    clock,
    events,
    finishedDone: final?.balance.finishedDone ?? 0,
    overrun: final?.overrun ?? 0,
    partitionCount: final?.partitionCount ?? 0,
  };
}
