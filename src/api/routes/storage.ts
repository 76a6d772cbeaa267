/**
 * @module api/routes/storage
 * Nubes additions: the files of the embedded store through the REST API, for the dashboard (same origin,
 * the admin's credentials): list a folder, upload (streamed, or in parts for large files), download,
 * delete. Buckets themselves and presigned URLs are OSCAR's /system/buckets routes. Keys travel in `?key=`; the store validates
 * bucket names and keys (no `..` segments, no empty segments).
 */
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PlatformError } from '../../core/index.js';
import { authorizeBucket } from '../access.js';
import type { ApiContext } from '../context.js';
import { UploadStaging } from '../upload-staging.js';

const LIST_PAGE = 1000;
const ABANDONED_UPLOAD_MS = 24 * 3600 * 1000;

const createUploadSchema = z.object({ key: z.string().min(1), content_type: z.string().optional() }).strict();
const completeUploadSchema = z.object({ parts: z.number().int().min(1) }).strict();

function keyOf(request: FastifyRequest<{ Querystring: { key?: string } }>): string {
  const key = request.query.key;
  if (key === undefined || key === '') throw new PlatformError('BAD_REQUEST', 'name the file with ?key=');
  return key;
}

function parseBody<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, body: unknown, expected: string): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PlatformError(
      'VALIDATION_FAILED',
      `body.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'} (expected ${expected})`,
    );
  }
  return parsed.data;
}

/**
 * The request's body as a stream the store may abandon: when the store stops reading (a full disk, a bad
 * key), the rest of the body is read and dropped, so that the client, still sending, gets the coded error
 * instead of a reset connection.
 */
function streamedBody(request: FastifyRequest): Readable {
  const raw = request.body as Readable | undefined;
  if (raw === undefined) return Readable.from([]);
  const body = new PassThrough();
  raw.pipe(body);
  body.once('close', () => {
    if (raw.readableEnded) return;
    raw.unpipe(body);
    raw.resume();
  });
  return body;
}

