/**
 * `npm run bench -- executors`: BENCH_JOBS (default 500) trivial jobs, from enqueue to completion, in one run:
 *
 * - **nubes local**: the server with its local executor (`POST /job/<service>` × N, script `true`);
 * - **nubes slurm**: the same through the Slurm executor on a real cluster on localhost (3 slurmd), with its
 *   defaults (each script sandboxed on its node: under Landlock where the kernel has it), with
 *   `sandbox: bwrap` (bubblewrap) and with `sandbox: none`;
 * - **plain sbatch**: the same N jobs as one `sbatch --array` of the script, without Nubes (the target:
 *   Nubes on Slurm within 10% of this);
 * - **plain sbatch, same work in sh**: a hand-written array doing what a Nubes job does on the node, in the
 *   fewest commands (a private folder, the body as the input file, the script in a clean environment, a
 *   result file, the folder removed), without Nubes;
 * - **plain sbatch + supervisor**: an array of the Node supervisor (what Nubes ran per job before its
 *   shell path, and still runs for storage on other providers) without the rest of Nubes.
 *
 * Nubes runs are timed from just before the first POST to the last job's recorded finish; plain runs from
 * just before sbatch to the moment squeue (read every 100 ms) shows none of the array's tasks left. The
 * machine is shared and runs vary by more than the target, so plain `true`, plain same work and both Nubes
 * on Slurm runs go BENCH_ROUNDS (default 9) times each, each round starting with the next of them. The table
 * shows their medians, every run, and the median of each run's ratio to the plain `true` run of its own
 * round (the machine's drift over the benchmark cancels out); the load average is printed beside the
 * numbers. The cluster keeps ended jobs BENCH_MIN_JOB_AGE seconds (5). Results: bench/results/executors.json.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { batchScript, submissionArgs } from '../src/executors/slurm/sbatch-script.js';
import { formatInvocationFile } from '../src/supervisor/invocation-file.js';
import { DEFAULT_LANDLOCK_PATH, slurmExecutorConfigSchema } from '../src/executors/slurm/config-schema.js';
import { probeLandlock } from '../src/supervisor/landlock.js';
import { startServer, type ServerProcess } from '../test/support/server-process.js';
import { slurmMissing, startSlurmCluster, type SlurmTestCluster } from '../test/support/slurm-cluster.js';

const JOBS = Number(process.env.BENCH_JOBS ?? '500');
/** Null when `sandbox: auto` runs scripts under Landlock on this machine, else why not. */
const landlockWhy = await probeLandlock(DEFAULT_LANDLOCK_PATH);
const NODES = 3;
const CPUS_PER_NODE = 16;
const SCRIPT = 'true';
/**
 * slurmctld's MinJobAge (s): Slurm's high-throughput guide lowers it, so that the records of the thousands of
 * jobs each round ends do not slow the scheduler down for the runs that come after them in the round.
 */
const MIN_JOB_AGE = Number(process.env.BENCH_MIN_JOB_AGE ?? '5');
/** Rounds of the Slurm runs (plain `true`, plain same work, Nubes), in rotating order; medians are reported. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '9');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Row {
  run: string;
  'on each node, per job': string;
  jobs: number;
  succeeded: number;
  seconds: number;
  'each run (s)': string;
  'jobs/s': number;
  'vs plain sbatch': string;
  'vs same work': string;
  'vs plain, same round (median)': string;
}

interface JobView {
  status: string;
  creation_time: string;
  finish_time: string | null;
}

/**
 * POSTs a body as the admin over keep-alive connections, the header computed once: the client runs on the
 * machine that runs Slurm, so its own CPU (fetch and a credentials read per request cost a plain run's whole
 * client several times over) would be counted against Nubes.
 */
