/**
 * @module api/routes/mapreduce
 * Nubes addition: MapReduce jobs and definitions under /system/mapreduce.
 * - POST /system/mapreduce/jobs: run a job now (input `bucket/key` of one object, or `bucket/folder`).
 * - GET /system/mapreduce/jobs, GET|DELETE /system/mapreduce/jobs/{id} (DELETE cancels a running job and
 *   removes a finished one), GET /system/mapreduce/jobs/{id}/tasks/{task}/log[?attempt=N].
 * - GET /system/mapreduce/definitions, GET|PUT|DELETE /system/mapreduce/definitions/{name}: jobs started by
 *   uploads into their input folder (what an FDL `mapreduce` section deploys).
 * Access (auth/policy): a user runs jobs and deploys definitions over buckets they may read, writing into
 * buckets they may write (a missing output bucket is created as theirs), and sees only their own jobs and
 * definitions; the administrator sees all. Service tokens have no access.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authorize, ownerName, type Principal } from '../../auth/index.js';
import { PlatformError } from '../../core/index.js';
import {
  describeDefinition,
  jobSummary,
  parseMapReduceJson,
  splitPath,
  toMapReduceSpec,
  type JobRecord,
  type MapReduceEngine,
  type MapReduceSpec,
} from '../../mapreduce/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { callerOf } from '../access.js';
import type { ApiContext } from '../context.js';
import { bucketResource } from './buckets.js';

/** The caller as the owner recorded on jobs and definitions ('' for the administrator). */
function ownerOf(principal: Principal): string {
  return principal.kind === 'admin' ? '' : (ownerName(principal) ?? '');
}

/** Who a job or definition belongs to is visible to that owner and the administrator only. */
function visibleTo(principal: Principal, owner: string): boolean {
  return principal.kind === 'admin' || owner === ownerOf(principal);
}

/**
 * Checks that the caller may read the input bucket and write the output bucket; a missing one is created,
 * owned by the caller (as a service's buckets are).
 */
async function checkBuckets(ctx: ApiContext, principal: Principal, spec: MapReduceSpec): Promise<void> {
  const uses: [string, 'read' | 'write'][] = [
    [spec.input.bucket, 'read'],
    [spec.output.bucket, 'write'],
  ];
  for (const [bucket, action] of uses) {
    try {
      authorize(principal, action, bucketResource(await ctx.store.headBucket(bucket)));
      continue;
    } catch (error) {
      if (!(error instanceof PlatformError && error.code === 'BUCKET_NOT_FOUND')) throw error;
    }
    const owner = ownerName(principal) ?? ctx.config.adminUser;
    ctx.auth.quotas.admitBucket(owner);
    try {
      await ctx.store.createBucket(bucket, { owner });
    } catch (raced) {
      if (!(raced instanceof PlatformError && raced.code === 'BUCKET_EXISTS')) throw raced;
      authorize(principal, action, bucketResource(await ctx.store.headBucket(bucket)));
    }
  }
}

/** A user or the administrator (service tokens and anonymous callers are refused). */
function userOf(ctx: ApiContext, request: FastifyRequest): Principal {
  const principal = callerOf(ctx, request);
  if (principal.kind !== 'admin' && principal.kind !== 'user')
    throw new PlatformError('FORBIDDEN', 'MapReduce needs a user or the administrator');
  return principal;
}

/** Whether `input` names one object (true) or a folder with objects in it (false). */
async function inputIsObject(store: ObjectStore, input: string): Promise<boolean> {
  const { bucket, rest } = splitPath(input);
  await store.headBucket(bucket);
  if (rest !== '' && !input.endsWith('/')) {
    try {
      await store.head(bucket, rest);
      return true;
    } catch (error) {
      if (!(error instanceof PlatformError) || error.code !== 'OBJECT_NOT_FOUND') throw error;
    }
  }
  const listed = await store.list(bucket, { prefix: rest === '' ? '' : `${rest}/`, maxKeys: 1 });
  if (listed.objects.length === 0) {
    throw new PlatformError('OBJECT_NOT_FOUND', `no object "${input}" and no objects under it`);
  }
  return false;
}

