/**
 * @module events/job-stats
 * Aggregates over the jobs table for dashboards and metrics: counts per service and status, jobs finished
 * per minute, the distribution of durations, and a sampled history of queue depth.
 */
import type { Statement } from 'better-sqlite3';
import type { Clock } from '../core/index.js';
import type { Db } from '../state/index.js';
import type { JobStatus } from './job-queue.js';

export type StatusCounts = Record<JobStatus, number>;

/** Upper bounds (seconds) of the duration buckets; the last bucket is open-ended. */
export const DURATION_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600] as const;

export interface MinuteCount {
  /** Start of the minute, epoch ms. */
  minuteMs: number;
  succeeded: number;
  failed: number;
}

export interface DepthSample {
  timeMs: number;
  queued: number;
  running: number;
}

export interface JobStatsOptions {
  /** How often queue depth is sampled. @default 5000 */
  sampleEveryMs?: number;
  /** Samples kept per service (the history's length). @default 720 (an hour at 5 s) */
  keepSamples?: number;
}

function emptyCounts(): StatusCounts {
  return { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
}

export class JobStats {
  private readonly countsStatement: Statement;
  private readonly perMinuteStatement: Statement;
  private readonly durationsStatement: Statement;
  private readonly depth = new Map<string, DepthSample[]>();
  private readonly keepSamples: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    db: Db,
    private readonly clock: Clock,
    private readonly options: JobStatsOptions = {},
  ) {
    this.keepSamples = options.keepSamples ?? 720;
    this.countsStatement = db.prepare(
      `SELECT service, status, COUNT(*) AS n FROM jobs GROUP BY service, status`,
    );
    this.perMinuteStatement = db.prepare(
      `SELECT (finished_at / 60000) * 60000 AS minute, status, COUNT(*) AS n FROM jobs
       WHERE service = ? AND finished_at >= ? AND status IN ('succeeded', 'failed')
       GROUP BY minute, status ORDER BY minute`,
    );
    this.durationsStatement = db.prepare(
      `SELECT finished_at - started_at AS ms FROM jobs
       WHERE service = ? AND finished_at >= ? AND started_at IS NOT NULL AND status IN ('succeeded', 'failed')`,
    );
  }

  /** Starts sampling queue depth in the background. */
  start(): void {
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.options.sampleEveryMs ?? 5000);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Job counts by status, per service (services without jobs are absent). */
  countsByService(): Map<string, StatusCounts> {
    const result = new Map<string, StatusCounts>();
    const rows = this.countsStatement.all() as { service: string; status: JobStatus; n: number }[];
    for (const row of rows) {
      let counts = result.get(row.service);
      if (!counts) {
        counts = emptyCounts();
        result.set(row.service, counts);
      }
      counts[row.status] = row.n;
    }
    return result;
  }

  /** Finished jobs per minute over the last `minutes` minutes, every minute present (zeros included). */
  perMinute(service: string, minutes: number): MinuteCount[] {
    const now = this.clock.now();
    const firstMinute = Math.floor(now / 60_000) * 60_000 - (minutes - 1) * 60_000;
    const byMinute = new Map<number, MinuteCount>();
    for (let i = 0; i < minutes; i++) {
      const minuteMs = firstMinute + i * 60_000;
      byMinute.set(minuteMs, { minuteMs, succeeded: 0, failed: 0 });
    }
    const rows = this.perMinuteStatement.all(service, firstMinute) as {
      minute: number;
      status: 'succeeded' | 'failed';
      n: number;
    }[];
    for (const row of rows) {
      const entry = byMinute.get(row.minute);
      if (entry) entry[row.status] += row.n;
    }
    return [...byMinute.values()];
  }

  /** How many jobs finished in the last `minutes` took at most each bucket's bound (non-cumulative). */
  durations(service: string, minutes: number): { leSeconds: number | null; count: number }[] {
    const since = this.clock.now() - minutes * 60_000;
    const counts = new Array<number>(DURATION_BUCKETS_SECONDS.length + 1).fill(0);
    for (const row of this.durationsStatement.iterate(service, since) as Iterable<{ ms: number }>) {
      const seconds = row.ms / 1000;
      let index = DURATION_BUCKETS_SECONDS.findIndex((bound) => seconds <= bound);
      if (index < 0) index = DURATION_BUCKETS_SECONDS.length;
      counts[index] = (counts[index] ?? 0) + 1;
    }
    return counts.map((count, index) => ({ leSeconds: DURATION_BUCKETS_SECONDS[index] ?? null, count }));
  }

  /** The sampled queue depth of a service, oldest first. */
  depthHistory(service: string): DepthSample[] {
    return [...(this.depth.get(service) ?? [])];
  }

  /** Records one depth sample per service that has or had jobs. */
  sample(): void {
    const timeMs = this.clock.now();
    const counts = this.countsByService();
    const services = new Set([...counts.keys(), ...this.depth.keys()]);
    for (const service of services) {
      const current = counts.get(service);
      let history = this.depth.get(service);
      if (!history) {
        history = [];
        this.depth.set(service, history);
      }
      history.push({ timeMs, queued: current?.queued ?? 0, running: current?.running ?? 0 });
      if (history.length > this.keepSamples) history.splice(0, history.length - this.keepSamples);
      if (!current && history.every((s) => s.queued === 0 && s.running === 0)) this.depth.delete(service);
    }
  }
}
