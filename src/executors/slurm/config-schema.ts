/**
 * @module executors/slurm/config-schema
 * The configuration of the Slurm executor, validated strictly: how to reach the cluster's commands, where
 * jobs go by default, where the job files live (a folder the compute nodes share with this host), how the
 * supervisor runs on the nodes and reaches the platform's S3 endpoint, and how submissions are batched.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * The standalone supervisor of this installation (compute nodes must see the same path): the one-file
 * bundle `npm run build` makes (half the start-up of the module tree), else the module tree itself.
 */
const BUNDLED_SUPERVISOR = fileURLToPath(
  new URL('../../../supervisor-bundle/nubes-supervisor.mjs', import.meta.url),
);
const DEFAULT_SUPERVISOR_PATH = existsSync(BUNDLED_SUPERVISOR)
  ? BUNDLED_SUPERVISOR
  : fileURLToPath(new URL('../../supervisor/main.js', import.meta.url));

/** The Landlock helper compiled by `npm run build` (scripts/build-native.mjs) from native/nubes-landlock.c. */
export const DEFAULT_LANDLOCK_PATH = fileURLToPath(
  new URL('../../../native/nubes-landlock', import.meta.url),
);

const slurmName = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9_.+-]+$/, 'must be a Slurm name (letters, digits, _ . + -)');

