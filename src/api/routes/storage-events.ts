/**
 * @module api/routes/storage-events
 * The webhook external storage services call (Ceph RGW topics, MinIO webhook targets):
 * `POST /system/storage-events/{service}/{provider}`, authenticated by the service's webhook token for that
 * provider (`Authorization: Bearer <token>`, or `?token=` for services that cannot send headers, such as
 * RGW's push endpoints). The jobs are committed before the 200, so a notification acknowledged is never
 * lost; a non-2xx answer makes RGW's persistent topics deliver it again.
 * Also `GET /system/services/{name}/storage-webhooks`: the URLs to give a MinIO administrator.
 */
import type { FastifyInstance } from 'fastify';
import { PlatformError } from '../../core/index.js';
import { authorize } from '../../auth/index.js';
import { principalOf, serviceResource } from '../auth.js';
import type { ApiContext } from '../context.js';

/** A notification carries a few records; 1 MiB is far above any a service sends. */
const MAX_NOTIFICATION_BYTES = 1024 * 1024;

function bearer(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1] ?? (header.trim() === '' ? null : header.trim());
}

export function storageEventRoutes(app: FastifyInstance, ctx: ApiContext): void {
  void app.register((scope, _options, done) => {
    // RGW and MinIO send JSON with varying content types (or none): read bytes, parse here.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: MAX_NOTIFICATION_BYTES },
      (_request, body, next) => {
        next(null, body);
      },
    );
    scope.post<{ Params: { service: string; provider: string }; Querystring: { token?: string } }>(
      '/system/storage-events/:service/:provider',
      // Public to the platform's authentication: the webhook token is checked by the handler.
      { config: { public: true } },
      async (request, reply) => {
        const token = bearer(request.headers.authorization) ?? request.query.token ?? null;
        let body: unknown;
        try {
          body = JSON.parse(((request.body as Buffer | undefined) ?? Buffer.alloc(0)).toString('utf8'));
        } catch {
          throw new PlatformError('BAD_REQUEST', 'a storage notification must be JSON');
        }
        const jobs = ctx.externalInputs.receive(request.params.service, request.params.provider, token, body);
        return reply.status(200).send({ jobs: jobs.map((job) => job.id) });
      },
    );
    done();
  });

  app.get<{ Params: { name: string } }>('/system/services/:name/storage-webhooks', async (request) => {
    const record = ctx.registry.get(request.params.name);
    // The URLs carry the webhook tokens: for those who may change the service.
    authorize(principalOf(request, ctx.config), 'write', serviceResource(record));
    return { webhooks: ctx.externalInputs.webhooks(record) };
  });
}
