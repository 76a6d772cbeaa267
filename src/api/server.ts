/**
 * @module api/server
 * The REST API (fastify): OSCAR's paths and payloads, plus Nubes additions beside them.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';
import { installAuthentication } from './auth.js';
import { dashboardRoutes } from './dashboard.js';
import { installErrorHandler } from './error-handler.js';
import { bucketRoutes } from './routes/buckets.js';
import { EventStreams } from './event-stream.js';
import { collectRoutes, openApiRoutes } from './openapi.js';
import { fdlRoutes } from './routes/fdl.js';
import { invokeRoutes } from './routes/invoke.js';
import { legacyLbRoutes } from './routes/legacy-lb.js';
import { storageEventRoutes } from './routes/storage-events.js';
import { liveRoutes } from './routes/live.js';
import { logRoutes } from './routes/logs.js';
import { mapreduceRoutes } from './routes/mapreduce.js';
import { observabilityRoutes } from './routes/observability.js';
import { schedulerRoutes } from './routes/scheduler.js';
import { serviceRoutes } from './routes/services.js';
import { storageRoutes } from './routes/storage.js';
import { systemRoutes } from './routes/system.js';
import { userRoutes } from './routes/users.js';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** The caller's `x-request-id` when it is a sane one (it ends up in logs), else a new UUID. */
function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
}

export function createApiServer(ctx: ApiContext): FastifyInstance {
  // Per-request lines only at debug level; errors and warnings always. (Typed as fastify's logger: the pino
  // Logger type is wider, the instance is the same.)
  const logger: FastifyBaseLogger = ctx.logger.child(
    { component: 'api' },
    { level: ctx.logger.isLevelEnabled('debug') ? 'debug' : 'warn' },
  );
  const app: FastifyInstance = Fastify({
    loggerInstance: logger,
    bodyLimit: ctx.config.maxBodyBytes,
    // Sync calls may run as long as their service's timeout allows.
    requestTimeout: 0,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Every log line of a request carries its id (`reqId`); the answer names it too.
    genReqId: requestIdOf,
    // A URL fastify cannot decode (e.g. overlong UTF-8) gets the same coded error body as everything else.
    frameworkErrors: (error, _request, reply) => {
      // (fastify's type for this reply is generic over the route; it has none yet.)
      const plain = reply as unknown as { status(code: number): { send(body: unknown): unknown } };
      plain
        .status(400)
        .send({ error: { code: 'BAD_REQUEST', message: `malformed request: ${error.message}` } });
    },
  });
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    // During shutdown every new request is refused (503 UNAVAILABLE); the rest are waited for, except event
    // streams, which never end by themselves (they are closed with the server).
    const accept = request.headers.accept;
    if (typeof accept === 'string' && accept.includes('text/event-stream')) {
      if (ctx.gate.closing) throw ctx.gate.refusal();
      return;
    }
    const leave = ctx.gate.admit();
    reply.raw.once('close', leave);
  });
  const routes = collectRoutes(app);
  installErrorHandler(app);
  installAuthentication(app, ctx.auth.authenticator);
  systemRoutes(app, ctx);
  serviceRoutes(app, ctx);
  logRoutes(app, ctx);
  bucketRoutes(app, ctx);
  userRoutes(app, ctx);
  mapreduceRoutes(app, ctx);
  schedulerRoutes(app, ctx);
  legacyLbRoutes(app, ctx);
  storageEventRoutes(app, ctx);
  void app.register((scope, _options, done) => {
    invokeRoutes(scope, ctx);
    done();
  });
  fdlRoutes(app, ctx);
  liveRoutes(app, ctx, new EventStreams(app));
  storageRoutes(app, ctx);
  observabilityRoutes(app, ctx);
  openApiRoutes(app, ctx, routes);
  dashboardRoutes(app);
  return app;
}
