/**
 * @module api/dashboard
 * Serves the dashboard (the single-page app built from web/ into dist/web) at /ui/, and redirects / there.
 * The app's files are static and hold no data, so they are served without credentials (the app asks for
 * them and sends them with every API call); everything the app shows comes from authenticated endpoints.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { PlatformError } from '../core/index.js';

/** dist/src/api/dashboard.js -> dist/web/ */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // Charts and progress bars set inline style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export function dashboardRoutes(app: FastifyInstance, root: string = DASHBOARD_DIR): void {
  app.get('/', { config: { public: true } }, async (_request, reply) => reply.redirect('/ui/', 302));
  app.get('/ui', { config: { public: true } }, async (_request, reply) => reply.redirect('/ui/', 301));

  if (!existsSync(`${root}/index.html`)) {
    app.get('/ui/*', { config: { public: true } }, async () => {
      throw new PlatformError('UNAVAILABLE', 'the dashboard is not built: run `npm run build`');
    });
    return;
  }
  void app.register(async (scope) => {
    // The app's own files answer without credentials (the authentication hook reads this flag).
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), public: true };
    });
    scope.addHook('onSend', async (_request, reply, payload) => {
      void reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      void reply.header('x-content-type-options', 'nosniff');
      void reply.header('referrer-policy', 'no-referrer');
      return payload;
    });
    await scope.register(fastifyStatic, {
      root,
      prefix: '/ui/',
      // The build writes .br and .gz beside each file; they are served to clients that accept them.
      preCompressed: true,
      index: ['index.html'],
      wildcard: true,
      cacheControl: false,
      setHeaders(res, path) {
        // Vite names assets by content hash: they never change. index.html always revalidates.
        void res.header(
          'cache-control',
          path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
  });
}
