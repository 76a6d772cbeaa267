/**
 * @module cli/commands/mapreduce
 * `nubes mapreduce run|list|status|logs|cancel`: MapReduce jobs over objects in the cluster's storage
 * (/system/mapreduce). `run` uploads the function files with the request and follows the job with a live
 * progress bar (mappers done, bytes read, reducers done) when stderr is a terminal.
 */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { PlatformError } from '../../core/index.js';
import type { ApiClient } from '../api-client.js';
import { println, type CliIo } from '../cli-io.js';
import {
  addTargetOptions,
  connect,
  setExitCode,
  type CommandContext,
  type TargetFlags,
} from '../command-context.js';
import { EXIT_USER_ERROR } from '../error-output.js';
import { formatBytes, formatTable, formatTime } from '../output.js';

const progressSchema = z.object({
  mapsTotal: z.number(),
  mapsDone: z.number(),
  bytesTotal: z.number(),
  bytesRead: z.number(),
  reducesTotal: z.number(),
  reducesDone: z.number(),
});
const attemptSchema = z.object({
  attempt: z.number(),
  state: z.string(),
  speculative: z.boolean(),
  error: z.string().nullable(),
});
const taskSchema = z.object({
  id: z.string(),
  kind: z.string(),
  state: z.string(),
  object: z.string().nullable(),
  start: z.number().nullable(),
  end: z.number().nullable(),
  partition: z.number().nullable(),
  attempts: z.array(attemptSchema),
});
const jobSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.string(),
  createdMs: z.number(),
  finishedMs: z.number().nullable(),
  trigger: z.string(),
  input: z.string(),
  output: z.string(),
  progress: progressSchema,
  outputs: z.array(z.string()),
  tasks: z.array(taskSchema).optional(),
  error: z
    .object({ message: z.string(), task: z.string().nullable(), log: z.string().nullable() })
    .nullable(),
});
type Job = z.infer<typeof jobSchema>;

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

interface RunFlags extends TargetFlags {
  input: string;
  mapper: string;
  reducer: string;
  combiner?: string;
  output?: string;
  reducers?: string;
  chunkSize?: string;
  mappers?: string;
  memory?: string;
  merged?: boolean;
  executor?: string;
  wait: boolean;
}

async function functionFile(
  ctx: CommandContext,
  path: string,
): Promise<{ file_name: string; content: string }> {
  try {
    const content = await readFile(resolve(ctx.io.cwd, path));
    return { file_name: basename(path), content: content.toString('base64') };
  } catch (error) {
    throw new PlatformError('VALIDATION_FAILED', `cannot read ${path}: ${(error as Error).message}`);
  }
}

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new PlatformError(
      'VALIDATION_FAILED',
      `${flag} must be a whole number of at least 1, got "${value}"`,
    );
  return number;
}