/** A file name for Content-Disposition: the key's last segment, quoted safely (RFC 6266 / 5987). */
function attachment(key: string): string {
  const name = key.split('/').pop() ?? 'download';
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function storageRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const staging = new UploadStaging(join(ctx.config.dataDir, 'dashboard-uploads'));
  app.addHook('onReady', async () => {
    await staging.sweep(ABANDONED_UPLOAD_MS, ctx.clock.now());
  });

  app.get<{ Params: { bucket: string }; Querystring: { prefix?: string; start_after?: string } }>(
    '/system/storage/:bucket',
    async (request) => {
      await authorizeBucket(ctx, request, request.params.bucket, 'read');
      const prefix = request.query.prefix ?? '';
      const listed = await ctx.store.list(request.params.bucket, {
        prefix,
        delimiter: '/',
        maxKeys: LIST_PAGE,
        ...(request.query.start_after ? { startAfter: request.query.start_after } : {}),
      });
      return {
        bucket: request.params.bucket,
        prefix,
        folders: listed.commonPrefixes,
        files: listed.objects.map((object) => ({
          key: object.key,
          size: object.size,
          etag: object.etag,
          content_type: object.contentType,
          last_modified: new Date(object.lastModifiedMs).toISOString(),
        })),
        next_start_after: listed.isTruncated ? listed.nextStartAfter : null,
      };
    },
  );

  app.get<{ Params: { bucket: string }; Querystring: { key?: string } }>(
    '/system/storage/:bucket/object',
    async (request, reply) => {
      await authorizeBucket(ctx, request, request.params.bucket, 'read');
      const object = await ctx.store.get(request.params.bucket, keyOf(request));
      return reply
        .type(object.info.contentType || 'application/octet-stream')
        .header('content-length', String(object.info.size))
        .header('content-disposition', attachment(object.info.key))
        .header('etag', `"${object.info.etag}"`)
        .send(object.body);
    },
  );

  app.delete<{ Params: { bucket: string }; Querystring: { key?: string } }>(
    '/system/storage/:bucket/object',
    async (request, reply) => {
      const who = await authorizeBucket(ctx, request, request.params.bucket, 'write');
      await ctx.store.delete(request.params.bucket, keyOf(request), who);
      return reply.status(204).send();
    },
  );

  app.post<{ Params: { bucket: string } }>('/system/storage/:bucket/uploads', async (request, reply) => {
    await authorizeBucket(ctx, request, request.params.bucket, 'write');
    const body = parseBody(createUploadSchema, request.body, '{ key }');
    await ctx.store.headBucket(request.params.bucket);
    const uploadId = await staging.create(request.params.bucket, body.key, ctx.clock.now());
    return reply.status(201).send({ upload_id: uploadId, bucket: request.params.bucket, key: body.key });
  });

  app.post<{ Params: { bucket: string; upload: string } }>(
    '/system/storage/:bucket/uploads/:upload/complete',
    async (request) => {
      const who = await authorizeBucket(ctx, request, request.params.bucket, 'write');
      const body = parseBody(completeUploadSchema, request.body, '{ parts }');
      const upload = await staging.describe(request.params.upload);
      if (upload.bucket !== request.params.bucket) {
        throw new PlatformError(
          'NOT_FOUND',
          `no upload "${request.params.upload}" in bucket "${request.params.bucket}"`,
        );
      }
      const { body: stream, size } = await staging.concatenate(request.params.upload, body.parts);
      const info = await ctx.store.put(upload.bucket, upload.key, stream, {
        expectedSize: size,
        eventName: 'ObjectCreated:CompleteMultipartUpload',
        ...who,
      });
      await staging.remove(request.params.upload);
      return { bucket: info.bucket, key: info.key, size: info.size, etag: info.etag };
    },
  );

  app.delete<{ Params: { bucket: string; upload: string } }>(
    '/system/storage/:bucket/uploads/:upload',
    async (request, reply) => {
      await authorizeBucket(ctx, request, request.params.bucket, 'write');
      const upload = await staging.describe(request.params.upload);
      if (upload.bucket !== request.params.bucket) {
        throw new PlatformError(
          'NOT_FOUND',
          `no upload "${request.params.upload}" in bucket "${request.params.bucket}"`,
        );
      }
      await staging.remove(request.params.upload);
      return reply.status(204).send();
    },
  );

  // Bodies of uploads stream straight to the store: no parser, no body limit but the store's own.
  void app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, parsed) => parsed(null, payload));

    scope.put<{ Params: { bucket: string }; Querystring: { key?: string } }>(
      '/system/storage/:bucket/object',
      async (request) => {
        const who = await authorizeBucket(ctx, request, request.params.bucket, 'write');
        const key = keyOf(request);
        const length = request.headers['content-length'];
        const info = await ctx.store.put(request.params.bucket, key, streamedBody(request), {
          contentType: request.headers['content-type'] ?? 'application/octet-stream',
          ...(length !== undefined ? { expectedSize: Number(length) } : {}),
          ...who,
        });
        return { bucket: info.bucket, key: info.key, size: info.size, etag: info.etag };
      },
    );

    scope.put<{ Params: { bucket: string; upload: string; part: string } }>(
      '/system/storage/:bucket/uploads/:upload/:part',
      async (request) => {
        await authorizeBucket(ctx, request, request.params.bucket, 'write');
        const upload = await staging.describe(request.params.upload);
        if (upload.bucket !== request.params.bucket) {
          throw new PlatformError(
            'NOT_FOUND',
            `no upload "${request.params.upload}" in bucket "${request.params.bucket}"`,
          );
        }
        const size = await staging.putPart(
          request.params.upload,
          Number(request.params.part),
          streamedBody(request),
        );
        return { part: Number(request.params.part), size };
      },
    );
    done();
  });
}
