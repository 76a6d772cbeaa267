/**
 * @module api/server
 * The REST API (fastify): OSCAR's paths and payloads, plus Nubes additions beside them.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';
import { installAuthentication } from './auth.js';
import { installErrorHandler } from './error-handler.js';
import { bucketRoutes } from './routes/buckets.js';
import { invokeRoutes } from './routes/invoke.js';
import { logRoutes } from './routes/logs.js';
import { mapreduceRoutes } from './routes/mapreduce.js';
import { serviceRoutes } from './routes/services.js';
import { systemRoutes } from './routes/system.js';
import { userRoutes } from './routes/users.js';

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
  });
  installErrorHandler(app);
  installAuthentication(app, ctx.auth.authenticator);
  systemRoutes(app, ctx);
  serviceRoutes(app, ctx);
  logRoutes(app, ctx);
  bucketRoutes(app, ctx);
  userRoutes(app, ctx);
  mapreduceRoutes(app, ctx);
  void app.register((scope, _options, done) => {
    invokeRoutes(scope, ctx);
    done();
  });
  return app;
}
