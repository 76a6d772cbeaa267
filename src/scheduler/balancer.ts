/**
 * @module scheduler/balancer
 * The balancing rule, as pure functions over a job's aggregates and one partition. RUPER-LB's idea (split
 * the remaining iterations in proportion to measured speed so that every partition finishes together)
 * without its weaknesses: speeds are smoothed, not the last sample; a report reads and writes one partition
 * and the job's running sums, never the whole partition list; the sum of assignments never grows past the
 * job's iterations (a partition only grows into the unclaimed pool), so a run that loses nobody computes
 * exactly N iterations; a silent partition's share is revoked and taken back from it if it returns; a
 * near-zero speed is not trusted until it persists.
 *
 * Times are seconds since the job's epoch (floats), so `speed × time` sums keep their precision.
 */

/** Per-partition lifecycle. `queued` and `leased` hold no iterations; assignment starts at `start`. */
export type PartitionState = 'queued' | 'leased' | 'started' | 'reporting' | 'missing' | 'finished';

/** What the balancer needs of one partition. */
export interface PartitionBalance {
  state: PartitionState;
  /** Iterations this partition must reach (cumulative). */
  assigned: number;
  /** Iterations it has reported done (cumulative). */
  done: number;
  /** Smoothed speed, iterations per second (0 before the first measurement). */
  speed: number;
  /** Whether `speed` is used for the split (see `trustReports`). */
  trusted: boolean;
  /** Server time of the last start/report, seconds since the job's epoch. */
  lastReportSec: number;
  /** The partition's own elapsed time at its last report (its clock, not ours). */
  lastElapsedSec: number;
  /** Consecutive reports whose speed looked near zero. */
  slowReports: number;
}

/**
 * A job's running sums over its partitions. Each partition contributes according to its state
 * (`contribution`), so a change to one partition updates the sums in O(1).
 */
export interface JobBalance {
  iterations: number;
  /** Σ done over started, reporting, missing and finished partitions. */
  sumDone: number;
  /** Σ assigned over the same. */
  sumAssigned: number;
  /** Σ speed over trusted active partitions. */
  sumSpeed: number;
  /** Σ speed × lastReportSec over trusted active partitions (for the progress forecast). */
  sumSpeedTime: number;
  /** Σ (assigned − done) over untrusted active partitions: work held back for them. */
  reserved: number;
  /** Partitions started or reporting. */
  active: number;
  /** Active partitions whose speed is trusted. */
  trusted: number;
  /** Partitions queued or leased (not started). */
  pending: number;
  missing: number;
  finished: number;
  /** Σ done over finished partitions. */
  finishedDone: number;
}

/** Tuning of the rule, fully resolved. */
export interface BalancerParams {
  /** The report interval handed to partitions. */
  reportIntervalSec: number;
  /** Weight of a new speed sample in the moving average (0..1]. */
  smoothing: number;
  /** Below this fraction of the job's mean speed, a speed sample is "near zero". */
  nearZeroFraction: number;
  /** After this many consecutive near-zero reports, the slow speed is believed. */
  trustSlowAfterReports: number;
  /** No reassignment once the forecast ETA is below this (RUPER-LB: half the missing threshold). */
  tailFreezeSec: number;
}

export const DEFAULT_BALANCER_PARAMS: Omit<BalancerParams, 'reportIntervalSec' | 'tailFreezeSec'> = {
  smoothing: 0.5,
  nearZeroFraction: 0.02,
  trustSlowAfterReports: 3,
};

/** Resolves the params for a report interval: the tail freeze is one report interval. */
export function balancerParams(reportIntervalSec: number): BalancerParams {
  return { ...DEFAULT_BALANCER_PARAMS, reportIntervalSec, tailFreezeSec: reportIntervalSec };
}

export function emptyJobBalance(iterations: number): JobBalance {
  return {
    iterations,
    sumDone: 0,
    sumAssigned: 0,
    sumSpeed: 0,
    sumSpeedTime: 0,
    reserved: 0,
    active: 0,
    trusted: 0,
    pending: 0,
    missing: 0,
    finished: 0,
    finishedDone: 0,
  };
}

export function newPartitionBalance(): PartitionBalance {
  return {
    state: 'queued',
    assigned: 0,
    done: 0,
    speed: 0,
    trusted: false,
    lastReportSec: 0,
    lastElapsedSec: 0,
    slowReports: 0,
  };
}