/** Options of the Slurm executor as they may be written in NUBES_EXECUTORS (`{"slurm": {...}}`). */
export const slurmExecutorConfigSchema = z
  .object({
    /** `slurm.conf` for the commands (SLURM_CONF); without it, the commands' own default. */
    slurmConf: z.string().startsWith('/').optional(),
    /** Folder of sbatch, squeue, sacct and scancel; without it, they are found on PATH. */
    binDir: z.string().startsWith('/').optional(),
    /** Defaults for services whose `slurm` block does not say. */
    partition: slurmName.optional(),
    account: slurmName.optional(),
    qos: slurmName.optional(),
    /** More sbatch options for every job (`--name` or `--name=value`), before the service's own. */
    options: z.array(z.string().regex(/^--[a-z][a-z0-9-]*(=[^\n]*)?$/)).default([]),
    /**
     * Where job files (scripts, invocations, logs, results) are written: a folder that this host and the
     * compute nodes share at the same path. @default <dataDir>/slurm
     */
    spoolDir: z.string().startsWith('/').optional(),
    supervisor: z
      .object({
        /** Node.js on the compute nodes. @default this server's own executable */
        node: z.string().startsWith('/').default(process.execPath),
        /** The standalone supervisor on the compute nodes. @default this installation's */
        path: z.string().startsWith('/').default(DEFAULT_SUPERVISOR_PATH),
      })
      .strict()
      .default({}),
    /**
     * Run jobs whose input and outputs are on the platform's own store in the batch script itself (POSIX
     * sh, curl and coreutils on the nodes), without a Node process per job; other jobs, and all when
     * false, run the Node supervisor. @default true
     */
    shellJobs: z.boolean().default(true),
    /**
     * Where a shell-path job runs: `spool`, in a folder of its submission in the spool, which the server
     * makes (the http body staged in it) and removes, so that the node starts no process for it; `node`, in
     * a folder of the node's TMPDIR (its local disk), made and removed by the batch script: for jobs that
     * stage large files when the spool is on a slow network filesystem. @default spool
     */
    jobFolder: z.enum(['spool', 'node']).default('spool'),
    /**
     * The sandbox of jobs' scripts on their nodes: the spool (other jobs' files and keys), the server's data
     * folder and `hiddenPaths` hidden, the rest of the filesystem read-only, only the job's folder writable,
     * no capabilities. Two kinds:
     * - Landlock (`landlockPath`, a small helper `npm run build` compiles; Linux 6.12+): costs one exec, needs
     *   no namespaces; the script cannot signal or trace processes outside it; /tmp is hidden too and the
     *   script's TMPDIR is its own folder; /dev/shm is the node's, shared with other jobs; folders above a
     *   hidden one (`/` among them) cannot be listed.
     * - bubblewrap (`bwrapPath`): the local executor's sandbox (hidden folders under empty tmpfs mounts,
     *   private /tmp and /dev/shm, new pid/ipc/uts namespaces), a few milliseconds of the node's CPU a job.
     * `auto` uses Landlock where the node's kernel has it, else bubblewrap, else runs the script bare with a
     * note in the job's log; `landlock` and `bwrap` use that one only and fail jobs on nodes without it;
     * `none` runs scripts bare. @default auto
     */
    sandbox: z.enum(['auto', 'landlock', 'bwrap', 'none']).default('auto'),
    /** @default this installation's dist/native/nubes-landlock (compute nodes must see the same path) */
    landlockPath: z.string().startsWith('/').default(DEFAULT_LANDLOCK_PATH),
    /** @default /usr/bin/bwrap */
    bwrapPath: z.string().startsWith('/').default('/usr/bin/bwrap'),
    /** More folders hidden from the jobs' scripts by the sandbox. @default [] */
    hiddenPaths: z
      .array(
        z
          .string()
          .startsWith('/')
          .regex(/^[^\n]*$/, 'a path without line breaks'),
      )
      .default([]),
    /** The platform's S3 endpoint as the compute nodes reach it. @default the endpoint's own address */
    storageEndpoint: z.string().url().optional(),
    /** Jobs of all services at once (reported in capabilities; the dispatcher enforces it). @default 1000 */
    maxConcurrentJobs: z.number().int().min(1).max(1_000_000).default(1000),
    /**
     * Jobs of the same shape go as one job array, submitted this long after its first job; while an sbatch
     * of that shape is under way, the next array keeps gathering until it returns. A single job goes as a
     * plain job. @default 25
     */
    arrayWindowMs: z.number().int().min(0).max(10_000).default(25),
    /** Longest a job waits for its array while sbatch calls of its shape are under way. @default 1000 */
    maxArrayWaitMs: z.number().int().min(0).max(60_000).default(1000),
    /** Most tasks in one array (keep below the cluster's MaxArraySize). @default 1000 */
    maxArraySize: z.number().int().min(1).max(100_000).default(1000),
    /**
     * Where the state of a job that left squeue is read: `sacct` (slurmdbd), `jobcomp` (`sacct -c`, the
     * completion file of jobcomp/filetxt, for clusters without slurmdbd), or `none`. @default sacct
     */
    accounting: z.enum(['sacct', 'jobcomp', 'none']).default('sacct'),
    /**
     * How often squeue is read while jobs are pending or running; doubled at each poll, up to 8 times, while
     * the result files (seen by inotify) end every job. @default 1000
     */
    pollIntervalMs: z.number().int().min(50).max(600_000).default(1000),
    /** Lifetime of a job's S3 key when the service has no timeout (revoked when the job ends). @default 24 h */
    credentialTtlMs: z
      .number()
      .int()
      .min(60_000)
      .default(24 * 3600 * 1000),
    /**
     * How long jobs left in Slurm by an earlier server process (killed, or its machine lost) wait for the
     * platform to run them again here, which follows them to their end instead of submitting them anew;
     * those not claimed by then (no attempts left, service removed) are cancelled. @default 600000
     */
    adoptWithinMs: z.number().int().min(0).max(86_400_000).default(600_000),
    /**
     * What a clean stop of the server (SIGTERM) does with jobs in Slurm: `cancel` them (nothing of the
     * server's runs after it stops), or `keep` them running for the next start to follow (an upgrade does
     * not cost a long burst its work; see adoptWithinMs). @default cancel
     */
    onStop: z.enum(['cancel', 'keep']).default('cancel'),
    /** Grace beyond the service's timeout before Slurm's own time limit stops the job. @default 60000 */
    timeLimitGraceMs: z.number().int().min(0).default(60_000),
    /** Declared limits, for hybrid execution (0 = none): longest job and largest memory the cluster takes. */
    limits: z
      .object({
        timeoutMs: z.number().int().min(0).default(0),
        memoryBytes: z.number().int().min(0).default(0),
        gpu: z.boolean().default(true),
      })
      .strict()
      .default({}),
  })
  .strict();

/** The parsed, defaulted configuration. */
export type SlurmExecutorConfig = z.infer<typeof slurmExecutorConfigSchema>;
