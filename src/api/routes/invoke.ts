/**
 * @module api/routes/invoke
 * OSCAR's invocation endpoints: POST /job/{name} (async: queued, 201) and POST /run/{name} (sync: the answer
 * follows OSCAR's rules — one output file base64, several zipped then base64, none the script's output).
 * Nubes addition: `/run/{name}?raw=true` answers the raw bytes instead of base64.
 */
import type { FastifyInstance } from 'fastify';
import { PlatformError, newJobId } from '../../core/index.js';
import { inputCovers, objectFromEvent } from '../../events/index.js';
import { normalizeProvider } from '../../fdl/index.js';
import { buildSyncResponse } from '../../supervisor/index.js';
import { requireServiceAccess } from '../auth.js';
import type { ApiContext } from '../context.js';

/** Jobs keep their event in the database and hand it to the script in an environment variable. */
const MAX_ASYNC_EVENT_BYTES = 96 * 1024;
/**
 * How long a sync call waits in line for a job slot before it is turned away (429, Retry-After): under
 * overload, callers retry later rather than hold a connection for minutes.
 */
const SYNC_SLOT_WAIT_MS = 10_000;

export function invokeRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // Any body, as bytes: a MinIO event, base64 from oscar-cli, JSON, or raw data.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: ctx.config.maxBodyBytes },
    (_request, body, done) => {
      done(null, body);
    },
  );

  app.post<{ Params: { name: string } }>('/job/:name', async (request, reply) => {
    const service = ctx.registry.get(request.params.name);
    requireServiceAccess(request, ctx.config, service);
    const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
    if (body.length > MAX_ASYNC_EVENT_BYTES) {
      throw new PlatformError(
        'PAYLOAD_TOO_LARGE',
        `an async job's body is limited to ${MAX_ASYNC_EVENT_BYTES} bytes; upload the data to a bucket instead`,
      );
    }
    let text = body.toString('utf8');
    let parsed = parseJson(text);
    // OSCAR's delegation: {"storage_provider": "<type>.<id>", "event": "<event JSON>"} names where the
    // object is; the job reads it from that provider with the service's credentials.
    const delegated = delegatedEvent(parsed);
    let provider: string | null = null;
    if (delegated !== null) {
      text = delegated.event;
      parsed = parseJson(text);
      if (delegated.provider !== 'minio.default') provider = delegated.provider;
    }
    const object = objectFromEvent(parsed);
    if (provider !== null && object !== null) {
      // The service's credentials may read only what its inputs name, not anything an invoker points at.
      const covered = service.spec.input.some(
        (input) => input.provider === provider && inputCovers(input, object.bucket, object.key),
      );
      if (!covered) {
        throw new PlatformError(
          'FORBIDDEN',
          `${provider}:${object.bucket}/${object.key} is not inside an input of service "${service.name}"`,
        );
      }
    }
    const id = newJobId(service.name);
    await ctx.queue.enqueueCommitted(
      {
        id,
        service: service.name,
        kind: object ? 'storage' : 'http',
        event: text,
        inputBucket: object?.bucket ?? null,
        inputKey: object?.key ?? null,
        inputProvider: object ? provider : null,
        maxAttempts: service.spec.retry.maxAttempts,
      },
      // The service's owner pays for its jobs, whoever invokes it. Checked in the commit that enqueues, so
      // the jobs of the same burst before this one count too.
      () => ctx.auth.quotas.admitJob(service.owner, service.spec),
    );
    ctx.dispatcher.wake();
    return reply.status(201).send({ job_id: id, service: service.name });
  });

  app.post<{ Params: { name: string }; Querystring: { raw?: string } }>(
    '/run/:name',
    async (request, reply) => {
      const service = ctx.registry.get(request.params.name);
      requireServiceAccess(request, ctx.config, service);
      const raw = request.query.raw === 'true' || request.query.raw === '1';
      const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
      const controller = new AbortController();
      // The client went away before the answer: stop the script. (The request's own 'close' fires as soon as
      // its body is read, so watch the response.)
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) controller.abort();
      });
      const releaseQuota = ctx.auth.quotas.startSyncRun(service.owner, service.spec);
      try {
        await ctx.limiter.acquire(controller.signal, SYNC_SLOT_WAIT_MS);
      } catch (error) {
        releaseQuota();
        throw error;
      }
      try {
        const answer = await ctx.runner.runSync(service, body, controller.signal, (result, log) =>
          buildSyncResponse(result, log, { raw }),
        );
        if (answer.failed) {
          return reply
            .status(502)
            .header('x-nubes-exit-code', String(answer.exitCode ?? ''))
            .send({
              error: {
                code: answer.error?.code ?? 'JOB_FAILED',
                message: answer.error?.message ?? 'the script failed',
                details: { exit_code: answer.exitCode, log: answer.log },
              },
            });
        }
        return reply.status(200).type(answer.contentType).send(answer.body);
      } finally {
        ctx.limiter.release();
        releaseQuota();
      }
    },
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null; // not JSON: an opaque body
  }
}

/** OSCAR's delegated event wrapper, or null for any other body. */
function delegatedEvent(body: unknown): { provider: string; event: string } | null {
  if (typeof body !== 'object' || body === null) return null;
  const { storage_provider: provider, event } = body as { storage_provider?: unknown; event?: unknown };
  if (typeof provider !== 'string' || provider === '' || typeof event !== 'string') return null;
  return { provider: normalizeProvider(provider), event };
}