/** One partition's share of each sum, by its state. A partition being removed contributes nothing. */
export function contribution(part: PartitionBalance | null): JobBalance {
  const c = emptyJobBalance(0);
  if (part === null) return c;
  switch (part.state) {
    case 'queued':
    case 'leased':
      c.pending = 1;
      return c;
    case 'started':
    case 'reporting':
      c.sumDone = part.done;
      c.sumAssigned = part.assigned;
      c.active = 1;
      if (part.trusted) {
        c.sumSpeed = part.speed;
        c.sumSpeedTime = part.speed * part.lastReportSec;
        c.trusted = 1;
      } else {
        c.reserved = Math.max(0, part.assigned - part.done);
      }
      return c;
    case 'missing':
      c.sumDone = part.done;
      c.sumAssigned = part.assigned;
      c.missing = 1;
      return c;
    case 'finished':
      c.sumDone = part.done;
      c.sumAssigned = part.assigned;
      c.finished = 1;
      c.finishedDone = part.done;
      return c;
  }
}

const SUM_KEYS = [
  'sumDone',
  'sumAssigned',
  'sumSpeed',
  'sumSpeedTime',
  'reserved',
  'active',
  'trusted',
  'pending',
  'missing',
  'finished',
  'finishedDone',
] as const;

/** The job's sums after one partition changed from `before` to `after` (either may be null: created/removed). */
export function applyChange(
  job: JobBalance,
  before: PartitionBalance | null,
  after: PartitionBalance | null,
): JobBalance {
  const out = { ...job };
  const old = contribution(before);
  const next = contribution(after);
  for (const key of SUM_KEYS) out[key] = out[key] - old[key] + next[key];
  // Float sums can drift a hair below zero after many adds and removes.
  if (out.sumSpeed < 1e-12) out.sumSpeed = Math.max(0, out.sumSpeed);
  if (out.reserved < 0) out.reserved = 0;
  return out;
}

/** What the forecast says at `nowSec`. */
export interface Forecast {
  /** Iterations predicted done now (reported plus trusted partitions' progress since their report). */
  predictedDone: number;
  /** Iterations nobody is predicted to have done nor holds in reserve. */
  remaining: number;
  /** Seconds until `remaining` is done at the trusted speed; null when no speed is known. */
  etaSec: number | null;
  /** Iterations nobody is assigned (can only grow a partition from here). */
  pool: number;
  /**
   * The horizon shares are cut to: as `etaSec`, but counting partitions not yet started (queued, leased) at
   * the mean speed, so that running partitions leave them their share instead of taking all of it.
   */
  shareEtaSec: number | null;
}

export function forecast(job: JobBalance, nowSec: number): Forecast {
  const predictedDone = job.sumDone + Math.max(0, nowSec * job.sumSpeed - job.sumSpeedTime);
  const remaining = Math.max(0, job.iterations - predictedDone - job.reserved);
  const etaSec = job.sumSpeed > 0 ? remaining / job.sumSpeed : remaining === 0 ? 0 : null;
  const mean = job.trusted > 0 ? job.sumSpeed / job.trusted : 0;
  const shareSpeed = job.sumSpeed + mean * job.pending;
  const shareEtaSec = shareSpeed > 0 ? remaining / shareSpeed : etaSec;
  return {
    predictedDone,
    remaining,
    etaSec,
    pool: Math.max(0, job.iterations - job.sumAssigned),
    shareEtaSec,
  };
}

/** The answer a partition receives. */
export interface Assignment {
  assigned: number;
  etaSec: number | null;
  nextReportSec: number;
  /** True when the partition has done all it is assigned and must finish now. */
  stop: boolean;
}

/** The result of a protocol step: the new partition, the new job sums, the answer. */
export interface Step {
  job: JobBalance;
  part: PartitionBalance;
  answer: Assignment;
  /** Iterations done beyond what could be assigned (a revoked partition that kept working). */
  overrun: number;
}

function answerFor(
  job: JobBalance,
  part: PartitionBalance,
  params: BalancerParams,
  nowSec: number,
): Assignment {
  const { etaSec } = forecast(job, nowSec);
  return {
    assigned: part.assigned,
    etaSec,
    nextReportSec: params.reportIntervalSec,
    stop: part.done >= part.assigned,
  };
}

/**
 * The assignment a trusted or untrusted active partition should have, given the sums *without* it
 * (`others`) and with it (`job`). Growth only comes from the unclaimed pool; shrinking is always allowed.
 */