export function mapreduceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const engine = (): MapReduceEngine => {
    if (!ctx.mapreduce) throw new PlatformError('UNAVAILABLE', 'MapReduce is not enabled on this server');
    return ctx.mapreduce;
  };

  /** The job, if the caller may see it; JOB_NOT_FOUND otherwise (another user's jobs are not revealed). */
  const jobFor = (principal: Principal, id: string): JobRecord => {
    const job = engine().get(id);
    if (!visibleTo(principal, job.owner))
      throw new PlatformError('JOB_NOT_FOUND', `no MapReduce job "${id}"`);
    return job;
  };
  const definitionFor = (principal: Principal, name: string): MapReduceSpec => {
    const spec = engine().getDefinition(name);
    if (!visibleTo(principal, spec.owner))
      throw new PlatformError('NOT_FOUND', `no MapReduce definition "${name}"`);
    return spec;
  };

  app.post('/system/mapreduce/jobs', async (request, reply) => {
    const principal = userOf(ctx, request);
    const json = parseMapReduceJson(request.body);
    const { bucket } = splitPath(json.input);
    // The bucket is checked before anything in it is looked at.
    authorize(principal, 'read', bucketResource(await ctx.store.headBucket(bucket)));
    const isObject = await inputIsObject(ctx.store, json.input);
    const stamp = new Date(ctx.clock.now()).toISOString().replace(/[:.]/g, '-');
    const spec = toMapReduceSpec(json, {
      inputIsObject: isObject,
      defaultOutput: `${bucket}/mapreduce-output/${json.name ?? 'adhoc'}-${stamp}`,
      owner: ownerOf(principal),
    });
    if (!ctx.executorNames().includes(spec.executor)) {
      throw new PlatformError('VALIDATION_FAILED', `executor "${spec.executor}" is not available here`);
    }
    await checkBuckets(ctx, principal, spec);
    const job = engine().submit(spec, 'api');
    return reply.status(201).send(jobSummary(job));
  });

  app.get('/system/mapreduce/jobs', async (request) => {
    const principal = userOf(ctx, request);
    return engine().list(principal.kind === 'admin' ? null : ownerOf(principal));
  });

  app.get<{ Params: { id: string } }>('/system/mapreduce/jobs/:id', async (request) => {
    return jobFor(userOf(ctx, request), request.params.id);
  });

  app.delete<{ Params: { id: string } }>('/system/mapreduce/jobs/:id', async (request, reply) => {
    const job = jobFor(userOf(ctx, request), request.params.id);
    if (['succeeded', 'failed', 'cancelled'].includes(job.state)) await engine().remove(job.id);
    else engine().cancel(job.id);
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string; task: string }; Querystring: { attempt?: string } }>(
    '/system/mapreduce/jobs/:id/tasks/:task/log',
    async (request, reply) => {
      jobFor(userOf(ctx, request), request.params.id);
      const attempt = request.query.attempt === undefined ? undefined : Number(request.query.attempt);
      const log = await engine().taskLog(request.params.id, request.params.task, attempt);
      return reply.type('text/plain; charset=utf-8').send(log);
    },
  );

  app.get('/system/mapreduce/definitions', async (request) => {
    const principal = userOf(ctx, request);
    return engine()
      .listDefinitions()
      .filter((spec) => visibleTo(principal, spec.owner))
      .map(describeDefinition);
  });

  app.get<{ Params: { name: string } }>('/system/mapreduce/definitions/:name', async (request) => {
    return describeDefinition(definitionFor(userOf(ctx, request), request.params.name));
  });

  app.put<{ Params: { name: string } }>('/system/mapreduce/definitions/:name', async (request, reply) => {
    const principal = userOf(ctx, request);
    const json = parseMapReduceJson({ ...(request.body as object), name: request.params.name });
    if (json.output === undefined) {
      throw new PlatformError('VALIDATION_FAILED', 'a MapReduce definition needs an output folder');
    }
    const existing = engine()
      .listDefinitions()
      .find((spec) => spec.name === request.params.name);
    if (existing !== undefined && !visibleTo(principal, existing.owner)) {
      throw new PlatformError('FORBIDDEN', `MapReduce definition "${existing.name}" belongs to another user`);
    }
    // An update keeps the definition's owner, whoever (the owner or the administrator) makes it.
    const spec = toMapReduceSpec(json, {
      inputIsObject: false,
      defaultOutput: json.output,
      owner: existing?.owner ?? ownerOf(principal),
    });
    if (!ctx.executorNames().includes(spec.executor)) {
      throw new PlatformError('VALIDATION_FAILED', `executor "${spec.executor}" is not available here`);
    }
    if (
      spec.input.bucket === spec.output.bucket &&
      (spec.input.prefix === '' || `${spec.output.prefix}/`.startsWith(`${spec.input.prefix}/`))
    ) {
      // MARLA refused equal buckets for this reason; a folder apart is enough here.
      throw new PlatformError('VALIDATION_FAILED', 'the output folder must not lie inside the input folder');
    }
    await checkBuckets(ctx, principal, spec);
    const { created } = await engine().saveDefinition(spec);
    return reply.status(created ? 201 : 200).send(describeDefinition(spec));
  });

  app.delete<{ Params: { name: string } }>('/system/mapreduce/definitions/:name', async (request, reply) => {
    definitionFor(userOf(ctx, request), request.params.name);
    await engine().deleteDefinition(request.params.name);
    return reply.status(204).send();
  });
}
