/**
 * @module cli/commands/service-logs
 * `nubes service logs list|get|delete`: the jobs of a service and their logs (GET/DELETE /system/logs/…),
 * as oscar-cli's `service logs` group.
 */
import type { Command } from 'commander';
import { PlatformError } from '../../core/index.js';
import type { ApiClient } from '../api-client.js';
import type { JobInfo } from '../api-schemas.js';
import { println } from '../cli-io.js';
import {
  addTargetOptions,
  connect,
  setExitCode,
  type CommandContext,
  type TargetFlags,
} from '../command-context.js';
import { EXIT_SYSTEM_ERROR, EXIT_USER_ERROR } from '../error-output.js';
import { parseJobStatuses } from '../flag-parsers.js';
import { formatTable, formatTime, mark } from '../output.js';

/** A job with its id. */
export interface JobRow extends JobInfo {
  id: string;
}

/** More pages than any real service has: a guard against a server that keeps answering `next_page`. */
const MAX_PAGES = 10_000;

/** Adds `nubes service logs …` to the `service` group. */
export function registerServiceLogCommands(service: Command, ctx: CommandContext): void {
  const logs = service.command('logs').description("a service's jobs and their logs");

  addTargetOptions(
    logs
      .command('list')
      .alias('ls')
      .description("list a service's jobs")
      .argument('<name>', 'service name')
      .option(
        '-s, --status <statuses>',
        'only these statuses, comma-separated: Pending,Running,Succeeded,Failed',
        parseJobStatuses,
      ),
  ).action(async (name: string, flags: TargetFlags & { status?: string[] }) => {
    const jobs = filterByStatus(await listAllJobs(connect(ctx, flags), name, flags.status), flags.status);
    if (jobs.length === 0) {
      println(
        ctx.io.stdout,
        flags.status
          ? `service "${name}" has no ${flags.status.join('/')} jobs`
          : `service "${name}" has no jobs`,
      );
      return;
    }
    println(ctx.io.stdout, formatJobTable(jobs));
  });

  addTargetOptions(
    logs
      .command('get')
      .description("print a job's log")
      .argument('<name>', 'service name')
      .argument('[job]', 'job id (see `service logs list`)')
      .option('-l, --latest', 'the most recent job')
      .option('-t, --timestamps', 'prefix lines with their time'),
  ).action(
    async (
      name: string,
      job: string | undefined,
      flags: TargetFlags & { latest?: boolean; timestamps?: boolean },
    ) => {
      if (job !== undefined && flags.latest)
        throw new PlatformError('VALIDATION_FAILED', 'give a job id or --latest, not both');
      if (job === undefined && !flags.latest)
        throw new PlatformError('VALIDATION_FAILED', 'which job? give its id or --latest');
      const client = connect(ctx, flags);
      let jobId = job;
      if (jobId === undefined) {
        const latest = latestJob(await listAllJobs(client, name));
        if (latest === undefined) throw new PlatformError('JOB_NOT_FOUND', `service "${name}" has no jobs`);
        jobId = latest.id;
        println(ctx.io.stderr, `job ${latest.id} (${latest.status})`);
      }
      const text = await client.jobLogs(name, jobId, flags.timestamps === true);
      ctx.io.stdout.write(text.endsWith('\n') || text === '' ? text : text + '\n');
    },
  );

  addTargetOptions(
    logs
      .command('delete')
      .aliases(['rm', 'remove'])
      .description(
        'delete jobs and their logs: the ones named, the finished ones (--succeeded) or all (--all)',
      )
      .argument('<name>', 'service name')
      .argument('[jobs...]', 'job ids')
      .option('--succeeded', 'delete the finished jobs')
      .option('-a, --all', 'delete every job, cancelling the pending and running ones'),
  ).action(
    async (name: string, jobs: string[], flags: TargetFlags & { succeeded?: boolean; all?: boolean }) => {
      const modes = [jobs.length > 0, flags.succeeded === true, flags.all === true].filter(Boolean).length;
      if (modes !== 1)
        throw new PlatformError(
          'VALIDATION_FAILED',
          'give job ids, or --succeeded, or --all (exactly one of them)',
        );
      const client = connect(ctx, flags);
      const color = ctx.io.stdoutIsTty;
      if (jobs.length === 0) {
        await client.deleteJobs(name, flags.all === true);
        println(
          ctx.io.stdout,
          `${mark(true, color)} deleted ${flags.all ? 'all' : 'the finished'} jobs of "${name}"`,
        );
        return;
      }
      for (const job of jobs) {
        try {
          await client.deleteJob(name, job);
          println(ctx.io.stdout, `${mark(true, color)} deleted job ${job}`);
        } catch (error) {
          if (
            !(error instanceof PlatformError) ||
            error.code === 'UNAVAILABLE' ||
            error.code === 'UNAUTHENTICATED'
          )
            throw error;
          println(ctx.io.stdout, `${mark(false, color)} job ${job}: ${error.message}`);
          setExitCode(ctx, error.kind === 'user' ? EXIT_USER_ERROR : EXIT_SYSTEM_ERROR);
        }
      }
    },
  );
}

/** Every job of a service, following `next_page` (a Nubes server also filters by status itself). */
export async function listAllJobs(client: ApiClient, name: string, statuses?: string[]): Promise<JobRow[]> {
  const rows: JobRow[] = [];
  const seen = new Set<string>();
  let page: string | undefined;
  for (let count = 0; count < MAX_PAGES; count += 1) {
    const answer = await client.listJobs(name, page, statuses);
    for (const [id, info] of Object.entries(answer.jobs)) rows.push({ ...info, id });
    if (answer.next_page === undefined || seen.has(answer.next_page)) break;
    seen.add(answer.next_page);
    page = answer.next_page;
  }
  return rows;
}

/** Jobs whose status is one of `statuses` (all when undefined). */
export function filterByStatus(jobs: JobRow[], statuses: string[] | undefined): JobRow[] {
  if (statuses === undefined) return jobs;
  const wanted = new Set(statuses.map((status) => status.toLowerCase()));
  return jobs.filter((job) => wanted.has(job.status.toLowerCase()));
}

/** The most recent job by creation (else start, else finish) time; ties and missing times by id. */
export function latestJob(jobs: JobRow[]): JobRow | undefined {
  return [...jobs].sort(compareJobs).at(-1);
}

/** The table of `service logs list`, oldest first. */
export function formatJobTable(jobs: JobRow[]): string {
  const rows = [...jobs]
    .sort(compareJobs)
    .map((job) => [
      job.id,
      job.status,
      formatTime(job.creation_time),
      formatTime(job.start_time),
      formatTime(job.finish_time),
      job.exit_code === undefined ? '' : String(job.exit_code),
    ]);
  return formatTable(['job', 'status', 'created (utc)', 'started', 'finished', 'exit'], rows);
}

function compareJobs(a: JobRow, b: JobRow): number {
  const difference = timeOf(a) - timeOf(b);
  return difference !== 0 ? difference : a.id.localeCompare(b.id);
}

function timeOf(job: JobRow): number {
  for (const value of [job.creation_time, job.start_time, job.finish_time]) {
    const time = value === undefined ? Number.NaN : Date.parse(value);
    if (!Number.isNaN(time)) return time;
  }
  return 0;
}
