/**
 * @module api/metrics
 * Prometheus metrics (prom-client) in a registry of their own: invocations by service, kind and outcome,
 * their durations, retries, dead letters, queue depth, and the S3 endpoint's requests and bytes.
 * Job outcomes come from the queue's change stream; sync calls from the API's /run responses; S3 traffic
 * from the S3 server's request observer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobChange, JobStats } from '../events/index.js';

/** Buckets of the duration histograms, in seconds: from a trivial script to an hour-long job. */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export type InvocationKind = 'async' | 'sync';
export type InvocationOutcome = 'succeeded' | 'failed' | 'cancelled';

export class PlatformMetrics {
  readonly registry = new Registry();
  private readonly invocations: Counter<'service' | 'kind' | 'outcome'>;
  private readonly duration: Histogram<'service' | 'kind'>;
  private readonly retries: Counter<'service'>;
  private readonly deadLettersTotal: Counter<'service'>;
  private readonly s3Requests: Counter<'method' | 'status'>;
  private readonly s3Bytes: Counter<'direction'>;

  constructor(stats: JobStats) {
    collectDefaultMetrics({ register: this.registry, prefix: 'nubes_' });
    this.invocations = new Counter({
      name: 'nubes_invocations_total',
      help: 'Finished invocations by service, kind (async job or sync call) and outcome',
      labelNames: ['service', 'kind', 'outcome'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'nubes_invocation_duration_seconds',
      help: 'Run time of finished invocations (async: start to end of the last attempt; sync: the whole call)',
      labelNames: ['service', 'kind'],
      buckets: DURATION_BUCKETS,
      registers: [this.registry],
    });
    this.retries = new Counter({
      name: 'nubes_job_retries_total',
      help: 'Failed attempts queued again for a retry',
      labelNames: ['service'],
      registers: [this.registry],
    });
    this.deadLettersTotal = new Counter({
      name: 'nubes_dead_letters_total',
      help: 'Jobs that failed for good (became dead letters)',
      labelNames: ['service'],
      registers: [this.registry],
    });
    const jobsGauge = new Gauge({
      name: 'nubes_jobs',
      help: 'Jobs in the queue by service and status (queued is the queue depth; failed are dead letters)',
      labelNames: ['service', 'status'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [service, counts] of stats.countsByService()) {
          for (const [status, count] of Object.entries(counts)) this.set({ service, status }, count);
        }
      },
    });
    void jobsGauge;
    new Gauge({
      name: 'nubes_queue_depth',
      help: 'Jobs waiting to run, over all services',
      registers: [this.registry],
      collect() {
        let queued = 0;
        for (const counts of stats.countsByService().values()) queued += counts.queued;
        this.set(queued);
      },
    });
    this.s3Requests = new Counter({
      name: 'nubes_s3_requests_total',
      help: 'Requests answered by the S3 endpoint, by method and HTTP status',
      labelNames: ['method', 'status'],
      registers: [this.registry],
    });
    this.s3Bytes = new Counter({
      name: 'nubes_s3_bytes_total',
      help: 'Payload bytes through the S3 endpoint (in: request bodies, out: response bodies)',
      labelNames: ['direction'],
      registers: [this.registry],
    });
  }

  /** Listener for `JobQueue.subscribe`. */
  readonly onJobChange = (change: JobChange): void => {
    const job = change.job;
    if (change.type === 'retrying') this.retries.inc({ service: change.service });
    if (change.type === 'cancelled' && job)
      this.invocations.inc({ service: job.service, kind: 'async', outcome: 'cancelled' });
    if (change.type !== 'finished' && change.type !== 'recovered') return;
    if (!job || (job.status !== 'succeeded' && job.status !== 'failed')) return;
    this.invocations.inc({ service: job.service, kind: 'async', outcome: job.status });
    if (job.startedMs !== null && job.finishedMs !== null) {
      this.duration.observe(
        { service: job.service, kind: 'async' },
        Math.max(0, job.finishedMs - job.startedMs) / 1000,
      );
    }
    if (job.status === 'failed') this.deadLettersTotal.inc({ service: job.service });
  };

  /** Records one sync call. */
  observeSync(service: string, outcome: InvocationOutcome, seconds: number): void {
    this.invocations.inc({ service, kind: 'sync', outcome });
    this.duration.observe({ service, kind: 'sync' }, seconds);
  }

  /** Request observer for the S3 server: counts the request and its payload bytes once it is answered. */
  readonly observeS3Request = (req: IncomingMessage, res: ServerResponse): void => {
    res.once('finish', () => {
      this.s3Requests.inc({ method: req.method ?? 'GET', status: String(res.statusCode) });
      const sentIn = Number(
        req.headers['x-amz-decoded-content-length'] ?? req.headers['content-length'] ?? 0,
      );
      const sentOut = Number(res.getHeader('content-length') ?? 0);
      if (Number.isFinite(sentIn) && sentIn > 0) this.s3Bytes.inc({ direction: 'in' }, sentIn);
      if (Number.isFinite(sentOut) && sentOut > 0 && req.method !== 'HEAD')
        this.s3Bytes.inc({ direction: 'out' }, sentOut);
    });
  };
}
