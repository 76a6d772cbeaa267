/**
 * @module api/routes/observability
 * GET /metrics (Prometheus text format, admin credentials as every endpoint but /health), and the sync
 * calls' outcomes and durations, taken from the /run responses.
 */
import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../auth.js';
import type { ApiContext } from '../context.js';

export function observabilityRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/metrics', async (request, reply) => {
    requireAdmin(request, ctx.config);
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });

  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url !== '/run/:name' || request.method !== 'POST') return;
    const service = (request.params as { name?: string }).name ?? '';
    // Only calls that reached the script: unknown services and refused credentials are no invocation.
    if (!ctx.registry.find(service) || reply.statusCode === 401 || reply.statusCode === 404) return;
    const outcome = reply.statusCode < 400 ? 'succeeded' : 'failed';
    ctx.metrics.observeSync(service, outcome, reply.elapsedTime / 1000);
  });
}
