/**
 * @module scheduler/worker-agent
 * `nubes worker`: a site agent. It registers its slots, leases partitions while it has free slots, runs
 * each as a local child process (the job's command, or its FDL service's script), tells the scheduler when
 * a process fails, and kills processes whose job is over or whose lease moved elsewhere. The process
 * reports its own progress (PartitionClient, the Python module, or a RUPER-LB client on NUBES_LB_URL).
 * Submitting partitions to Slurm instead of running them here is not implemented yet.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../core/index.js';
import { SiteClient, type LeaseInfo } from './client.js';

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
}

interface RunningPartition {
  lease: LeaseInfo;
  child: ChildProcess;
  dir: string;
  log: string;
}

const LOG_TAIL_BYTES = 64 * 1024;

/** The site agent. `start()` runs until `close()`. */
export class WorkerAgent {
  private readonly client: SiteClient;
  private readonly running = new Map<string, RunningPartition>();
  private readonly exits = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private heartbeatAt = 0;
  private closed = false;
  private busy = false;

  constructor(private readonly options: WorkerAgentOptions) {
    this.client = new SiteClient(options.apiUrl, options.site, options.token);
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
        for (const { jobId, index } of stop) this.running.get(`${jobId}/${index}`)?.child.kill('SIGTERM');
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
    const dir = await mkdtemp(join(tmpdir(), 'nubes-partition-'));
    let argv: string[];
    if (lease.command !== null) argv = lease.command;
    else {
      await writeFile(join(dir, 'script.sh'), lease.script ?? 'exit 1', { mode: 0o700 });
      argv = ['bash', join(dir, 'script.sh')];
    }
    const apiUrl = this.options.apiUrl.replace(/\/$/, '');
    const env: NodeJS.ProcessEnv = {
      ...(this.options.env ?? process.env),
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
    const [program, ...args] = argv;
    const child = spawn(program ?? 'false', args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const entry: RunningPartition = { lease, child, dir, log: '' };
    const key = `${lease.jobId}/${lease.index}`;
    this.running.set(key, entry);
    const append = (chunk: Buffer) => {
      entry.log = (entry.log + chunk.toString('utf8')).slice(-LOG_TAIL_BYTES);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.options.logger?.info(
      { job: lease.jobId, partition: lease.index, attempt: lease.attempt },
      'partition started',
    );
    const exited = new Promise<void>((resolve) => {
      child.on('error', (error) => append(Buffer.from(`\n${error.message}\n`)));
      child.on('close', (code, signal) => {
        this.running.delete(key);
        void this.onExit(entry, code, signal).finally(resolve);
      });
    });
    this.exits.add(exited);
    void exited.finally(() => this.exits.delete(exited));
  }

  private async onExit(
    entry: RunningPartition,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): Promise<void> {
    const { lease } = entry;
    try {
      if (code !== 0 && !this.closed) {
        this.options.logger?.warn(
          { job: lease.jobId, partition: lease.index, code, signal },
          'partition failed',
        );
        await this.client.fail(lease.jobId, lease.index, code, entry.log);
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
    for (const { child } of this.running.values()) child.kill('SIGTERM');
    await Promise.all([...this.exits]);
  }
}
