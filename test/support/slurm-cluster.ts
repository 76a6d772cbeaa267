/**
 * @module test/support/slurm-cluster
 * A real Slurm cluster on localhost for the tests: munged, slurmctld and several slurmd "nodes", all with
 * files in one temporary folder (a generated slurm.conf used through SLURM_CONF, munged's key, socket, pid,
 * log and seed files given by flag), so nothing is written to /etc, /run or /var and nothing is left
 * behind. Scheduler settings from shared/research/feasibility.md §1 (`batch_sched_delay=0,bf_interval=1`)
 * make a job start in well under a second; nodes declare more CPUs than the machine has so that many small
 * jobs run at once. Ports come from 17000-17999 (free ones, so two suites can each run a cluster).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { onProcessExit } from './exit-hooks.js';

export interface SlurmTestCluster {
  dir: string;
  /** The generated slurm.conf (give it to the executor as `slurmConf`). */
  confPath: string;
  partition: string;
  nodes: string[];
  /**
   * The Slurm executor's raw configuration for this cluster (NUBES_EXECUTORS' `slurm`): its slurm.conf,
   * partition, `sacct -c` accounting, a 200 ms poll and the spool in `<dir>/jobs`; `extra` overrides.
   */
  executorConfig(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Runs a Slurm command against this cluster. */
  command(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Cancels every job, stops the daemons and removes the folder. */
  stop(): Promise<void>;
}

const DAEMONS = ['/usr/sbin/munged', '/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/bin/sbatch'];

/** Why a cluster cannot start here (a missing program, not root), or null when it can. */
export async function slurmMissing(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'the test cluster runs its daemons as root';
  for (const path of DAEMONS) {
    try {
      await access(path);
    } catch {
      return `${path} is not installed (apt-get install slurmctld slurmd slurm-client munge)`;
    }
  }
  return null;
}

export interface SlurmClusterOptions {
  /** slurmd daemons. @default 3 */
  nodes?: number;
  /** CPUs each node declares (more than the machine has: small jobs share cores). @default 8 */
  cpusPerNode?: number;
  /**
   * Seconds slurmctld keeps an ended job's record (Slurm's MinJobAge; its high-throughput guide lowers it so
   * that thousands of ended jobs do not slow the scheduler down). @default 300, Slurm's own
   */
  minJobAge?: number;
}

export async function startSlurmCluster(options: SlurmClusterOptions = {}): Promise<SlurmTestCluster> {
  const nodeCount = options.nodes ?? 3;
  const cpus = options.cpusPerNode ?? 8;
  const dir = await mkdtemp('/tmp/nubes-slurm-');
  const pids: number[] = [];
  const confPath = join(dir, 'slurm.conf');
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', SLURM_CONF: confPath, LANG: 'C' };
  const command = (name: string, args: string[]) => run(name, args, env);
  const nodes = Array.from({ length: nodeCount }, (_, index) => `n${index + 1}`);

  // A test file that ends without calling stop() (a hook timed out, or the runner forced its exit) must not
  // leave the daemons behind.
  const killDaemons = () => {
    for (const pid of [...daemonPids(dir, nodes), ...pids]) if (alive(pid)) kill(pid, 'SIGKILL');
  };
  const forgetExit = onProcessExit(killDaemons);
  const stop = async (): Promise<void> => {
    forgetExit();
    // Jobs first: slurmstepd outlives slurmd, so a running job would outlive the cluster.
    await command('scancel', ['--full', '--user=root']).catch(() => undefined);
    for (let waited = 0; waited < 50; waited++) {
      const left = await command('squeue', ['-h', '-t', 'RUNNING,COMPLETING,PENDING', '-o', '%i']).catch(
        () => null,
      );
      if (left === null || left.code !== 0 || left.stdout.trim() === '') break;
      await sleep(100);
    }
    for (const pid of daemonPids(dir, nodes)) kill(pid, 'SIGTERM');
    for (const pid of pids) kill(pid, 'SIGTERM');
    const all = [...new Set([...daemonPids(dir, nodes), ...pids])];
    for (let waited = 0; waited < 100 && all.some(alive); waited++) await sleep(50);
    for (const pid of all) if (alive(pid)) kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await Promise.all(['state', 'spool', 'log'].map((sub) => mkdir(join(dir, sub))));
    const ports = await freePorts(nodeCount + 1);
    const host = hostname().split('.')[0] ?? 'localhost';
    await writeFile(
      confPath,
      slurmConf({ dir, host, ports, nodes, cpus, minJobAge: options.minJobAge ?? 300 }),
    );
    const key = join(dir, 'munge.key');
    await writeFile(key, randomKey(), { mode: 0o400 });
    await chmod(key, 0o400);
    await daemon('/usr/sbin/munged', [
      '--force',
      `--socket=${join(dir, 'munge.sock')}`,
      `--key-file=${key}`,
      `--pid-file=${join(dir, 'munged.pid')}`,
      `--log-file=${join(dir, 'log', 'munged.log')}`,
      `--seed-file=${join(dir, 'munged.seed')}`,
    ]);
    await daemon('/usr/sbin/slurmctld', ['-f', confPath]);
    for (const node of nodes) await daemon('/usr/sbin/slurmd', ['-f', confPath, '-N', node]);
    for (let waited = 0; ; waited++) {
      const idle = await command('sinfo', ['-h', '-t', 'idle', '-o', '%D']).catch(() => null);
      if (idle?.code === 0 && idle.stdout.trim() === String(nodeCount)) break;
      if (waited > 300) {
        const log = await readFile(join(dir, 'log', 'slurmctld.log'), 'utf8').catch(() => '');
        throw new Error(`the Slurm nodes did not become idle: ${idle?.stdout ?? ''}\n${log.slice(-2000)}`);
      }
      await sleep(50);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const executorConfig = (extra: Record<string, unknown> = {}) => ({
    slurmConf: confPath,
    partition: 'debug',
    accounting: 'jobcomp',
    pollIntervalMs: 200,
    spoolDir: join(dir, 'jobs'),
    ...extra,
  });
  return { dir, confPath, partition: 'debug', nodes, executorConfig, command, stop };
}

function slurmConf(options: {
  dir: string;
  host: string;
  ports: number[];
  nodes: string[];
  cpus: number;
  minJobAge: number;
}): string {
  const { dir, host, ports, nodes, cpus, minJobAge } = options;
  const lines = [
    'ClusterName=nubestest',
    `SlurmctldHost=${host}(127.0.0.1)`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    `AuthInfo=socket=${dir}/munge.sock`,
    'CredType=cred/munge',
    `SlurmctldPort=${ports[0]}`,
    `StateSaveLocation=${dir}/state`,
    `SlurmdSpoolDir=${dir}/spool/%n`,
    `SlurmctldPidFile=${dir}/slurmctld.pid`,
    `SlurmdPidFile=${dir}/slurmd-%n.pid`,
    `SlurmctldLogFile=${dir}/log/slurmctld.log`,
    `SlurmdLogFile=${dir}/log/slurmd-%n.log`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/filetxt',
    `JobCompLoc=${dir}/log/jobcomp.txt`,
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'SchedulerType=sched/backfill',
    'SchedulerParameters=batch_sched_delay=0,bf_interval=1,sched_min_interval=0',
    'SlurmdParameters=config_overrides',
    'ReturnToService=2',
    'MpiDefault=none',
    'MaxArraySize=10001',
    'MaxJobCount=100000',
    'KillWait=2',
    `MinJobAge=${minJobAge}`,
    'LogTimeFormat=iso8601_ms',
  ];
  nodes.forEach((node, index) => {
    lines.push(
      `NodeName=${node} NodeHostname=${host} NodeAddr=127.0.0.1 Port=${ports[index + 1]} CPUs=${cpus} RealMemory=4000 State=UNKNOWN`,
    );
  });
  lines.push(`PartitionName=debug Nodes=${nodes.join(',')} Default=YES MaxTime=INFINITE State=UP`);
  return `${lines.join('\n')}\n`;
}

/** Starts a self-daemonizing program and waits for its launcher to return. */
function daemon(path: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${path} ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

function run(
  name: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(name, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = (error as NodeJS.ErrnoException | null)?.code;
      if (typeof code === 'string') reject(new Error(`cannot run ${name}: ${code}`));
      else resolve({ code: error === null ? 0 : typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

function daemonPids(dir: string, nodes: string[]): number[] {
  const files = ['slurmctld.pid', 'munged.pid', ...nodes.map((node) => `slurmd-${node}.pid`)];
  const pids: number[] = [];
  for (const file of files) {
    let text = '';
    try {
      text = readFileSync(join(dir, file), 'utf8');
    } catch {
      continue;
    }
    const pid = Number(text.trim());
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

/** `count` free TCP ports on 127.0.0.1 from 17000-17999, starting at a random place. */
async function freePorts(count: number): Promise<number[]> {
  const found: number[] = [];
  const start = 17000 + Math.floor(Math.random() * 900);
  for (let port = start; found.length < count && port < 18000; port++) {
    if (await portFree(port)) found.push(port);
  }
  if (found.length < count) throw new Error('no free ports in 17000-17999 for the Slurm test cluster');
  return found;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function randomKey(): Buffer {
  return randomBytes(1024);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const status = readStatus(pid);
    return status !== 'Z';
  } catch {
    return false;
  }
}

function readStatus(pid: number): string {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3);
  } catch {
    return '';
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