/** A live bar on a terminal; nothing elsewhere (logs and pipes stay clean). */
async function followJob(client: ApiClient, io: CliIo, id: string): Promise<Job> {
  let bar: import('cli-progress').SingleBar | null = null;
  if (io.stderrIsTty) {
    const { default: cliProgress } = await import('cli-progress');
    bar = new cliProgress.SingleBar(
      {
        stream: io.stderr as NodeJS.WriteStream,
        format: '{state} [{bar}] maps {maps} | {bytes} read | reducers {reduces}',
        hideCursor: true,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(1, 0, { state: 'pending', maps: '0/?', bytes: '0 B', reduces: '0/?' });
  }
  try {
    for (;;) {
      const job = await client.json(jobSchema, 'GET', `/system/mapreduce/jobs/${encodeURIComponent(id)}`);
      const p = job.progress;
      bar?.setTotal(Math.max(1, p.mapsTotal + p.reducesTotal));
      bar?.update(p.mapsDone + p.reducesDone, {
        state: job.state.padEnd(9),
        maps: `${p.mapsDone}/${p.mapsTotal}`,
        bytes: `${formatBytes(p.bytesRead)}/${formatBytes(p.bytesTotal)}`,
        reduces: `${p.reducesDone}/${p.reducesTotal}`,
      });
      if (ENDED.has(job.state)) return job;
      await new Promise((done) => setTimeout(done, 300));
    }
  } finally {
    bar?.stop();
  }
}

function report(ctx: CommandContext, job: Job): void {
  const { io } = ctx;
  if (job.state === 'succeeded') {
    println(
      io.stdout,
      `job ${job.id} succeeded: ${job.progress.mapsTotal} map tasks, ${formatBytes(job.progress.bytesRead)} read`,
    );
    for (const output of job.outputs) println(io.stdout, `  ${output}`);
    return;
  }
  println(io.stderr, `job ${job.id} ${job.state}: ${job.error?.message ?? ''}`);
  if (job.error?.log) {
    println(io.stderr, `--- log of task ${job.error.task ?? '?'} ---`);
    io.stderr.write(job.error.log.endsWith('\n') ? job.error.log : `${job.error.log}\n`);
  }
  setExitCode(ctx, EXIT_USER_ERROR);
}

/** Adds `nubes mapreduce …`. */
export function registerMapReduceCommands(program: Command, ctx: CommandContext): void {
  const group = program.command('mapreduce').alias('mr').description('MapReduce jobs over stored objects');

  addTargetOptions(
    group
      .command('run')
      .description('run a MapReduce job over one object or every object under a folder')
      .requiredOption('-i, --input <path>', 'BUCKET/KEY of one object, or BUCKET/FOLDER')
      .requiredOption(
        '-m, --mapper <file>',
        'JS/TS module with map(chunk, emit), MARLA Python file, or executable',
      )
      .requiredOption(
        '-r, --reducer <file>',
        'JS/TS module with reduce(key, values, emit), MARLA Python file, or executable',
      )
      .option('--combiner <file>', 'JS module with combine(key, values, emit)')
      .option('-o, --output <path>', 'BUCKET/FOLDER for the output (default: BUCKET/mapreduce-output/…)')
      .option('-R, --reducers <n>', 'number of reducers (default 2)')
      .option('--chunk-size <size>', 'bytes per map task, e.g. 64MiB (default: from the data)')
      .option('--mappers <n>', 'target number of map tasks instead of a chunk size')
      .option('--memory <size>', 'memory of one task, e.g. 1GiB')
      .option('--merged', 'write one merged object instead of one per reducer')
      .option('--executor <name>', 'executor of Python and executable functions (default local)')
      .option('--no-wait', 'print the job id and return at once'),
  ).action(async (flags: RunFlags) => {
    const client = connect(ctx, flags);
    const body: Record<string, unknown> = {
      input: flags.input,
      mapper: await functionFile(ctx, flags.mapper),
      reducer: await functionFile(ctx, flags.reducer),
    };
    if (flags.combiner !== undefined) body['combiner'] = await functionFile(ctx, flags.combiner);
    if (flags.output !== undefined) body['output'] = flags.output;
    if (flags.reducers !== undefined) body['reducers'] = positiveInteger(flags.reducers, '--reducers');
    if (flags.mappers !== undefined) body['mappers'] = positiveInteger(flags.mappers, '--mappers');
    if (flags.chunkSize !== undefined) body['chunk_size'] = flags.chunkSize;
    if (flags.memory !== undefined) body['memory'] = flags.memory;
    if (flags.merged === true) body['output_mode'] = 'merged';
    if (flags.executor !== undefined) body['executor'] = flags.executor;
    const created = await client.json(jobSchema, 'POST', '/system/mapreduce/jobs', {
      body: JSON.stringify(body),
      contentType: 'application/json',
    });
    if (!flags.wait) {
      println(ctx.io.stdout, created.id);
      return;
    }
    report(ctx, await followJob(client, ctx.io, created.id));
  });

  addTargetOptions(group.command('list').alias('ls').description('list MapReduce jobs')).action(
    async (flags: TargetFlags) => {
      const jobs = await connect(ctx, flags).json(z.array(jobSchema), 'GET', '/system/mapreduce/jobs');
      if (jobs.length === 0) {
        println(ctx.io.stdout, 'no MapReduce jobs');
        return;
      }
      const rows = jobs.map((job) => [
        job.id,
        job.name,
        job.state,
        `${job.progress.mapsDone}/${job.progress.mapsTotal}`,
        `${job.progress.reducesDone}/${job.progress.reducesTotal}`,
        formatTime(new Date(job.createdMs)),
        job.input,
      ]);
      println(
        ctx.io.stdout,
        formatTable(['ID', 'NAME', 'STATE', 'MAPS', 'REDUCERS', 'CREATED', 'INPUT'], rows),
      );
    },
  );

  addTargetOptions(
    group.command('status').description("a job's state and its tasks").argument('<id>', 'job id'),
  ).action(async (id: string, flags: TargetFlags) => {
    const job = await connect(ctx, flags).json(
      jobSchema,
      'GET',
      `/system/mapreduce/jobs/${encodeURIComponent(id)}`,
    );
    const p = job.progress;
    println(ctx.io.stdout, `${job.id} (${job.name}): ${job.state}`);
    println(ctx.io.stdout, `input ${job.input} -> output ${job.output}, trigger ${job.trigger}`);
    println(
      ctx.io.stdout,
      `maps ${p.mapsDone}/${p.mapsTotal}, ${formatBytes(p.bytesRead)}/${formatBytes(p.bytesTotal)} read, reducers ${p.reducesDone}/${p.reducesTotal}`,
    );
    if (job.error) println(ctx.io.stdout, `error: ${job.error.message}`);
    const rows = (job.tasks ?? []).map((task) => [
      task.id,
      task.state,
      task.kind === 'map'
        ? `${task.object ?? ''} [${task.start ?? 0}, ${task.end ?? 0})`
        : `partition ${task.partition ?? 0}`,
      task.attempts.map((a) => `${a.attempt}:${a.state}${a.speculative ? '*' : ''}`).join(' '),
    ]);
    if (rows.length > 0)
      println(ctx.io.stdout, formatTable(['TASK', 'STATE', 'INPUT', 'ATTEMPTS (* speculative)'], rows));
  });

  addTargetOptions(
    group
      .command('logs')
      .description("a task's log (its last attempt unless --attempt)")
      .argument('<id>', 'job id')
      .argument('<task>', 'task id, e.g. m-00003 or r-00000')
      .option('-a, --attempt <n>', 'attempt number'),
  ).action(async (id: string, task: string, flags: TargetFlags & { attempt?: string }) => {
    const attempt = positiveInteger(flags.attempt, '--attempt');
    const response = await connect(ctx, flags).send(
      'GET',
      `/system/mapreduce/jobs/${encodeURIComponent(id)}/tasks/${encodeURIComponent(task)}/log`,
      { query: { attempt: attempt === undefined ? undefined : String(attempt) } },
    );
    ctx.io.stdout.write(response.body);
  });

  addTargetOptions(
    group
      .command('cancel')
      .description('cancel a running job (or remove a finished one)')
      .argument('<id>', 'job id'),
  ).action(async (id: string, flags: TargetFlags) => {
    await connect(ctx, flags).send('DELETE', `/system/mapreduce/jobs/${encodeURIComponent(id)}`);
    println(ctx.io.stdout, `job ${id} cancelled`);
  });
}
