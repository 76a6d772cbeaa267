/**
 * @module api/routes/mapreduce
 * Nubes addition: MapReduce jobs and definitions under /system/mapreduce.
 * - POST /system/mapreduce/jobs: run a job now (input `bucket/key` of one object, or `bucket/folder`).
 * - GET /system/mapreduce/jobs, GET|DELETE /system/mapreduce/jobs/{id} (DELETE cancels a running job and
 *   removes a finished one), GET /system/mapreduce/jobs/{id}/tasks/{task}/log[?attempt=N].
 * - GET /system/mapreduce/definitions, GET|PUT|DELETE /system/mapreduce/definitions/{name}: jobs started by
 *   uploads into their input folder (what an FDL `mapreduce` section deploys).
 */
import type { FastifyInstance } from 'fastify';
import { PlatformError } from '../../core/index.js';
import {
  describeDefinition,
  jobSummary,
  parseMapReduceJson,
  splitPath,
  toMapReduceSpec,
  type MapReduceEngine,
} from '../../mapreduce/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { requireAdmin } from '../auth.js';
import type { ApiContext } from '../context.js';

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

  app.post('/system/mapreduce/jobs', async (request, reply) => {
    requireAdmin(request, ctx.config);
    const json = parseMapReduceJson(request.body);
    const isObject = await inputIsObject(ctx.store, json.input);
    const { bucket } = splitPath(json.input);
    const stamp = new Date(ctx.clock.now()).toISOString().replace(/[:.]/g, '-');
    const spec = toMapReduceSpec(json, {
      inputIsObject: isObject,
      defaultOutput: `${bucket}/mapreduce-output/${json.name ?? 'adhoc'}-${stamp}`,
    });
    if (!ctx.executorNames().includes(spec.executor)) {
      throw new PlatformError('VALIDATION_FAILED', `executor "${spec.executor}" is not available here`);
    }
    await ctx.store.ensureBucket(spec.output.bucket);
    const job = engine().submit(spec, 'api');
    return reply.status(201).send(jobSummary(job));
  });

  app.get('/system/mapreduce/jobs', async (request) => {
    requireAdmin(request, ctx.config);
    return engine().list();
  });

  app.get<{ Params: { id: string } }>('/system/mapreduce/jobs/:id', async (request) => {
    requireAdmin(request, ctx.config);
    return engine().get(request.params.id);
  });

  app.delete<{ Params: { id: string } }>('/system/mapreduce/jobs/:id', async (request, reply) => {
    requireAdmin(request, ctx.config);
    const job = engine().get(request.params.id);
    if (['succeeded', 'failed', 'cancelled'].includes(job.state)) await engine().remove(job.id);
    else engine().cancel(job.id);
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string; task: string }; Querystring: { attempt?: string } }>(
    '/system/mapreduce/jobs/:id/tasks/:task/log',
    async (request, reply) => {
      requireAdmin(request, ctx.config);
      const attempt = request.query.attempt === undefined ? undefined : Number(request.query.attempt);
      const log = await engine().taskLog(request.params.id, request.params.task, attempt);
      return reply.type('text/plain; charset=utf-8').send(log);
    },
  );

  app.get('/system/mapreduce/definitions', async (request) => {
    requireAdmin(request, ctx.config);
    return engine().listDefinitions().map(describeDefinition);
  });

  app.get<{ Params: { name: string } }>('/system/mapreduce/definitions/:name', async (request) => {
    requireAdmin(request, ctx.config);
    return describeDefinition(engine().getDefinition(request.params.name));
  });

  app.put<{ Params: { name: string } }>('/system/mapreduce/definitions/:name', async (request, reply) => {
    requireAdmin(request, ctx.config);
    const json = parseMapReduceJson({ ...(request.body as object), name: request.params.name });
    if (json.output === undefined) {
      throw new PlatformError('VALIDATION_FAILED', 'a MapReduce definition needs an output folder');
    }
    const spec = toMapReduceSpec(json, { inputIsObject: false, defaultOutput: json.output });
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
    const { created } = await engine().saveDefinition(spec);
    return reply.status(created ? 201 : 200).send(describeDefinition(spec));
  });

  app.delete<{ Params: { name: string } }>('/system/mapreduce/definitions/:name', async (request, reply) => {
    requireAdmin(request, ctx.config);
    await engine().deleteDefinition(request.params.name);
    return reply.status(204).send();
  });
}
