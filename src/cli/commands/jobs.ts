/**
 * @module cli/commands/jobs
 * `nubes jobs submit|list|get|cancel|results`: the scheduler's divisible jobs. Acts as the tenant whose
 * token is given (`--token` or NUBES_TOKEN), else as the cluster's admin.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { PlatformError } from '../../core/index.js';
import type { RequestAuth } from '../api-client.js';
import { println } from '../cli-io.js';
import { addTargetOptions, connect, type CommandContext, type TargetFlags } from '../command-context.js';
import { formatTable } from '../output.js';

type JobFlags = TargetFlags & { token?: string; json?: boolean };

const jobSchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    state: z.string(),
    iterations: z.number(),
    done: z.number(),
    predictedDone: z.number(),
    etaSec: z.number().nullable(),
    partitions: z
      .object({ total: z.number(), active: z.number(), missing: z.number(), finished: z.number() })
      .passthrough(),
  })
  .passthrough();
const anySchema = z.record(z.unknown());

function authOf(ctx: CommandContext, flags: JobFlags): RequestAuth {
  const token = flags.token ?? ctx.io.env['NUBES_TOKEN'];
  return token === undefined || token === '' ? 'basic' : { bearer: token };
}

function withJobOptions(command: Command): Command {
  return addTargetOptions(command)
    .option('--token <token>', "a tenant's token (default: $NUBES_TOKEN, else the cluster's admin)")
    .option('--json', 'print the JSON answer');
}

function progress(job: z.infer<typeof jobSchema>): string {
  const percent = job.iterations === 0 ? 100 : (100 * Math.max(job.done, job.predictedDone)) / job.iterations;
  return `${percent.toFixed(1)}%`;
}

/** Adds `nubes jobs …`. */
export function registerJobCommands(program: Command, ctx: CommandContext): void {
  const jobs = program
    .command('jobs')
    .description('divisible jobs split across sites and balanced while they run');
  const path = (id?: string, tail = '') =>
    `/system/scheduler/jobs${id === undefined ? '' : `/${encodeURIComponent(id)}`}${tail}`;

  withJobOptions(
    jobs.command('submit').description('submit a job file (JSON)').argument('<file>', 'job file'),
  ).action(async (file: string, flags: JobFlags) => {
    let body: string;
    try {
      body = await readFile(resolve(ctx.io.cwd, file), 'utf8');
      JSON.parse(body);
    } catch (error) {
      throw new PlatformError(
        'VALIDATION_FAILED',
        `${file}: not a readable JSON file (${(error as Error).message})`,
      );
    }
    const job = await connect(ctx, flags).json(jobSchema, 'POST', path(), {
      body,
      contentType: 'application/json',
      auth: authOf(ctx, flags),
    });
    println(ctx.io.stdout, flags.json ? JSON.stringify(job, null, 2) : job.id);
  });

  withJobOptions(jobs.command('list').alias('ls').description('list jobs')).action(
    async (flags: JobFlags) => {
      const answer = await connect(ctx, flags).json(z.object({ jobs: jobSchema.array() }), 'GET', path(), {
        auth: authOf(ctx, flags),
      });
      if (flags.json) return println(ctx.io.stdout, JSON.stringify(answer.jobs, null, 2));
      if (answer.jobs.length === 0) return println(ctx.io.stdout, 'no jobs');
      println(
        ctx.io.stdout,
        formatTable(
          ['ID', 'NAME', 'STATE', 'PROGRESS', 'ETA', 'PARTITIONS'],
          answer.jobs.map((job) => [
            job.id,
            job.name ?? '',
            job.state,
            progress(job),
            job.etaSec === null ? '' : `${Math.ceil(job.etaSec)}s`,
            `${job.partitions.active} running, ${job.partitions.missing} missing, ${job.partitions.finished}/${job.partitions.total} done`,
          ]),
        ),
      );
    },
  );

  withJobOptions(
    jobs.command('get').description("a job's state and partitions").argument('<id>', 'job id'),
  ).action(async (id: string, flags: JobFlags) => {
    const job = await connect(ctx, flags).json(anySchema, 'GET', path(id), { auth: authOf(ctx, flags) });
    println(ctx.io.stdout, JSON.stringify(job, null, 2));
  });

  withJobOptions(jobs.command('cancel').description('cancel a job').argument('<id>', 'job id')).action(
    async (id: string, flags: JobFlags) => {
      const job = await connect(ctx, flags).json(jobSchema, 'POST', path(id, '/cancel'), {
        auth: authOf(ctx, flags),
      });
      println(ctx.io.stdout, flags.json ? JSON.stringify(job, null, 2) : `${job.id} ${job.state}`);
    },
  );

  withJobOptions(
    jobs
      .command('results')
      .description("a job's reduced result (with --json: per partition results and speed timelines)")
      .argument('<id>', 'job id'),
  ).action(async (id: string, flags: JobFlags) => {
    const answer = await connect(ctx, flags).json(anySchema, 'GET', path(id, '/results'), {
      auth: authOf(ctx, flags),
    });
    println(ctx.io.stdout, JSON.stringify(flags.json ? answer : answer['result'], null, 2));
  });
}
