/**
 * @module api/routes/buckets
 * OSCAR's bucket management on the embedded store: POST/GET/PUT /system/buckets, GET/DELETE
 * /system/buckets/{bucket} (the object listing paginated with `page` and `limit`), and presigned URLs with
 * POST /system/buckets/{bucket}/presign. A bucket's `visibility` is enforced by the S3 endpoint.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { PlatformError } from '../../core/index.js';
import { presignUrl } from '../../s3api/index.js';
import { MAX_LIST_KEYS, validateObjectKey, type BucketInfo } from '../../storage/index.js';
import { authorize, can, ownerName, type Principal } from '../../auth/index.js';
import { principalOf } from '../auth.js';
import type { ApiContext } from '../context.js';

const bucketBodySchema = z
  .object({
    bucket_name: z.string().trim().min(1).optional(),
    // OSCAR's older clients send the bucket as a path.
    bucket_path: z.string().trim().min(1).optional(),
    visibility: z.enum(['private', 'public', 'restricted']).default('private'),
    allowed_users: z.array(z.string().min(1)).default([]),
    metadata: z.record(z.string(), z.string()).default({}),
  })
  .strict();

const presignBodySchema = z
  .object({
    object_key: z.string().min(1),
    operation: z.enum(['upload', 'download']),
    expires_in: z.number().int().min(1).max(3600).default(900),
    content_type: z.string().min(1).optional(),
  })
  .strict();

const listQuerySchema = z.object({
  page: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_KEYS).default(MAX_LIST_KEYS),
  prefix: z.string().default(''),
});

function parse<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  throw new PlatformError(
    'VALIDATION_FAILED',
    `invalid ${what}: ${issues.map((issue) => `${issue.path || '(body)'}: ${issue.message}`).join('; ')}`,
    { details: { issues } },
  );
}

function bucketNameOf(body: z.infer<typeof bucketBodySchema>): string {
  const name = body.bucket_name ?? body.bucket_path?.replace(/^\/+/, '').split('/')[0] ?? '';
  if (name === '') {
    throw new PlatformError('VALIDATION_FAILED', 'invalid bucket: bucket_name is required', {
      details: { issues: [{ path: 'bucket_name', message: 'required' }] },
    });
  }
  return name;
}

function present(bucket: BucketInfo): Record<string, unknown> {
  return {
    bucket_name: bucket.name,
    visibility: bucket.visibility,
    allowed_users: bucket.allowedUsers,
    owner: bucket.owner,
    metadata: {},
  };
}

// Continuation pages are the last key returned, opaque to clients.
const encodePage = (key: string): string => Buffer.from(key, 'utf8').toString('base64url');
function decodePage(page: string): string {
  const key = Buffer.from(page, 'base64url').toString('utf8');
  if (key === '' || encodePage(key) !== page) {
    throw new PlatformError('VALIDATION_FAILED', `invalid page token "${page}"`, {
      details: { issues: [{ path: 'page', message: 'not a page token from this API' }] },
    });
  }
  return key;
}

/** A bucket as an owned resource for the policy (auth/policy). */
export function bucketResource(bucket: BucketInfo) {
  return {
    kind: 'bucket' as const,
    name: bucket.name,
    owner: bucket.owner,
    visibility: bucket.visibility,
    allowedUsers: bucket.allowedUsers,
  };
}

/** The principal after checking it may `action` the named bucket (which must exist). */
async function bucketFor(
  ctx: ApiContext,
  principal: Principal,
  name: string,
  action: 'read' | 'write' | 'manage',
): Promise<BucketInfo> {
  const bucket = await ctx.store.headBucket(name);
  authorize(principal, action, bucketResource(bucket));
  return bucket;
}

