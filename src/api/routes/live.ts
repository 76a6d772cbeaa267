/**
 * @module api/routes/live
 * Nubes additions for dashboards: live job changes and log following as server-sent events (one stream per
 * page, no polling by clients), and the aggregates behind the charts.
 *
 * GET /system/events[?service=]        events `jobs` (changed jobs, batched), `counts`, `resync`
 * GET /system/logs/{svc}/{job}/follow  events `log` (appended text), `job` (status), `end`
 * GET /system/stats                    job counts per service
 * GET /system/stats/{svc}[?minutes=]   jobs per minute, duration distribution, queue depth history
 */
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { FastifyInstance } from 'fastify';
import { PlatformError } from '../../core/index.js';
import type { JobChange, JobRecord } from '../../events/index.js';
import { authorizeService, callerOf, serviceVisibleTo } from '../access.js';
import { principalOf } from '../auth.js';
import type { ApiContext } from '../context.js';
import type { EventStreams } from '../event-stream.js';
import { presentJob } from './logs.js';

/** Changes are gathered this long before one `jobs` event goes out. */
const BATCH_MS = 250;
/** More changed jobs than this in one batch: the client reloads its page instead. */
const MAX_BATCH_JOBS = 500;
/** How often a followed log file is checked for growth while its job runs. */
const FOLLOW_POLL_MS = 300;
const MAX_LOG_CHUNK_BYTES = 256 * 1024;

function presentWithId(job: JobRecord): Record<string, unknown> {
  return { id: job.id, service: job.service, ...presentJob(job) };
}

function countsObject(
  ctx: ApiContext,
  visible: (service: string) => boolean,
): Record<string, Record<string, number>> {
  return Object.fromEntries([...ctx.stats.countsByService()].filter(([service]) => visible(service)));
}

export function liveRoutes(app: FastifyInstance, ctx: ApiContext, streams: EventStreams): void {
  app.get<{ Querystring: { service?: string } }>('/system/events', async (request, reply) => {
    const principal = callerOf(ctx, request);
    const visible = serviceVisibleTo(ctx, principal);
    const only = request.query.service;
    if (only !== undefined && only !== '') authorizeService(ctx, principal, only, 'read');
    const stream = streams.start(request, reply);
    stream.send('counts', countsObject(ctx, visible));
    const changed = new Set<string>();
    let deleted: string[] = [];
    let timer: NodeJS.Timeout | null = null;
    const flush = () => {
      timer = null;
      if (stream.closed) return;
      if (changed.size > MAX_BATCH_JOBS) {
        stream.send('resync', { changed: changed.size });
      } else {
        const jobs: Record<string, unknown>[] = [];
        for (const id of changed) {
          const job = ctx.queue.get(id);
          if (job) jobs.push(presentWithId(job));
        }
        if (jobs.length > 0 || deleted.length > 0) stream.send('jobs', { jobs, deleted });
      }
      changed.clear();
      deleted = [];
      stream.send('counts', countsObject(ctx, visible));
    };
    const unsubscribe = ctx.queue.subscribe((change: JobChange) => {
      if ((only && change.service !== only) || !visible(change.service)) return;
      if (change.type === 'deleted') deleted.push(change.id);
      else changed.add(change.id);
      timer ??= setTimeout(flush, BATCH_MS);
    });
    stream.onClose(() => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    });
  });

  app.get<{ Params: { svc: string; job: string } }>(
    '/system/logs/:svc/:job/follow',
    async (request, reply) => {
      // As reading the job's log (GET /system/logs/{svc}/{job}): the service's own token may.
      authorizeService(ctx, principalOf(request, ctx.config), request.params.svc, 'read');
      const first = ctx.queue.get(request.params.job);
      if (!first || first.service !== request.params.svc) {
        throw new PlatformError(
          'JOB_NOT_FOUND',
          `no job "${request.params.job}" in service "${request.params.svc}"`,
        );
      }
      const path = ctx.runner.logPath(first.service, first.id);
      const stream = streams.start(request, reply);
      let offset = 0;
      const decoder = new StringDecoder('utf8');
      let lastStatus = '';
      let reading = false;
      const readMore = async (): Promise<void> => {
        const file = await open(path, 'r').catch(() => null);
        if (!file) return;
        try {
          for (;;) {
            const buffer = Buffer.alloc(MAX_LOG_CHUNK_BYTES);
            const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
            if (bytesRead === 0) return;
            offset += bytesRead;
            // The decoder keeps a multi-byte character cut by the read for the next one.
            const text = decoder.write(buffer.subarray(0, bytesRead));
            if (text !== '') stream.send('log', { text });
          }
        } finally {
          await file.close();
        }
      };
      const tick = async () => {
        if (reading || stream.closed) return;
        reading = true;
        try {
          const job = ctx.queue.get(first.id);
          await readMore();
          if (!job) {
            stream.send('end', { deleted: true });
            stream.close();
            return;
          }
          const shown = presentWithId(job);
          if (shown.status !== lastStatus) {
            lastStatus = String(shown.status);
            stream.send('job', shown);
          }
          if (job.status !== 'queued' && job.status !== 'running') {
            await readMore();
            stream.send('end', shown);
            stream.close();
          }
        } catch (error) {
          request.log.warn({ err: error }, 'log follow failed');
          stream.close();
        } finally {
          reading = false;
        }
      };
      const timer = setInterval(() => void tick(), FOLLOW_POLL_MS);
      stream.onClose(() => clearInterval(timer));
      await tick();
    },
  );

  app.get('/system/stats', async (request) => {
    const principal = callerOf(ctx, request);
    return { services: countsObject(ctx, serviceVisibleTo(ctx, principal)) };
  });

  app.get<{ Params: { svc: string }; Querystring: { minutes?: string } }>(
    '/system/stats/:svc',
    async (request) => {
      authorizeService(ctx, principalOf(request, ctx.config), request.params.svc, 'read');
      const service = ctx.registry.get(request.params.svc);
      const minutes = request.query.minutes === undefined ? 60 : Number(request.query.minutes);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
        throw new PlatformError('BAD_REQUEST', '?minutes must be a whole number from 1 to 1440');
      }
      return {
        service: service.name,
        counts: ctx.queue.countsByService(service.name),
        per_minute: ctx.stats.perMinute(service.name, minutes),
        durations: ctx.stats.durations(service.name, minutes),
        queue_depth: ctx.stats.depthHistory(service.name),
      };
    },
  );
}