function rebalance(job: JobBalance, part: PartitionBalance, params: BalancerParams, nowSec: number): number {
  const othersAssigned = job.sumAssigned - part.assigned;
  const room = job.iterations - othersAssigned;
  // Overcommitted (a revoked partition came back with work someone else now holds): give back first.
  if (part.assigned > room && part.assigned > part.done) return Math.max(part.done, room);
  const ceiling = Math.max(part.assigned, room);
  const { etaSec, shareEtaSec } = forecast(job, nowSec);
  let wanted: number;
  if (!part.trusted) {
    // Untrusted: keep what it has (PenRed 1.9.0's fix); if it has nothing left, give it a mean share.
    if (part.assigned > part.done) return part.assigned;
    const mean = job.trusted > 0 ? job.sumSpeed / job.trusted : 0;
    wanted = part.done + (shareEtaSec === null || mean === 0 ? 0 : mean * shareEtaSec);
  } else if (etaSec !== null && etaSec < params.tailFreezeSec && part.assigned > part.done) {
    // The tail: everyone is about to finish; moving work now only causes churn.
    return part.assigned;
  } else {
    wanted = part.done + (shareEtaSec === null ? 0 : part.speed * shareEtaSec);
  }
  return Math.max(part.done, Math.min(Math.ceil(wanted), ceiling));
}

/** A partition calls start (first contact of this attempt, or a restart after a crash). */
export function onStart(
  job: JobBalance,
  part: PartitionBalance,
  nowSec: number,
  params: BalancerParams,
): Step {
  if (part.state === 'started' || part.state === 'reporting') {
    // A second start is a resumed process (RUPER-LB's rule): keep its assignment, reset its time origin.
    const next = { ...part, lastReportSec: nowSec, lastElapsedSec: 0 };
    const nextJob = applyChange(job, part, next);
    return { job: nextJob, part: next, answer: answerFor(nextJob, next, params, nowSec), overrun: 0 };
  }
  const { pool, shareEtaSec } = forecast(job, nowSec);
  let share: number;
  if (job.trusted > 0 && shareEtaSec !== null) {
    // Speeds are known: a newcomer at the mean speed (the running ones left room for it, see shareEtaSec).
    share = Math.ceil((job.sumSpeed / job.trusted) * shareEtaSec);
  } else {
    // Nothing measured yet: split the pool evenly among the partitions not yet started (this one included).
    share = Math.ceil(pool / Math.max(1, job.pending));
  }
  // Never beyond the pool: an iteration is assigned to one partition at a time, so none is computed twice.
  share = Math.min(share, pool);
  const next: PartitionBalance = {
    ...part,
    state: 'started',
    assigned: Math.max(0, share),
    done: 0,
    speed: 0,
    trusted: false,
    lastReportSec: nowSec,
    lastElapsedSec: 0,
    slowReports: 0,
  };
  const nextJob = applyChange(job, part, next);
  return { job: nextJob, part: next, answer: answerFor(nextJob, next, params, nowSec), overrun: 0 };
}

/** Updates the smoothed speed and the trust flag from a new (done, elapsed) sample. */
function measure(
  job: JobBalance,
  part: PartitionBalance,
  done: number,
  elapsedSec: number,
  nowSec: number,
  params: BalancerParams,
): PartitionBalance {
  const deltaDone = done - part.done;
  // Prefer the partition's own clock (no network delay); fall back to ours.
  let deltaSec = elapsedSec - part.lastElapsedSec;
  if (!(deltaSec > 0)) deltaSec = nowSec - part.lastReportSec;
  const next = {
    ...part,
    done,
    lastReportSec: nowSec,
    lastElapsedSec: Math.max(elapsedSec, part.lastElapsedSec),
  };
  if (!(deltaSec > 0) || deltaDone < 0) return next;
  const sample = deltaDone / deltaSec;
  const othersTrusted = job.trusted - (part.trusted ? 1 : 0);
  const othersSpeed = job.sumSpeed - (part.trusted ? part.speed : 0);
  const mean = othersTrusted > 0 ? othersSpeed / othersTrusted : 0;
  const nearZero = sample <= 0 || (mean > 0 && sample < params.nearZeroFraction * mean);
  const slowReports = nearZero ? part.slowReports + 1 : 0;
  if (nearZero && slowReports < params.trustSlowAfterReports) {
    // One near-zero sample (a new partition still loading, a pause) is not believed: keep the old estimate.
    return { ...next, slowReports };
  }
  const hadSpeed = part.speed > 0;
  const speed = hadSpeed ? params.smoothing * sample + (1 - params.smoothing) * part.speed : sample;
  return { ...next, speed, trusted: true, slowReports };
}