export function bucketRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/system/buckets', async (request, reply) => {
    const principal = principalOf(request, ctx.config);
    authorize(principal, 'create', {
      kind: 'bucket',
      name: '',
      owner: '',
      visibility: 'private',
      allowedUsers: [],
    });
    const body = parse(bucketBodySchema, request.body, 'bucket');
    const owner = ownerName(principal) ?? ctx.config.adminUser;
    // Checked and created without awaiting in between: two requests cannot both take the last bucket.
    ctx.auth.quotas.admitBucket(owner);
    const bucket = await ctx.store.createBucket(bucketNameOf(body), {
      owner,
      visibility: body.visibility,
      allowedUsers: body.allowed_users,
    });
    return reply.status(201).send(present(bucket));
  });

  app.get('/system/buckets', async (request) => {
    const principal = principalOf(request, ctx.config);
    authorize(principal, 'read', { kind: 'cluster' });
    return (await ctx.store.listBuckets())
      .filter((bucket) => can(principal, 'read', bucketResource(bucket)))
      .map(present);
  });

  app.put('/system/buckets', async (request) => {
    const principal = principalOf(request, ctx.config);
    authorize(principal, 'read', { kind: 'cluster' });
    const body = parse(bucketBodySchema, request.body, 'bucket');
    await bucketFor(ctx, principal, bucketNameOf(body), 'manage');
    const bucket = await ctx.store.updateBucket(bucketNameOf(body), {
      visibility: body.visibility,
      allowedUsers: body.allowed_users,
    });
    return present(bucket);
  });

  app.get<{ Params: { bucket: string } }>('/system/buckets/:bucket', async (request) => {
    const principal = principalOf(request, ctx.config);
    authorize(principal, 'read', { kind: 'cluster' });
    const query = parse(listQuerySchema, request.query, 'listing');
    const bucket = await bucketFor(ctx, principal, request.params.bucket, 'read');
    const listing = await ctx.store.list(bucket.name, {
      prefix: query.prefix,
      maxKeys: query.limit,
      ...(query.page === undefined || query.page === '' ? {} : { startAfter: decodePage(query.page) }),
    });
    return {
      ...present(bucket),
      objects: listing.objects.map((object) => ({
        object_name: object.key,
        size_bytes: object.size,
        last_modified: new Date(object.lastModifiedMs).toISOString(),
        etag: object.etag,
        content_type: object.contentType,
      })),
      ...(listing.nextStartAfter === null ? {} : { next_page: encodePage(listing.nextStartAfter) }),
      is_truncated: listing.isTruncated,
      returned_items: listing.objects.length,
    };
  });

  app.delete<{ Params: { bucket: string } }>('/system/buckets/:bucket', async (request, reply) => {
    const principal = principalOf(request, ctx.config);
    authorize(principal, 'read', { kind: 'cluster' });
    const name = request.params.bucket;
    await bucketFor(ctx, principal, name, 'manage');
    // As OSCAR (MinIO's forced removal): the bucket goes with its objects, each reported as removed.
    for (;;) {
      const page = await ctx.store.list(name, { maxKeys: MAX_LIST_KEYS });
      for (const object of page.objects) {
        await ctx.store.delete(name, object.key, {
          principal: ownerName(principal) ?? '',
          sourceIp: request.ip,
        });
      }
      if (!page.isTruncated) break;
    }
    await ctx.store.deleteBucket(name);
    return reply.status(204).send();
  });

  app.post<{ Params: { bucket: string } }>('/system/buckets/:bucket/presign', async (request) => {
    const principal = principalOf(request, ctx.config);
    authorize(principal, 'read', { kind: 'cluster' });
    const body = parse(presignBodySchema, request.body, 'presign request');
    const key = body.object_key.replace(/^\/+|\/+$/g, '');
    validateObjectKey(key);
    const upload = body.operation === 'upload';
    // The URL is signed with the store's key: only what the caller may do themselves is signed.
    const bucket = await bucketFor(ctx, principal, request.params.bucket, upload ? 'write' : 'read');
    const nowMs = ctx.clock.now();
    const url = presignUrl({
      method: upload ? 'PUT' : 'GET',
      endpoint: ctx.s3Url(),
      bucket: bucket.name,
      key,
      accessKeyId: ctx.config.s3AccessKey,
      secretKey: ctx.config.s3SecretKey,
      region: ctx.config.region,
      expiresSeconds: body.expires_in,
      nowMs,
      ...(body.content_type === undefined
        ? {}
        : upload
          ? { contentType: body.content_type }
          : { query: { 'response-content-type': body.content_type } }),
    });
    return {
      object_key: key,
      operation: body.operation,
      method: upload ? 'PUT' : 'GET',
      url,
      expires_at: new Date(nowMs + body.expires_in * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(upload && body.content_type !== undefined
        ? { headers: { 'Content-Type': body.content_type } }
        : {}),
    };
  });
}
