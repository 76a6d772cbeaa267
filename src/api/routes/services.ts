/**
 * @module api/routes/services
 * OSCAR's service management: POST/GET/PUT /system/services, GET/DELETE /system/services/{name}.
 */
import type { FastifyInstance } from 'fastify';
import { PlatformError, newServiceToken } from '../../core/index.js';
import { backendWarnings, validateServiceJson, type ServiceJson, type ServiceSpec } from '../../fdl/index.js';
import { isEmbeddedProvider, type ServiceRecord } from '../../events/index.js';
import { requireAdmin } from '../auth.js';
import type { ApiContext } from '../context.js';

function present(record: ServiceRecord, counts?: Record<string, number>): Record<string, unknown> {
  return {
    ...record.json,
    token: record.token,
    owner: record.owner,
    bucket_list: [...new Set(record.spec.input.concat(record.spec.output).map((io) => io.bucket))],
    ...(counts ? { nubes_jobs: counts } : {}),
  };
}

/** Input and output buckets on the embedded store exist as soon as the service does, as in OSCAR. */
async function prepareBuckets(ctx: ApiContext, spec: ServiceSpec): Promise<void> {
  for (const io of [...spec.input, ...spec.output]) {
    if (isEmbeddedProvider(io.provider)) await ctx.store.ensureBucket(io.bucket);
  }
}

function selfTriggerWarnings(spec: ServiceSpec): string[] {
  const warnings: string[] = [];
  for (const output of spec.output) {
    for (const input of spec.input) {
      const overlaps =
        output.provider === input.provider &&
        output.bucket === input.bucket &&
        (input.folder === '' || `${output.folder}/`.startsWith(`${input.folder}/`));
      if (overlaps) {
        warnings.push(
          `output "${output.path}" lies inside input "${input.path}": the service's own outputs do not trigger it again`,
        );
      }
    }
  }
  return warnings;
}

async function deploy(ctx: ApiContext, body: unknown, replace: boolean, owner: string) {
  const json: ServiceJson = validateServiceJson(body);
  const existing = ctx.registry.find(json.name);
  if (replace && !existing) throw new PlatformError('SERVICE_NOT_FOUND', `no service named "${json.name}"`);
  if (!replace && existing)
    throw new PlatformError('SERVICE_EXISTS', `service "${json.name}" already exists`);
  const record = ctx.registry.save(json, { token: existing?.token ?? newServiceToken(), owner, replace });
  try {
    if (!ctx.executorNames().includes(record.spec.executor)) {
      throw new PlatformError(
        'VALIDATION_FAILED',
        `executor "${record.spec.executor}" is not available here (available: ${ctx.executorNames().join(', ')})`,
      );
    }
    await prepareBuckets(ctx, record.spec);
    const executor = ctx.executor(record.spec.executor);
    const deployed = await executor.deploy(record.spec);
    const warnings = [
      ...backendWarnings(json, executor.capabilities, executor.name),
      ...deployed.warnings,
      ...selfTriggerWarnings(record.spec),
    ];
    return { record, warnings: [...new Set(warnings)] };
  } catch (error) {
    // Leave the previous definition (or nothing) in place: a failed deploy is no deploy.
    if (existing)
      ctx.registry.save(existing.json, { token: existing.token, owner: existing.owner, replace: true });
    else ctx.registry.delete(record.name);
    throw error;
  }
}

export function serviceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/system/services', async (request) => {
    requireAdmin(request, ctx.config);
    return ctx.registry.list().map((record) => present(record));
  });

  app.post('/system/services', async (request, reply) => {
    const caller = requireAdmin(request, ctx.config);
    const { record, warnings } = await deploy(
      ctx,
      request.body,
      false,
      caller.kind === 'admin' ? caller.user : 'admin',
    );
    for (const warning of warnings) request.log.warn({ service: record.name }, warning);
    return reply.status(201).send({ name: record.name, token: record.token, warnings });
  });

  app.put('/system/services', async (request, reply) => {
    const caller = requireAdmin(request, ctx.config);
    const { record, warnings } = await deploy(
      ctx,
      request.body,
      true,
      caller.kind === 'admin' ? caller.user : 'admin',
    );
    for (const warning of warnings) request.log.warn({ service: record.name }, warning);
    return reply
      .status(204)
      .header('x-nubes-warnings', encodeURIComponent(warnings.join('\n')))
      .send();
  });

  app.get<{ Params: { name: string } }>('/system/services/:name', async (request) => {
    requireAdmin(request, ctx.config);
    const record = ctx.registry.get(request.params.name);
    return present(record, ctx.queue.countsByService(record.name));
  });

  app.delete<{ Params: { name: string } }>('/system/services/:name', async (request, reply) => {
    requireAdmin(request, ctx.config);
    const record = ctx.registry.get(request.params.name);
    for (const job of ctx.queue.listByService(record.name, {
      offset: 0,
      limit: 1_000_000,
      statuses: ['queued', 'running'],
    }).jobs) {
      ctx.dispatcher.cancel(job.id);
    }
    ctx.registry.delete(record.name);
    await ctx.executor(record.spec.executor).undeploy(record.name);
    // Buckets and their objects are kept: deleting a service never deletes a scientist's data.
    return reply.status(204).send();
  });
}
