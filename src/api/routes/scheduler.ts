/**
 * @module api/routes/scheduler
 * The scheduler's JSON API under /system/scheduler: tenants and sites (admin), jobs (a tenant's Bearer
 * token or the admin), leases (a site's token), and the partition protocol (the partition's token, or the
 * token of the site holding its lease). POSTs honour an `Idempotency-Key` header.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PlatformError } from '../../core/index.js';
import {
  ADMIN_TENANT,
  presentJob,
  presentPartition,
  presentResults,
  siteInputSchema,
  tenantInputSchema,
  type PartitionAuth,
  type Scheduler,
} from '../../scheduler/index.js';
import { requireAdmin } from '../auth.js';
import type { ApiContext } from '../context.js';

const PREFIX = '/system/scheduler';

function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  return /^bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null;
}

/** The tenant a request acts for: a tenant token, or the admin (Basic). */
function tenantOf(request: FastifyRequest, ctx: ApiContext, scheduler: Scheduler): string {
  const token = bearer(request);
  if (token !== null) {
    const tenant = scheduler.accounts.tenantByToken(token);
    if (tenant === null) throw refusedCredentials(request, 'unknown tenant token', 'a tenant token');
    return tenant;
  }
  requireAdmin(request, ctx.config);
  return ADMIN_TENANT;
}

/**
 * The scheduler's realms (tenants, sites, partitions) have tokens of their own. A caller the platform knows
 * (a user, a service's token, the admin) who does not hold the one needed is refused as FORBIDDEN; only
 * credentials nobody issued are UNAUTHENTICATED.
 */
function refusedCredentials(request: FastifyRequest, unknown: string, needed: string): PlatformError {
  const kind = (request.principal as { kind?: string } | undefined)?.kind;
  if (kind === 'user' || kind === 'service' || kind === 'admin')
    return new PlatformError('FORBIDDEN', `this endpoint needs ${needed}`);
  return new PlatformError('UNAUTHENTICATED', unknown);
}

function authenticateSite(request: FastifyRequest, scheduler: Scheduler, site: string, token: string): void {
  try {
    scheduler.accounts.authenticateSite(site, token);
  } catch (error) {
    if (error instanceof PlatformError && error.code === 'UNAUTHENTICATED')
      throw refusedCredentials(request, error.message, `the token of site "${site}"`);
    throw error;
  }
}

function requireSite(request: FastifyRequest, scheduler: Scheduler, site: string): void {
  const token = bearer(request);
  if (token === null)
    throw refusedCredentials(
      request,
      `site "${site}" must send its token as a Bearer token`,
      `the token of site "${site}"`,
    );
  authenticateSite(request, scheduler, site, token);
}

/** A partition call: its own token, or a site token with `X-Nubes-Site: <name>`. */
function partitionAuth(request: FastifyRequest, scheduler: Scheduler): PartitionAuth {
  const token = bearer(request);
  if (token === null)
    throw refusedCredentials(
      request,
      'partition calls need the partition token as a Bearer token',
      "the partition's token (or its site's)",
    );
  const site = request.headers['x-nubes-site'];
  if (typeof site === 'string' && site !== '') {
    authenticateSite(request, scheduler, site, token);
    return { site };
  }
  return { token };
}

function parseBody<S extends z.ZodTypeAny>(schema: S, body: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PlatformError(
      'VALIDATION_FAILED',
      `${what}: ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`,
      {
        details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
      },
    );
  }
  return parsed.data as z.output<S>;
}

function idempotencyKey(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  return typeof key === 'string' ? key : undefined;
}

function requestHash(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
    .digest('hex');
}

function partitionIndex(value: string): number {
  const index = Number(value);
  if (!Number.isInteger(index) || index < 0)
    throw new PlatformError('BAD_REQUEST', `partition index "${value}" is not a whole number`);
  return index;
}

