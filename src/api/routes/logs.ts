/**
 * @module api/routes/logs
 * OSCAR's job endpoints: GET/DELETE /system/logs/{svc}, GET/DELETE /system/logs/{svc}/{job}; Nubes additions
 * for dead letters: GET /system/dead-letters, POST /system/logs/{svc}/{job}/retry (re-drive).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PlatformError } from '../../core/index.js';
import type { JobRecord, JobStatus } from '../../events/index.js';
import { authorize, can, type Action } from '../../auth/index.js';
import { principalOf, serviceResource } from '../auth.js';
import type { ApiContext } from '../context.js';

/** OSCAR's page size for job listings (JOB_LISTING_LIMIT). */
const PAGE_SIZE = 70;

const OSCAR_STATUS: Record<JobStatus, string> = {
  queued: 'Pending',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

const FROM_OSCAR_STATUS: Record<string, JobStatus> = Object.fromEntries(
  Object.entries(OSCAR_STATUS).map(([ours, theirs]) => [theirs.toLowerCase(), ours as JobStatus]),
);

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function presentJob(job: JobRecord): Record<string, unknown> {
  return {
    status: OSCAR_STATUS[job.status],
    creation_time: iso(job.createdMs),
    start_time: iso(job.startedMs),
    finish_time: iso(job.finishedMs),
    exit_code: job.exitCode,
    attempts: job.attempts,
    max_attempts: job.maxAttempts,
    input: job.inputBucket === null ? null : `${job.inputBucket}/${job.inputKey ?? ''}`,
    error: job.error,
    // Nubes addition: every run on an executor (a hybrid job shows its function run, then its batch run).
    runs: job.runs.map((run) => ({
      attempt: run.attempt,
      executor: run.executor,
      role: run.role,
      status: run.status,
      exit_code: run.exitCode,
      error: run.error,
      start_time: iso(run.startedMs),
      finish_time: iso(run.finishedMs),
      note: run.note,
    })),
  };
}

/** The service's jobs are its owner's (and the admin's); its token may read them, as in OSCAR. */
function authorizeJobs(ctx: ApiContext, request: FastifyRequest, service: string, action: Action): void {
  authorize(principalOf(request, ctx.config), action, serviceResource(ctx.registry.get(service)));
}

function jobOf(ctx: ApiContext, service: string, jobId: string): JobRecord {
  ctx.registry.get(service);
  const job = ctx.queue.get(jobId);
  if (!job || job.service !== service)
    throw new PlatformError('JOB_NOT_FOUND', `no job "${jobId}" in service "${service}"`);
  return job;
}

function parseStatuses(value: string | undefined): JobStatus[] | undefined {
  if (value === undefined || value === '') return undefined;
  return value.split(',').map((name) => {
    const status = FROM_OSCAR_STATUS[name.trim().toLowerCase()];
    if (!status) {
      throw new PlatformError(
        'BAD_REQUEST',
        `unknown job status "${name}" (use ${Object.values(OSCAR_STATUS).join(', ')})`,
      );
    }
    return status;
  });
}

export function logRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { svc: string }; Querystring: { page?: string; status?: string } }>(
    '/system/logs/:svc',
    async (request) => {
      authorizeJobs(ctx, request, request.params.svc, 'read');
      const page =
        request.query.page === undefined || request.query.page === '' ? 0 : Number(request.query.page);
      if (!Number.isInteger(page) || page < 0)
        throw new PlatformError('BAD_REQUEST', '?page must be a whole number');
      const statuses = parseStatuses(request.query.status);
      const { jobs, total } = ctx.queue.listByService(request.params.svc, {
        offset: page * PAGE_SIZE,
        limit: PAGE_SIZE,
        ...(statuses ? { statuses } : {}),
      });
      const remaining = Math.max(0, total - (page + 1) * PAGE_SIZE);
      return {
        jobs: Object.fromEntries(jobs.map((job) => [job.id, presentJob(job)])),
        next_page: remaining > 0 ? String(page + 1) : '',
        remaining_jobs: remaining,
      };
    },
  );

  app.delete<{ Params: { svc: string }; Querystring: { all?: string } }>(
    '/system/logs/:svc',
    async (request, reply) => {
      authorizeJobs(ctx, request, request.params.svc, 'write');
      const all = request.query.all === 'true';
      if (all) {
        for (const job of ctx.queue.listByService(request.params.svc, {
          offset: 0,
          limit: 1_000_000,
          statuses: ['queued', 'running'],
        }).jobs) {
          ctx.dispatcher.cancel(job.id);
        }
      }
      for (const id of ctx.queue.deleteJobs(request.params.svc, { all })) {
        await ctx.runner.deleteLog(request.params.svc, id);
      }
      return reply.status(204).send();
    },
  );

  app.get<{ Params: { svc: string; job: string } }>('/system/logs/:svc/:job', async (request, reply) => {
    authorizeJobs(ctx, request, request.params.svc, 'read');
    const job = jobOf(ctx, request.params.svc, request.params.job);
    const log = (await ctx.runner.readLog(job.service, job.id)) ?? '';
    return reply
      .type('text/plain; charset=utf-8')
      .header('x-nubes-job-status', OSCAR_STATUS[job.status])
      .send(log);
  });

  app.get<{ Params: { svc: string; job: string } }>('/system/jobs/:svc/:job', async (request) => {
    authorizeJobs(ctx, request, request.params.svc, 'read');
    const job = jobOf(ctx, request.params.svc, request.params.job);
    return { id: job.id, service: job.service, ...presentJob(job) };
  });

  app.delete<{ Params: { svc: string; job: string } }>('/system/logs/:svc/:job', async (request, reply) => {
    authorizeJobs(ctx, request, request.params.svc, 'write');
    const job = jobOf(ctx, request.params.svc, request.params.job);
    ctx.dispatcher.cancel(job.id);
    ctx.queue.deleteJob(job.id);
    await ctx.runner.deleteLog(job.service, job.id);
    return reply.status(204).send();
  });

  app.post<{ Params: { svc: string; job: string } }>(
    '/system/logs/:svc/:job/retry',
    async (request, reply) => {
      authorizeJobs(ctx, request, request.params.svc, 'write');
      const job = jobOf(ctx, request.params.svc, request.params.job);
      if (!ctx.queue.redrive(job.id)) {
        throw new PlatformError(
          'CONFLICT',
          `job "${job.id}" is ${OSCAR_STATUS[job.status]}; only finished jobs can be retried`,
        );
      }
      ctx.dispatcher.wake();
      return reply.status(202).send({ job_id: job.id, status: 'Pending' });
    },
  );

  app.get<{ Querystring: { service?: string } }>('/system/dead-letters', async (request) => {
    const principal = principalOf(request, ctx.config);
    authorize(principal, 'read', { kind: 'cluster' });
    const jobs = ctx.queue.deadLetters(request.query.service).filter((job) => {
      const service = ctx.registry.find(job.service);
      // Dead letters of deleted services are the admin's to see.
      return service ? can(principal, 'write', serviceResource(service)) : principal.kind === 'admin';
    });
    return { jobs: jobs.map((job) => ({ id: job.id, service: job.service, ...presentJob(job) })) };
  });
}