/** A partition reports `done` iterations (cumulative) after `elapsedSec` on its own clock. */
export function onReport(
  job: JobBalance,
  part: PartitionBalance,
  done: number,
  elapsedSec: number,
  nowSec: number,
  params: BalancerParams,
): Step {
  const wasMissing = part.state === 'missing';
  const measured = measure(job, part, Math.max(done, part.done), elapsedSec, nowSec, params);
  // A partition back from "missing" had its share revoked: it competes for the pool like anyone else.
  let next: PartitionBalance = { ...measured, state: 'reporting', assigned: Math.max(part.assigned, 0) };
  let overrun = 0;
  if (wasMissing && next.done > part.assigned) {
    // What it did while presumed gone may already be someone else's: keep it only up to the pool.
    const pool = Math.max(0, job.iterations - job.sumAssigned);
    const kept = Math.min(next.done - part.assigned, pool);
    overrun = next.done - part.assigned - kept;
    next.assigned = part.assigned + kept;
  }
  let nextJob = applyChange(job, part, { ...next, assigned: Math.max(next.assigned, next.done) });
  next = { ...next, assigned: Math.max(next.assigned, next.done) };
  const assigned = rebalance(nextJob, next, params, nowSec);
  const balanced = { ...next, assigned };
  nextJob = applyChange(nextJob, next, balanced);
  return { job: nextJob, part: balanced, answer: answerFor(nextJob, balanced, params, nowSec), overrun };
}

/** A partition finishes with `done` iterations. Its unused share returns to the pool. */
export function onFinish(
  job: JobBalance,
  part: PartitionBalance,
  done: number,
  elapsedSec: number,
  nowSec: number,
  params: BalancerParams,
): Step {
  const measured = measure(job, part, Math.max(done, part.done), elapsedSec, nowSec, params);
  const allowed = part.assigned + Math.max(0, job.iterations - job.sumAssigned);
  const overrun = Math.max(0, measured.done - allowed);
  const next: PartitionBalance = { ...measured, state: 'finished', assigned: measured.done };
  const nextJob = applyChange(job, part, next);
  return {
    job: nextJob,
    part: next,
    answer: { ...answerFor(nextJob, next, params, nowSec), stop: true },
    overrun,
  };
}

/** A partition silent for longer than its window: its remaining share is revoked (returned to the pool). */
export function onMissing(
  job: JobBalance,
  part: PartitionBalance,
): { job: JobBalance; part: PartitionBalance } {
  const next: PartitionBalance = { ...part, state: 'missing', assigned: part.done, trusted: false };
  return { job: applyChange(job, part, next), part: next };
}

/**
 * A partition whose lease expired (its site died, or it never came back): its work is lost (its result was
 * never uploaded), its iterations return to the pool, and it is queued again for another site.
 */
export function onLeaseLost(
  job: JobBalance,
  part: PartitionBalance,
): { job: JobBalance; part: PartitionBalance } {
  const next: PartitionBalance = { ...newPartitionBalance(), state: 'queued' };
  return { job: applyChange(job, part, next), part: next };
}

/** Whether every iteration is done by finished partitions and nobody is still working. */
export function isComplete(job: JobBalance): boolean {
  return job.finishedDone >= job.iterations && job.active === 0 && job.missing === 0;
}

/**
 * The deadline rule: how many partitions to add so that the forecast meets the deadline, within `room`
 * (what the tenant's quota still allows). TaScaaS's formula, `(ETA / T − 1) · W + 1`, over live partitions.
 */
export function extraPartitionsForDeadline(
  job: JobBalance,
  nowSec: number,
  deadlineSec: number,
  room: number,
  params: BalancerParams,
): number {
  if (room <= 0 || job.trusted === 0) return 0;
  const { etaSec } = forecast(job, nowSec);
  if (etaSec === null || etaSec < params.tailFreezeSec) return 0;
  const left = deadlineSec - nowSec;
  if (nowSec + etaSec <= deadlineSec) return 0;
  const live = job.active + job.pending;
  const wanted = left <= 0 ? room : Math.floor((etaSec / left - 1) * live) + 1;
  return Math.max(0, Math.min(wanted, room));
}
