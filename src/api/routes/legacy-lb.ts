/**
 * @module api/routes/legacy-lb
 * TaScaaS's load-balancer endpoints, so RUPER-LB / PenRed HTTP clients and TaScaaS launch scripts work
 * unchanged: `GET /lb/{job}/start?worker=W&dt=S`, `/report?worker=W&nIter=N&dt=S`, `/finish?...`, plain-text
 * answers (see scheduler/legacy-protocol). Unlike TaScaaS, where the job id alone let anyone report, the
 * `{job}` segment is `<jobId>.<partition token>`: the base URL a site hands to the partition's process.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PlatformError } from '../../core/index.js';
import {
  LB_ERRCODE,
  formatLegacyAssignment,
  formatLegacyError,
  formatLegacyFinish,
  type LegacyAction,
} from '../../scheduler/index.js';
import type { ApiContext } from '../context.js';

type LegacyRequest = {
  Params: { capability: string; action: string };
  Querystring: { worker?: string; nIter?: string; dt?: string };
};

function wholeNumber(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value.trim())) return null;
  return Number(value);
}

function text(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.status(status).type('text/plain; charset=utf-8').send(body);
}

export function legacyLbRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // Public as far as the platform's authentication goes: the capability in the path is checked below.
  app.get<LegacyRequest>(
    '/lb/:capability/:action',
    { config: { public: true, ownCredentials: true } },
    async (request, reply) => {
      const action = request.params.action as LegacyAction;
      if (action !== 'start' && action !== 'report' && action !== 'finish')
        return text(reply, 400, 'unknown petition');
      const dot = request.params.capability.indexOf('.');
      if (dot <= 0) return text(reply, 401, 'the URL must be the one the site handed out: /lb/<job>.<token>');
      const jobId = request.params.capability.slice(0, dot);
      const token = request.params.capability.slice(dot + 1);
      // TaScaaS's messages for missing parameters (HTTP 400, plain text).
      const worker = wholeNumber(request.query.worker);
      if (worker === null) return text(reply, 400, 'missing worker number');
      const dt = wholeNumber(request.query.dt);
      if (dt === null) return text(reply, 400, 'missing elapsed time');
      const nIter = wholeNumber(request.query.nIter);
      if (action !== 'start' && nIter === null) return text(reply, 400, 'missing iterations done');
      const scheduler = ctx.scheduler;
      try {
        // Group commit, as the JSON protocol routes: the answer leaves once its change has committed.
        if (action === 'start') {
          const answer = await scheduler.grouped(() => scheduler.start(jobId, worker, { token }));
          return text(reply, 200, formatLegacyAssignment('start', answer.assigned, answer.etaSec));
        }
        if (action === 'report') {
          const answer = await scheduler.grouped(() =>
            scheduler.report(jobId, worker, { token }, nIter ?? 0, dt),
          );
          return text(reply, 200, formatLegacyAssignment('report', answer.assigned, answer.etaSec));
        }
        await scheduler.grouped(() => scheduler.finish(jobId, worker, { token }, nIter ?? 0, dt, null));
        return text(reply, 200, formatLegacyFinish());
      } catch (error) {
        if (!(error instanceof PlatformError)) throw error;
        // LB-level errors travel as "<instruction> <code>" with HTTP 200, as TaScaaS's Lambda answered them.
        if (error.code === 'NOT_FOUND')
          return text(reply, 200, formatLegacyError(action, LB_ERRCODE.WORKER_OUT_OF_RANGE));
        if (error.code === 'CONFLICT')
          return text(reply, 200, formatLegacyError(action, LB_ERRCODE.WORKER_NOT_STARTED));
        if (error.code === 'LEASE_LOST') return text(reply, 403, error.message);
        throw error;
      }
    },
  );
}