const reportSchema = z.object({ done: z.number().int().min(0), elapsedSec: z.number().min(0) }).strict();
const finishSchema = z
  .object({ done: z.number().int().min(0), elapsedSec: z.number().min(0), result: z.unknown().optional() })
  .strict();
const failSchema = z
  .object({ exitCode: z.number().int().nullable(), log: z.string().max(1_000_000).default('') })
  .strict();
const slotsSchema = z.object({ slots: z.number().int().min(0).max(100_000) }).strict();
const heartbeatSchema = z
  .object({
    slots: z.number().int().min(0).max(100_000).optional(),
    partitions: z
      .array(z.object({ jobId: z.string(), index: z.number().int().min(0) }).strict())
      .max(100_000)
      .default([]),
  })
  .strict();

type JobParams = { Params: { id: string } };
type PartitionParams = { Params: { id: string; index: string } };
type SiteParams = { Params: { site: string } };

export function schedulerRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const scheduler = ctx.scheduler;
  const now = () => ctx.clock.now();

  app.post(`${PREFIX}/tenants`, async (request, reply) => {
    requireAdmin(request, ctx.config);
    const { tenant, token } = scheduler.accounts.createTenant(
      parseBody(tenantInputSchema, request.body, 'tenant'),
    );
    return reply.status(201).send({ ...tenant, token });
  });
  app.get(`${PREFIX}/tenants`, async (request) => {
    requireAdmin(request, ctx.config);
    return { tenants: scheduler.accounts.listTenants() };
  });
  app.post(`${PREFIX}/sites`, async (request, reply) => {
    requireAdmin(request, ctx.config);
    const { site, token } = scheduler.accounts.createSite(parseBody(siteInputSchema, request.body, 'site'));
    return reply.status(201).send({ ...site, token });
  });
  app.get(`${PREFIX}/sites`, async (request) => {
    requireAdmin(request, ctx.config);
    return { sites: scheduler.accounts.listSites() };
  });

  app.post<SiteParams>(`${PREFIX}/sites/:site/register`, async (request) => {
    requireSite(request, scheduler, request.params.site);
    const { slots } = parseBody(slotsSchema, request.body, 'registration');
    scheduler.accounts.touchSite(request.params.site, slots);
    return { name: request.params.site, slots, heartbeatSec: 10 };
  });
  app.post<SiteParams>(`${PREFIX}/sites/:site/lease`, async (request) => {
    requireSite(request, scheduler, request.params.site);
    const { slots } = parseBody(slotsSchema, request.body, 'lease');
    const leases = scheduler.once(
      `site:${request.params.site}`,
      idempotencyKey(request),
      requestHash(request),
      () => scheduler.lease(request.params.site, slots),
    );
    return {
      partitions: leases.map((lease) => ({
        ...lease,
        leaseUntil: new Date(lease.leaseUntil).toISOString(),
        // The legacy RUPER-LB base URL (path): the client appends /start, /report, /finish.
        lbPath: `/lb/${lease.jobId}.${lease.token}`,
      })),
    };
  });
  app.post<SiteParams>(`${PREFIX}/sites/:site/heartbeat`, async (request) => {
    requireSite(request, scheduler, request.params.site);
    const body = parseBody(heartbeatSchema, request.body, 'heartbeat');
    scheduler.accounts.touchSite(request.params.site, body.slots);
    // Partitions the site should stop: their job is over, or their lease moved elsewhere.
    const stop = body.partitions.filter(({ jobId, index }) => {
      const job = scheduler.store.getJob(jobId);
      const part = job ? scheduler.store.getPartition(jobId, index) : null;
      return (
        !job || !part || part.site !== request.params.site || !['pending', 'running'].includes(job.state)
      );
    });
    return { stop };
  });

  app.post(`${PREFIX}/jobs`, async (request, reply) => {
    const tenant = tenantOf(request, ctx, scheduler);
    const job = scheduler.once(`tenant:${tenant}`, idempotencyKey(request), requestHash(request), () =>
      presentJob(scheduler.submit(tenant, request.body), now()),
    );
    return reply.status(201).send(job);
  });
  app.get<{ Querystring: { limit?: string } }>(`${PREFIX}/jobs`, async (request) => {
    const tenant = tenantOf(request, ctx, scheduler);
    const limit = Math.min(1000, Math.max(1, Number(request.query.limit ?? 100) || 100));
    const jobs = scheduler.store.listJobs(tenant === ADMIN_TENANT ? null : tenant, limit);
    return { jobs: jobs.map((job) => presentJob(job, now())) };
  });
  app.get<JobParams>(`${PREFIX}/jobs/:id`, async (request) => {
    const job = scheduler.requireJob(request.params.id, tenantOf(request, ctx, scheduler));
    return {
      ...presentJob(job, now()),
      partitionList: scheduler.store.listPartitions(job.id).map(presentPartition),
    };
  });
  app.post<JobParams>(`${PREFIX}/jobs/:id/cancel`, async (request) => {
    const tenant = tenantOf(request, ctx, scheduler);
    return presentJob(scheduler.cancel(request.params.id, tenant), now());
  });
  app.get<JobParams>(`${PREFIX}/jobs/:id/results`, async (request) => {
    const job = scheduler.requireJob(request.params.id, tenantOf(request, ctx, scheduler));
    return presentResults(scheduler.store, job);
  });

  // Partition calls carry the partition's token (or its site's), checked in the step itself.
  const OWN_CREDENTIALS = { config: { ownCredentials: true } };
  const scope = (request: FastifyRequest<PartitionParams>) =>
    `partition:${request.params.id}:${request.params.index}`;
  // Partition calls share their commit with the calls that arrive together (group commit); the answer is
  // sent once the transaction that holds the call's change (and its idempotency record) has committed.
  const protocolStep = <T>(request: FastifyRequest<PartitionParams>, step: () => T): Promise<T> => {
    const key = idempotencyKey(request);
    // The request's hash is only needed to recognise a replay, so it is only computed under a key.
    const hash = key === undefined ? '' : requestHash(request);
    return scheduler.grouped(() => scheduler.once(scope(request), key, hash, step));
  };
  app.post<PartitionParams>(
    `${PREFIX}/jobs/:id/partitions/:index/start`,
    OWN_CREDENTIALS,
    async (request) => {
      const auth = partitionAuth(request, scheduler);
      const index = partitionIndex(request.params.index);
      return protocolStep(request, () => scheduler.start(request.params.id, index, auth));
    },
  );
  app.post<PartitionParams>(
    `${PREFIX}/jobs/:id/partitions/:index/report`,
    OWN_CREDENTIALS,
    async (request) => {
      const auth = partitionAuth(request, scheduler);
      const index = partitionIndex(request.params.index);
      const body = parseBody(reportSchema, request.body, 'report');
      return protocolStep(request, () =>
        scheduler.report(request.params.id, index, auth, body.done, body.elapsedSec),
      );
    },
  );
  app.post<PartitionParams>(
    `${PREFIX}/jobs/:id/partitions/:index/finish`,
    OWN_CREDENTIALS,
    async (request) => {
      const auth = partitionAuth(request, scheduler);
      const index = partitionIndex(request.params.index);
      const body = parseBody(finishSchema, request.body, 'finish');
      return protocolStep(request, () =>
        scheduler.finish(request.params.id, index, auth, body.done, body.elapsedSec, body.result),
      );
    },
  );
  app.post<PartitionParams>(
    `${PREFIX}/jobs/:id/partitions/:index/fail`,
    OWN_CREDENTIALS,
    async (request, reply) => {
      const auth = partitionAuth(request, scheduler);
      const index = partitionIndex(request.params.index);
      const body = parseBody(failSchema, request.body, 'failure');
      await protocolStep(request, () => {
        scheduler.fail(request.params.id, index, auth, body);
        return true;
      });
      return reply.status(204).send();
    },
  );
}
