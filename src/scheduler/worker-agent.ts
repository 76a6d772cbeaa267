/**
 * @module scheduler/worker-agent
 * `nubes worker`: a site agent. It registers its slots, leases partitions while it has free slots, runs
 * each (the job's command, or its FDL service's script) as a local child process or as a Slurm job
 * (partition-runners.ts), tells the scheduler when one fails, and stops those whose job is over or whose
 * lease moved elsewhere. The partition reports its own progress (PartitionClient, the Python module, or a
 * RUPER-LB client on NUBES_LB_URL).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../core/index.js';
import { SiteClient, type LeaseInfo } from './client.js';
import { localPartitionRunner, type PartitionProcess, type PartitionRunner } from './partition-runners.js';

export interface WorkerAgentOptions {
  apiUrl: string;
  site: string;
  token: string;
  slots: number;
  /** How often to ask for work while slots are free. @default 1000 */
  pollMs?: number;
  /** How often to heartbeat. @default 5000 */
  heartbeatMs?: number;
  /** Environment for the partition processes (NUBES_* variables are added). @default process.env */
  env?: NodeJS.ProcessEnv;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Where partitions run. @default local child processes with `env` */
  runner?: PartitionRunner;
  /** Where partition folders are made (must be shared with the nodes for Slurm). @default the OS temp folder */
  workDir?: string;
}

interface RunningPartition {
  lease: LeaseInfo;
  process: PartitionProcess;
  dir: string;
}

/** The site agent. `start()` runs until `close()`. */
export class WorkerAgent {
  private readonly client: SiteClient;
  private readonly running = new Map<string, RunningPartition>();
  private readonly exits = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private heartbeatAt = 0;
  private closed = false;
  private busy = false;
  private readonly runner: PartitionRunner;

  constructor(private readonly options: WorkerAgentOptions) {
    this.client = new SiteClient(options.apiUrl, options.site, options.token);
    this.runner = options.runner ?? localPartitionRunner(options.env ?? process.env);
  }

  /** Registers and starts polling. */
  async start(): Promise<void> {
    await this.client.register(this.options.slots);
    this.options.logger?.info({ site: this.options.site, slots: this.options.slots }, 'site registered');
    this.schedule(0);
  }

  /** Partitions running now. */
  runningCount(): number {
    return this.running.size;
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      const now = Date.now();
      if (now - this.heartbeatAt >= (this.options.heartbeatMs ?? 5000)) {
        this.heartbeatAt = now;
        const stop = await this.client.heartbeat(
          this.options.slots,
          [...this.running.values()].map(({ lease }) => ({ jobId: lease.jobId, index: lease.index })),
        );
        for (const { jobId, index } of stop) this.running.get(`${jobId}/${index}`)?.process.stop();
      }
      const free = this.options.slots - this.running.size;
      if (free > 0) for (const lease of await this.client.lease(free)) await this.launch(lease);
    } catch (error) {
      this.options.logger?.warn({ err: (error as Error).message }, 'scheduler unreachable; retrying');
    } finally {
      this.busy = false;
      this.schedule(this.options.pollMs ?? 1000);
    }
  }

  private async launch(lease: LeaseInfo): Promise<void> {
    const dir = await mkdtemp(join(this.options.workDir ?? tmpdir(), 'nubes-partition-'));
    let argv: string[];
    if (lease.command !== null) argv = lease.command;
    else {
      await writeFile(join(dir, 'script.sh'), lease.script ?? 'exit 1', { mode: 0o700 });
      argv = ['bash', join(dir, 'script.sh')];
    }
    const apiUrl = this.options.apiUrl.replace(/\/$/, '');
    const env: Record<string, string> = {
      NUBES_API_URL: apiUrl,
      NUBES_JOB_ID: lease.jobId,
      NUBES_PARTITION: String(lease.index),
      NUBES_ATTEMPT: String(lease.attempt),
      NUBES_PARTITION_TOKEN: lease.token,
      NUBES_LB_URL: apiUrl + lease.lbPath,
      NUBES_REPORT_INTERVAL_SEC: String(lease.reportIntervalSec),
      NUBES_ITERATIONS: String(lease.iterations),
      NUBES_INPUT: JSON.stringify(lease.input),
    };
    const key = `${lease.jobId}/${lease.index}`;
    let started: PartitionProcess;
    try {
      started = await this.runner.start({ argv, env, dir, name: `${lease.jobId}-${lease.index}` });
    } catch (error) {
      // Not started (sbatch refused it): the scheduler hears of it as a failure and hands it out again.
      const message = (error as Error).message;
      this.options.logger?.warn(
        { job: lease.jobId, partition: lease.index, err: message },
        'partition not started',
      );
      await this.client.fail(lease.jobId, lease.index, null, message).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      return;
    }
    const entry: RunningPartition = { lease, process: started, dir };
    this.running.set(key, entry);
    this.options.logger?.info(
      { job: lease.jobId, partition: lease.index, attempt: lease.attempt },
      'partition started',
    );
    const exited = started.exited.then((exit) => {
      this.running.delete(key);
      return this.onExit(entry, exit.code, exit.signal, exit.log);
    });
    this.exits.add(exited);
    void exited.finally(() => this.exits.delete(exited));
  }

  private async onExit(
    entry: RunningPartition,
    code: number | null,
    signal: string | null,
    log: string,
  ): Promise<void> {
    const { lease } = entry;
    try {
      if (code !== 0 && !this.closed) {
        this.options.logger?.warn(
          { job: lease.jobId, partition: lease.index, code, signal },
          'partition failed',
        );
        await this.client.fail(lease.jobId, lease.index, code, log);
      }
    } catch (error) {
      this.options.logger?.error({ err: (error as Error).message }, 'could not report a failed partition');
    } finally {
      await rm(entry.dir, { recursive: true, force: true });
      this.schedule(0);
    }
  }

  /** Stops leasing, terminates running partitions (their leases expire and they run elsewhere). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const { process } of this.running.values()) process.stop();
    await this.runner.close();
    await Promise.all([...this.exits]);
  }
}