async function poster(server: ServerProcess): Promise<{
  post(path: string, body: string): Promise<{ status: number; text: string }>;
  close(): void;
}> {
  const credentials = await server.credentials();
  const authorization = `Basic ${Buffer.from(`${credentials.adminUser}:${credentials.adminPassword}`).toString('base64')}`;
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const post = (path: string, body: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const headers = {
        authorization,
        'content-type': 'text/plain;charset=UTF-8',
        'content-length': String(Buffer.byteLength(body)),
      };
      const sent = request(`${server.apiUrl}${path}`, { method: 'POST', agent, headers }, (answer) => {
        let text = '';
        answer.setEncoding('utf8');
        answer.on('data', (chunk: string) => (text += chunk));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, text }));
        answer.on('error', reject);
      });
      sent.on('error', reject);
      sent.end(body);
    });
  return { post, close: () => agent.destroy() };
}

/** Enqueues JOBS async invocations and waits for all to finish; seconds from the first POST to the last finish. */
async function throughNubes(
  server: ServerProcess,
  service: string,
): Promise<{ seconds: number; succeeded: number }> {
  const client = await poster(server);
  const started = Date.now();
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < JOBS) {
          const index = next++;
          const answer = await client.post(`/job/${service}`, `{"index":${index}}`);
          if (answer.status !== 201) throw new Error(`POST /job/${service}: ${answer.status} ${answer.text}`);
        }
      }),
    );
  } finally {
    client.close();
  }
  for (;;) {
    const active = (await (await server.api(`/system/logs/${service}?status=Pending,Running`)).json()) as {
      jobs: Record<string, JobView>;
    };
    if (Object.keys(active.jobs).length === 0) break;
    // Finish times are the jobs' own: polling more often would only spend the server's CPU on listings.
    await sleep(1000);
  }
  const jobs: JobView[] = [];
  for (let page = ''; ;) {
    const answer = (await (
      await server.api(`/system/logs/${service}${page === '' ? '' : `?page=${page}`}`)
    ).json()) as {
      jobs: Record<string, JobView>;
      next_page: string;
    };
    jobs.push(...Object.values(answer.jobs));
    if (answer.next_page === '') break;
    page = answer.next_page;
  }
  const finished = Math.max(...jobs.map((job) => Date.parse(job.finish_time ?? '') || 0));
  return {
    seconds: (finished - started) / 1000,
    succeeded: jobs.filter((job) => job.status === 'Succeeded').length,
  };
}

async function nubesRun(
  name: string,
  env: NodeJS.ProcessEnv,
  executor: string,
): Promise<{ seconds: number; succeeded: number }> {
  const server = await startServer({ env });
  try {
    const created = await server.api('/system/services', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name,
        image: 'alpine',
        executor,
        script: SCRIPT,
        cpu: '1',
        memory: '64Mi',
        max_retries: 0,
      }),
    });
    if (created.status !== 201) throw new Error(`deploy: ${created.status} ${await created.text()}`);
    return await throughNubes(server, name);
  } finally {
    await server.cleanup();
  }
}

/** Submits one array with `sbatch` and waits until squeue shows none of its tasks. */
async function plainArray(cluster: SlurmTestCluster, dir: string, script: string): Promise<number> {
  await writeFile(join(dir, 'job.sh'), script, { mode: 0o700 });
  const started = Date.now();
  const args = submissionArgs(
    [
      '--job-name=plain',
      '--nodes=1',
      '--ntasks=1',
      '--cpus-per-task=1',
      '--mem=64M',
      `--partition=${cluster.partition}`,
    ],
    dir,
    `0-${JOBS - 1}`,
  );
  const submitted = await cluster.command('sbatch', args);
  if (submitted.code !== 0) throw new Error(`sbatch: ${submitted.stderr}`);
  const jobId = submitted.stdout.trim();
  for (;;) {
    const left = await cluster.command('squeue', ['-h', '-j', jobId, '-t', 'PD,R,CG,CF', '-o', '%i']);
    if (left.code === 0 && left.stdout.trim() === '') break;
    await sleep(100);
  }
  return (Date.now() - started) / 1000;
}

