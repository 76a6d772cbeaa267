/**
 * @module executors/local/cgroups
 * One cgroup per job, to cap its memory and pids, to find every process it started (even those that left
 * its process group with setsid) and to tell an out-of-memory kill from an ordinary failure.
 * Hosts differ: cgroup v2 (`memory.max`, `cgroup.kill`, `memory.events`) where /sys/fs/cgroup is a unified
 * hierarchy with the memory controller; cgroup v1 (`memory.limit_in_bytes`, `memory.memsw.limit_in_bytes`,
 * `pids.max`, `memory.oom_control`) on hybrid hosts such as our machines, where v2 has no controllers. When
 * neither is writable the probe says so and the executor falls back to RLIMIT_AS.
 * The probe runs once at start-up; per job it costs a few small writes (no sync calls).
 */
import { access, mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { signalProcess } from '../../supervisor/index.js';

export type CgroupMode = 'v2' | 'v1' | 'none';

export interface CgroupLimits {
  /** 0 = no memory limit (the cgroup still tracks and kills the job's processes). */
  memoryBytes: number;
  /** Largest number of processes and threads of the job. */
  pidsMax: number;
}

/** The cgroup(s) of one job. */
export interface JobCgroup {
  /** The `cgroup.procs` files the job's first process writes its pid into (one per v1 controller). */
  readonly procsFiles: string[];
  /** Signals every process in the cgroup, except `exceptPid`. */
  signalAll(signal: NodeJS.Signals, exceptPid?: number): Promise<void>;
  /** Kills every process in the cgroup and waits until none is left (bounded). */
  killAll(): Promise<void>;
  /** Whether the kernel's OOM killer killed a process of this job. */
  oomKilled(): Promise<boolean>;
  /** Removes the cgroup directories; the processes must be gone. */
  remove(): Promise<void>;
}

export interface CgroupSupport {
  readonly mode: CgroupMode;
  /** Why cgroups cannot be used, when mode is `none`. */
  readonly reason: string | null;
  /** v1 only: whether memory+swap can be limited too (`memory.memsw.*`, present when swap accounting is on). */
  readonly limitsSwap: boolean;
  create(jobId: string, limits: CgroupLimits): Promise<JobCgroup>;
}

export interface CgroupProbeOptions {
  /** Mount point of the cgroup hierarchies. @default /sys/fs/cgroup */
  root?: string;
  /** Name of the parent group of all job cgroups. @default nubes */
  group?: string;
  /** Empty job cgroups older than this are removed at start-up (left by a crash). @default 60000 */
  staleAfterMs?: number;
}

/**
 * How killAll and remove wait for the kernel to finish tearing processes down: short polls first (a job's
 * last processes are usually gone within a millisecond, and every job waits on this), then 10 ms steps,
 * about one second in all before giving up.
 */
const SETTLE_DELAYS_MS = [0.5, 1, 1, 2, 2, 5, 5, ...Array<number>(100).fill(10)];

/** Finds which cgroup version this host lets us write, and creates the parent group. */
export async function probeCgroups(options: CgroupProbeOptions = {}): Promise<CgroupSupport> {
  const root = options.root ?? '/sys/fs/cgroup';
  const group = options.group ?? 'nubes';
  const staleAfterMs = options.staleAfterMs ?? STALE_CGROUP_AGE_MS;
  const v2Controllers = await readFile(join(root, 'cgroup.controllers'), 'utf8').catch(() => null);
  if (v2Controllers !== null) {
    if (!v2Controllers.split(/\s+/).includes('memory')) {
      return cgroupsUnavailable('cgroup v2 is mounted without the memory controller');
    }
    try {
      return await probeV2(root, group, v2Controllers.split(/\s+/).includes('pids'), staleAfterMs);
    } catch (error) {
      return cgroupsUnavailable(`cgroup v2 is not writable: ${(error as Error).message}`);
    }
  }
  if (await exists(join(root, 'memory', 'memory.limit_in_bytes'))) {
    try {
      return await probeV1(root, group, staleAfterMs);
    } catch (error) {
      return cgroupsUnavailable(`cgroup v1 is not writable: ${(error as Error).message}`);
    }
  }
  return cgroupsUnavailable(`no cgroup memory controller under ${root}`);
}

/** A CgroupSupport that has none (the host's, or a deliberate choice of RLIMIT_AS). */
export function cgroupsUnavailable(reason: string): CgroupSupport {
  return {
    mode: 'none',
    reason,
    limitsSwap: false,
    create: () => Promise.reject(new Error(`cgroups unavailable: ${reason}`)),
  };
}

async function probeV1(root: string, group: string, staleAfterMs: number): Promise<CgroupSupport> {
  const memoryParent = join(root, 'memory', group);
  await mkdir(memoryParent, { recursive: true });
  const pidsParent = (await exists(join(root, 'pids'))) ? join(root, 'pids', group) : null;
  if (pidsParent !== null) await mkdir(pidsParent, { recursive: true });
  await Promise.all([
    sweepStale(memoryParent, staleAfterMs),
    pidsParent === null ? undefined : sweepStale(pidsParent, staleAfterMs),
  ]);
  const limitsSwap = await exists(join(memoryParent, 'memory.memsw.limit_in_bytes'));

  return {
    mode: 'v1',
    reason: null,
    limitsSwap,
    async create(jobId, limits) {
      const name = cgroupName(jobId);
      const memoryDir = join(memoryParent, name);
      const pidsDir = pidsParent === null ? null : join(pidsParent, name);
      const dirs = pidsDir === null ? [memoryDir] : [memoryDir, pidsDir];
      await Promise.all(dirs.map((dir) => mkdir(dir)));
      const cgroup = new V1JobCgroup(memoryDir, pidsDir);
      try {
        await Promise.all([
          (async () => {
            if (limits.memoryBytes <= 0) return;
            await writeFile(join(memoryDir, 'memory.limit_in_bytes'), String(limits.memoryBytes));
            // Without this the job could use swap beyond its limit; memsw must be set after memory (>=).
            if (limitsSwap)
              await writeFile(join(memoryDir, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
          })(),
          pidsDir === null ? Promise.resolve() : writeFile(join(pidsDir, 'pids.max'), String(limits.pidsMax)),
        ]);
      } catch (error) {
        await cgroup.remove().catch(() => undefined);
        throw error;
      }
      return cgroup;
    },
  };
}

async function probeV2(
  root: string,
  group: string,
  hasPids: boolean,
  staleAfterMs: number,
): Promise<CgroupSupport> {
  const controllers = hasPids ? '+memory +pids' : '+memory';
  const parent = join(root, group);
  // The root cgroup may already delegate these controllers; enabling them again is harmless.
  await writeFile(join(root, 'cgroup.subtree_control'), controllers);
  await mkdir(parent, { recursive: true });
  await writeFile(join(parent, 'cgroup.subtree_control'), controllers);
  await sweepStale(parent, staleAfterMs);
  const limitsSwap = false;
  return {
    mode: 'v2',
    reason: null,
    limitsSwap,
    async create(jobId, limits) {
      const dir = join(parent, cgroupName(jobId));
      await mkdir(dir);
      const cgroup = new V2JobCgroup(dir);
      try {
        const writes: Promise<void>[] = [];
        if (limits.memoryBytes > 0) {
          writes.push(writeFile(join(dir, 'memory.max'), String(limits.memoryBytes)));
          // memory.swap.max exists only with swap accounting; without it there is nothing to limit.
          writes.push(writeFile(join(dir, 'memory.swap.max'), '0', { flag: 'r+' }).catch(ignoreMissing));
        }
        if (hasPids) writes.push(writeFile(join(dir, 'pids.max'), String(limits.pidsMax)));
        await Promise.all(writes);
      } catch (error) {
        await cgroup.remove().catch(() => undefined);
        throw error;
      }
      return cgroup;
    },
  };
}

class V1JobCgroup implements JobCgroup {
  readonly procsFiles: string[];

  constructor(
    private readonly memoryDir: string,
    private readonly pidsDir: string | null,
  ) {
    this.procsFiles = [join(memoryDir, 'cgroup.procs')];
    if (pidsDir !== null) this.procsFiles.push(join(pidsDir, 'cgroup.procs'));
  }

  async signalAll(signal: NodeJS.Signals, exceptPid?: number): Promise<void> {
    for (const pid of await readPids(this.procsFiles[0]!)) if (pid !== exceptPid) signalProcess(pid, signal);
  }

  async killAll(): Promise<void> {
    // v1 has no cgroup.kill: signal what is listed until nothing is, which also catches a process forked
    // between two reads (pids.max bounds how many there can be).
    for (const wait of SETTLE_DELAYS_MS) {
      const pids = await readPids(this.procsFiles[0]!);
      if (pids.length === 0) return;
      for (const pid of pids) signalProcess(pid, 'SIGKILL');
      await delay(wait);
    }
  }

  async oomKilled(): Promise<boolean> {
    const control = await readFile(join(this.memoryDir, 'memory.oom_control'), 'utf8').catch(() => '');
    const kills = /^oom_kill (\d+)$/m.exec(control);
    if (kills !== null) return Number(kills[1]) > 0;
    // Kernels before 4.13 have no oom_kill counter; hitting the limit is the best evidence left.
    const failures = await readFile(join(this.memoryDir, 'memory.failcnt'), 'utf8').catch(() => '0');
    return Number(failures.trim()) > 0;
  }

  async remove(): Promise<void> {
    await Promise.all([
      removeDir(this.memoryDir),
      this.pidsDir === null ? undefined : removeDir(this.pidsDir),
    ]);
  }
}

class V2JobCgroup implements JobCgroup {
  readonly procsFiles: string[];

  constructor(private readonly dir: string) {
    this.procsFiles = [join(dir, 'cgroup.procs')];
  }

  async signalAll(signal: NodeJS.Signals, exceptPid?: number): Promise<void> {
    for (const pid of await readPids(this.procsFiles[0]!)) if (pid !== exceptPid) signalProcess(pid, signal);
  }

  async killAll(): Promise<void> {
    // cgroup.kill (Linux 5.14+) kills the whole cgroup atomically, forks in flight included.
    const killed = await writeFile(join(this.dir, 'cgroup.kill'), '1', { flag: 'r+' }).then(
      () => true,
      () => false,
    );
    for (const [attempt, wait] of SETTLE_DELAYS_MS.entries()) {
      const pids = await readPids(this.procsFiles[0]!);
      if (pids.length === 0) return;
      if (!killed || attempt > 0) for (const pid of pids) signalProcess(pid, 'SIGKILL');
      await delay(wait);
    }
  }

  async oomKilled(): Promise<boolean> {
    const events = await readFile(join(this.dir, 'memory.events'), 'utf8').catch(() => '');
    const kills = /^oom_kill (\d+)$/m.exec(events);
    return kills !== null && Number(kills[1]) > 0;
  }

  async remove(): Promise<void> {
    await removeDir(this.dir);
  }
}

/**
 * A job cgroup older than this with no process in it was left by a server that died before removing it
 * (its `finally` never ran). Younger empty ones may belong to another server sharing the parent group and
 * about to start a job, so they are left alone.
 */
const STALE_CGROUP_AGE_MS = 60_000;

/** Removes job cgroups left empty by a crashed server. Live processes are never touched. */
async function sweepStale(parent: string, staleAfterMs: number): Promise<void> {
  const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
  const now = Date.now();
  await Promise.all(
    entries
      .filter((entry) => entry.isDirectory())
      .map(async (entry) => {
        const dir = join(parent, entry.name);
        // cgroupfs gives every folder the time of the stat as its ctime: the age is read from the name.
        // A name without a time was made by an earlier version: old.
        const made = createdMs(entry.name);
        if (made !== null && now - made < staleAfterMs) return;
        if ((await readPids(join(dir, 'cgroup.procs'))).length > 0) return;
        await rmdir(dir).catch(() => undefined);
      }),
  );
}

/**
 * A cgroup directory name from a job id: safe characters only, then the time it is made (base 36, for the
 * start-up sweep) and a random suffix so a retry gets a fresh one.
 */
export function cgroupName(jobId: string): string {
  const safe = jobId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 180);
  return `${safe}.${Date.now().toString(36)}.${randomBytes(4).toString('hex')}`;
}

/** When the cgroup named `name` by cgroupName was made; null for a name without a time. */
function createdMs(name: string): number | null {
  const match = /\.([0-9a-z]{1,11})\.[0-9a-f]{8}$/.exec(name);
  return match === null ? null : parseInt(match[1] ?? '', 36);
}

async function readPids(procsFile: string): Promise<number[]> {
  const text = await readFile(procsFile, 'utf8').catch(() => '');
  const pids: number[] = [];
  for (const line of text.split('\n')) {
    const pid = Number(line);
    if (line !== '' && Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

/** rmdir, retrying while the kernel still counts exiting processes in the cgroup (EBUSY). */
async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      const wait = SETTLE_DELAYS_MS[attempt];
      if (code !== 'EBUSY' || wait === undefined) throw error;
      await delay(wait);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
