/**
 * @module scheduler/client
 * A small client for the scheduler's JSON API: `PartitionClient` for a scientific code reporting progress
 * from its own loop, `SiteClient` for a site agent. Dependency-free (Node's fetch). Every POST carries an
 * idempotency key, so a retried request after a lost answer changes nothing twice.
 */
import { randomUUID } from 'node:crypto';
import { PlatformError, isErrorCode } from '../core/index.js';

/** The answer to start, report and finish. */
export interface PartitionAnswer {
  assigned: number;
  done: number;
  etaSec: number | null;
  nextReportSec: number;
  stop: boolean;
  jobState: string;
}

/** A partition as a site receives it from a lease. */
export interface LeaseInfo {
  jobId: string;
  index: number;
  attempt: number;
  token: string;
  tenant: string;
  command: string[] | null;
  script: string | null;
  input: Record<string, unknown>;
  iterations: number;
  reportIntervalSec: number;
  leaseUntil: string;
  lbPath: string;
}

const RETRIES = 4;

async function post<T>(
  url: string,
  token: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const key = randomUUID();
  let lastError: unknown;
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': key,
          ...headers,
        },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      if (response.ok) return (text === '' ? undefined : JSON.parse(text)) as T;
      const error = (JSON.parse(text || '{}') as { error?: { code?: string; message?: string } }).error;
      const code = error?.code !== undefined && isErrorCode(error.code) ? error.code : 'INTERNAL';
      const failure = new PlatformError(code, error?.message ?? `HTTP ${response.status}`);
      if (!failure.retryable) throw failure;
      lastError = failure;
    } catch (error) {
      if (error instanceof PlatformError && !error.retryable) throw error;
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
  }
  throw lastError instanceof Error ? lastError : new PlatformError('UNAVAILABLE', String(lastError));
}

/** Progress reporting for one partition. */
export class PartitionClient {
  private readonly base: string;
  private readonly startedAt = performance.now();

  constructor(
    apiUrl: string,
    readonly jobId: string,
    readonly index: number,
    private readonly token: string,
  ) {
    this.base = `${apiUrl.replace(/\/$/, '')}/system/scheduler/jobs/${encodeURIComponent(jobId)}/partitions/${index}`;
  }

  /** The partition the site agent started this process for (NUBES_API_URL, NUBES_JOB_ID, …). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): PartitionClient {
    const need = (name: string): string => {
      const value = env[name];
      if (value === undefined || value === '')
        throw new PlatformError('CONFIG_INVALID', `${name} is not set: run this under \`nubes worker\``);
      return value;
    };
    return new PartitionClient(
      need('NUBES_API_URL'),
      need('NUBES_JOB_ID'),
      Number(need('NUBES_PARTITION')),
      need('NUBES_PARTITION_TOKEN'),
    );
  }

  /** Seconds since this client was created (the partition's own clock). */
  elapsedSec(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  start(): Promise<PartitionAnswer> {
    return post(`${this.base}/start`, this.token, {});
  }

  report(done: number, elapsedSec = this.elapsedSec()): Promise<PartitionAnswer> {
    return post(`${this.base}/report`, this.token, { done, elapsedSec });
  }

  finish(done: number, result?: unknown, elapsedSec = this.elapsedSec()): Promise<PartitionAnswer> {
    return post(`${this.base}/finish`, this.token, {
      done,
      elapsedSec,
      ...(result === undefined ? {} : { result }),
    });
  }

  /**
   * The whole protocol around a compute function: `work(from, to)` computes iterations [from, to) and
   * returns a partial result; partial results are combined with `combine`. Reports every report interval,
   * follows the assignment as it changes, finishes with the combined result.
   */
  async run<R>(
    work: (from: number, to: number) => R,
    combine: (a: R, b: R) => R,
    empty: R,
    chunk = 1000,
  ): Promise<{ done: number; result: R }> {
    let answer = await this.start();
    let done = 0;
    let result = empty;
    let nextReport = this.elapsedSec() + answer.nextReportSec;
    for (;;) {
      while (done < answer.assigned && this.elapsedSec() < nextReport) {
        const to = Math.min(answer.assigned, done + chunk);
        result = combine(result, work(done, to));
        done = to;
      }
      answer = await this.report(done);
      nextReport = this.elapsedSec() + answer.nextReportSec;
      if (done >= answer.assigned || answer.stop) break;
    }
    await this.finish(done, result);
    return { done, result };
  }
}

/** A site agent's calls. */
export class SiteClient {
  private readonly base: string;

  constructor(
    readonly apiUrl: string,
    readonly site: string,
    private readonly token: string,
  ) {
    this.base = `${apiUrl.replace(/\/$/, '')}/system/scheduler/sites/${encodeURIComponent(site)}`;
  }

  register(slots: number): Promise<{ heartbeatSec: number }> {
    return post(`${this.base}/register`, this.token, { slots });
  }

  async lease(slots: number): Promise<LeaseInfo[]> {
    return (await post<{ partitions: LeaseInfo[] }>(`${this.base}/lease`, this.token, { slots })).partitions;
  }

  async heartbeat(
    slots: number,
    partitions: { jobId: string; index: number }[],
  ): Promise<{ jobId: string; index: number }[]> {
    return (
      await post<{ stop: { jobId: string; index: number }[] }>(`${this.base}/heartbeat`, this.token, {
        slots,
        partitions,
      })
    ).stop;
  }

  /** Reports a partition's failed process (the site speaks for it with its own token). */
  async fail(jobId: string, index: number, exitCode: number | null, log: string): Promise<void> {
    await post(
      `${this.apiUrl.replace(/\/$/, '')}/system/scheduler/jobs/${encodeURIComponent(jobId)}/partitions/${index}/fail`,
      this.token,
      { exitCode, log },
      { 'x-nubes-site': this.site },
    );
  }
}