/** The same work as a Nubes job on the shell path, written by hand in the fewest commands. */
function sameWorkScript(dir: string): string {
  return [
    '#!/bin/sh',
    'task=${SLURM_ARRAY_TASK_ID:-0}',
    'root=${TMPDIR:-/tmp}/plain-$SLURM_JOB_ID-$$',
    'mkdir -m 700 "$root" "$root/in" "$root/out" || exit 1',
    `printf '{"index":%s}' "$task" > "$root/in/event"`,
    'cd "$root" && env -i PATH=/usr/bin:/bin HOME="$root" INPUT_FILE_PATH="$root/in/event" TMP_OUTPUT_DIR="$root/out" /bin/sh -c ' +
      `'${SCRIPT}' >> ${dir}/"$task.log" 2>&1`,
    'code=$?',
    'cd / && rm -rf "$root"',
    `printf 'done %s\n' "$code" > ${dir}/"$task.result"`,
    '',
  ].join('\n');
}

/** One array of `true`, without Nubes. */
async function plainTrue(cluster: SlurmTestCluster): Promise<number> {
  const dir = await mkdtemp(join(cluster.dir, 'plain-'));
  const seconds = await plainArray(cluster, dir, `#!/bin/sh\n${SCRIPT}\n`);
  await rm(dir, { recursive: true, force: true });
  return seconds;
}

/** One array doing by hand what a Nubes job on the shell path does, without Nubes. */
async function plainSameWork(cluster: SlurmTestCluster): Promise<number> {
  const dir = await mkdtemp(join(cluster.dir, 'plain-same-work-'));
  const seconds = await plainArray(cluster, dir, sameWorkScript(dir));
  await rm(dir, { recursive: true, force: true });
  return seconds;
}

/** One array of the Node supervisor, without the rest of Nubes. */
async function plainSupervisor(cluster: SlurmTestCluster): Promise<number> {
  const supervisorDir = await mkdtemp(join(cluster.dir, 'plain-supervisor-'));
  const config = slurmExecutorConfigSchema.parse({});
  const service = Buffer.from(JSON.stringify({ name: 'trivial', script: SCRIPT })).toString('base64');
  await Promise.all(
    Array.from({ length: JOBS }, (_, index) =>
      writeFile(
        join(supervisorDir, `${index}.json`),
        formatInvocationFile({ env: { FUNCTION_CONFIG: service, JOB_UUID: `plain-${index}` }, event: '{}' }),
        { mode: 0o600 },
      ),
    ),
  );
  const seconds = await plainArray(
    cluster,
    supervisorDir,
    batchScript({
      dir: supervisorDir,
      node: config.supervisor.node,
      supervisor: config.supervisor.path,
      service: 'trivial',
    }),
  );
  await rm(supervisorDir, { recursive: true, force: true });
  return seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const missing = await slurmMissing();
  if (missing !== null) throw new Error(`the executors benchmark needs Slurm: ${missing}`);
  const loadBefore = loadavg();
  const local = await nubesRun('trivial-local', {}, 'local');

  const cluster = await startSlurmCluster({
    nodes: NODES,
    cpusPerNode: CPUS_PER_NODE,
    minJobAge: MIN_JOB_AGE,
  });
  // Runs on a shared machine vary by more than the target: the Slurm runs alternate, ROUNDS times each,
  // and the table shows their medians.
  const runs = {
    script: [] as number[],
    sameWork: [] as number[],
    slurm: [] as number[],
    bwrap: [] as number[],
    bare: [] as number[],
  };
  let slurmSucceeded = JOBS;
  let supervisor: number;
  try {
    // Warm-up: the first job on a fresh cluster pays for slurmd's first contact.
    await plainArray(cluster, await mkdtemp(join(cluster.dir, 'warm-')), '#!/bin/sh\ntrue\n');
    supervisor = await plainSupervisor(cluster);
    const spoolDir = join(cluster.dir, 'jobs');
    await mkdir(spoolDir, { recursive: true });
    /** Nubes on Slurm with its defaults (`sandbox: auto`), in bubblewrap, or with `sandbox: none`. */
    const nubesSlurm = async (round: number, sandbox: 'auto' | 'bwrap' | 'none') => {
      const slurm = await nubesRun(
        `trivial-slurm-${sandbox}-${round}`,
        {
          // The global limit counts jobs of every executor: Slurm's must not wait on the local slots.
          NUBES_MAX_CONCURRENT_JOBS: String(Math.max(JOBS, 64)),
          NUBES_EXECUTORS: JSON.stringify({
            slurm: {
              slurmConf: cluster.confPath,
              partition: cluster.partition,
              accounting: 'jobcomp',
              spoolDir,
              sandbox,
            },
          }),
        },
        'slurm',
      );
      ({ auto: runs.slurm, bwrap: runs.bwrap, none: runs.bare })[sandbox].push(slurm.seconds);
      slurmSucceeded = Math.min(slurmSucceeded, slurm.succeeded);
    };
    const contenders = [
      async () => runs.script.push(await plainTrue(cluster)),
      async () => runs.sameWork.push(await plainSameWork(cluster)),
      (round: number) => nubesSlurm(round, 'auto'),
      (round: number) => nubesSlurm(round, 'bwrap'),
      (round: number) => nubesSlurm(round, 'none'),
    ];
    // Each round starts with the next contender: slurmctld slows down while ended jobs' records pile up
    // (kept MinJobAge, lowered here), and no contender may always run last.
    for (let round = 0; round < ROUNDS; round++) {
      for (let turn = 0; turn < contenders.length; turn++)
        await contenders[(round + turn) % contenders.length]?.(round);
    }
  } finally {
    await cluster.stop();
  }
  const loadAfter = loadavg();

  const plain = { script: median(runs.script), sameWork: median(runs.sameWork) };
  const percent = (seconds: number, base: number) =>
    `${seconds >= base ? '+' : ''}${(((seconds - base) / base) * 100).toFixed(1)}%`;
  // Each run against the plain `true` run of its own round (the two minutes apart at most): the machine's
  // drift over the whole benchmark cancels out.
  const paired = (all: number[]) =>
    all.length === runs.script.length
      ? percent(median(all.map((seconds, round) => seconds / (runs.script[round] ?? seconds))), 1)
      : '';
  const row = (run: string, work: string, all: number[], succeeded: number): Row => ({
    run,
    'on each node, per job': work,
    jobs: JOBS,
    succeeded,
    seconds: Number(median(all).toFixed(2)),
    'each run (s)': all.map((seconds) => seconds.toFixed(2)).join(' '),
    'jobs/s': Number((JOBS / median(all)).toFixed(1)),
    'vs plain sbatch': percent(median(all), plain.script),
    'vs same work': percent(median(all), plain.sameWork),
    'vs plain, same round (median)': paired(all),
  });
  const rows = [
    row('nubes local (4 slots)', 'sandboxed script (no Slurm)', [local.seconds], local.succeeded),
    row('plain sbatch --array', '`true`', runs.script, JOBS),
    row(
      'plain sbatch --array, same work in sh',
      'folder, input file, env -i script, result',
      runs.sameWork,
      JOBS,
    ),
    row('plain sbatch --array, Node supervisor', 'Node supervisor', [supervisor], JOBS),
    row(
      'nubes slurm',
      `shell path, script ${landlockWhy === null ? 'under Landlock' : 'in bubblewrap (no Landlock here)'} (default)`,
      runs.slurm,
      slurmSucceeded,
    ),
    row('nubes slurm, sandbox: bwrap', 'shell path, script in bubblewrap', runs.bwrap, slurmSucceeded),
    row('nubes slurm, sandbox: none', 'shell path, bare script', runs.bare, slurmSucceeded),
  ];
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');
  console.log(
    `\n${JOBS} trivial jobs (\`${SCRIPT}\`), medians of ${ROUNDS} rounds; Slurm: ${NODES} slurmd x ${CPUS_PER_NODE} CPUs on this 2-core machine; ` +
      `load average before ${load(loadBefore)}, after ${load(loadAfter)}`,
  );
  console.table(rows);
  const resultsDir = new URL('../../bench/results/', import.meta.url).pathname;
  await mkdir(resultsDir, { recursive: true });
  await writeFile(
    join(resultsDir, 'executors.json'),
    `${JSON.stringify(
      {
        jobs: JOBS,
        rounds: ROUNDS,
        slurm: { nodes: NODES, cpusPerNode: CPUS_PER_NODE },
        loadAverage: { before: loadBefore, after: loadAfter },
        rows,
        date: new Date().toISOString(),
      },
      null,
      2,
    )}\n`,
  );
}

await main();
