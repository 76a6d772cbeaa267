/**
 * @module api/routes/services
 * OSCAR's service management: POST/GET/PUT /system/services, GET/DELETE /system/services/{name}.
 */
import type { FastifyInstance } from 'fastify';
import { PlatformError, newServiceToken } from '../../core/index.js';
import {
  backendWarnings,
  toServiceSpec,
  userBuckets,
  validateServiceJson,
  type IsolatedService,
  type ServiceJson,
  type ServiceSpec,
} from '../../fdl/index.js';
import { isEmbeddedProvider, type ServiceRecord } from '../../events/index.js';
import { executorsFor } from '../../executors/index.js';
import { authorize, can, ownerName, type Principal } from '../../auth/index.js';
import type { BucketInfo } from '../../storage/object-store.js';
import { principalOf, serviceResource } from '../auth.js';
import { bucketResource } from './buckets.js';
import type { ApiContext } from '../context.js';

/** What GET shows instead of a secret's value; a PUT that sends it back keeps the stored value. */
export const HIDDEN_SECRET = '<hidden>';

/** Fields of `storage_providers` entries that are credentials: shown hidden, kept when sent back hidden. */
const PROVIDER_CREDENTIALS = ['access_key', 'secret_key', 'password', 'token', 'refresh_token'] as const;

type ProvidersJson = NonNullable<ServiceJson['storage_providers']>;

/** Maps every credential of every provider entry through `change(value, path)`. */
function mapProviderCredentials(
  providers: ProvidersJson,
  change: (value: string, at: { type: string; id: string; field: string }) => string,
): ProvidersJson {
  const out: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const [type, entries] of Object.entries(providers as Record<string, Record<string, object>>)) {
    const mapped: Record<string, Record<string, unknown>> = {};
    for (const [id, entry] of Object.entries(entries)) {
      const copy: Record<string, unknown> = { ...entry };
      for (const field of PROVIDER_CREDENTIALS) {
        const value = copy[field];
        if (typeof value === 'string' && value !== '') copy[field] = change(value, { type, id, field });
      }
      Object.defineProperty(mapped, id, {
        value: copy,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    out[type] = mapped;
  }
  return out;
}

function ownValue(object: unknown, key: string): unknown {
  if (typeof object !== 'object' || object === null || !Object.hasOwn(object, key)) return undefined;
  return (object as Record<string, unknown>)[key];
}

/** The definition without secret values (they are never returned). */
function withoutSecretValues(json: ServiceJson): ServiceJson {
  if (json.storage_providers) {
    json = {
      ...json,
      storage_providers: mapProviderCredentials(json.storage_providers, () => HIDDEN_SECRET),
    };
  }
  const secrets = json.environment?.secrets;
  if (!secrets) return json;
  return {
    ...json,
    environment: {
      ...json.environment,
      secrets: Object.fromEntries(Object.keys(secrets).map((name) => [name, HIDDEN_SECRET])),
    },
  };
}

/** A PUT that sends `<hidden>` back for a secret keeps its stored value. */
function keepHiddenSecrets(json: ServiceJson, existing: ServiceRecord | undefined): ServiceJson {
  if (json.storage_providers) {
    json = {
      ...json,
      storage_providers: mapProviderCredentials(json.storage_providers, (value, { type, id, field }) => {
        if (value !== HIDDEN_SECRET) return value;
        const path = `storage_providers.${type}.${id}.${field}`;
        const stored = ownValue(ownValue(ownValue(existing?.json.storage_providers, type), id), field);
        if (typeof stored !== 'string') {
          throw new PlatformError(
            'VALIDATION_FAILED',
            `${path}: "${HIDDEN_SECRET}" names no stored credential`,
            {
              details: { field: path },
            },
          );
        }
        return stored;
      }),
    };
  }
  const secrets = json.environment?.secrets;
  if (!secrets) return json;
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(secrets)) {
    if (value !== HIDDEN_SECRET) kept[name] = value;
    else {
      const stored = existing?.spec.secrets[name];
      if (stored === undefined) {
        throw new PlatformError(
          'VALIDATION_FAILED',
          `environment.secrets.${name}: "${HIDDEN_SECRET}" names no stored secret`,
          {
            details: { field: `environment.secrets.${name}` },
          },
        );
      }
      kept[name] = stored;
    }
  }
  return { ...json, environment: { ...json.environment, secrets: kept } };
}

/**
 * A service may read its inputs and write its outputs only in buckets its owner may use: otherwise anyone
 * could attach a script to someone else's private bucket. Buckets that do not exist yet count against the
 * owner's bucket quota. Checked before anything is written.
 */
async function checkBuckets(
  ctx: ApiContext,
  principal: Principal,
  owner: string,
  spec: ServiceSpec,
): Promise<void> {
  const missing = new Set<string>();
  const uses: [string, 'read' | 'write'][] = [
    ...spec.input
      .filter((io) => isEmbeddedProvider(io.provider))
      .map((io) => [io.bucket, 'read'] as [string, 'read']),
    ...spec.output
      .filter((io) => isEmbeddedProvider(io.provider))
      .map((io) => [io.bucket, 'write'] as [string, 'write']),
  ];
  for (const [bucket, access] of uses) {
    let info: BucketInfo;
    try {
      info = await ctx.store.headBucket(bucket);
    } catch (error) {
      if (error instanceof PlatformError && error.code === 'BUCKET_NOT_FOUND') {
        missing.add(bucket);
        continue;
      }
      throw error;
    }
    authorize(principal, access, bucketResource(info));
  }
  if (missing.size > 0 && principal.kind === 'user') {
    const usage = ctx.auth.quotas.usage(owner);
    const limit = ctx.auth.quotas.quotasOf(owner).maxBuckets;
    if (limit !== null && usage.buckets + missing.size > limit) {
      throw new PlatformError(
        'QUOTA_EXCEEDED',
        `user "${owner}" owns ${usage.buckets} of ${limit} buckets; this service needs ${missing.size} more`,
        {
          details: { quota: 'buckets', limit, used: usage.buckets, needed: missing.size },
        },
      );
    }
  }
}

function present(record: ServiceRecord, counts?: Record<string, number>): Record<string, unknown> {
  return {
    ...withoutSecretValues(record.json),
    token: record.token,
    owner: record.owner,
    bucket_list: [
      ...new Set([
        ...record.spec.input.concat(record.spec.output).map((io) => io.bucket),
        ...userBuckets(record).map((copy) => copy.userBucket),
      ]),
    ],
    ...(counts ? { nubes_jobs: counts } : {}),
  };
}

/**
 * Input and output buckets on the embedded store exist as soon as the service does, as in OSCAR; new ones
 * belong to the service's owner and take its visibility.
 */
/**
 * isolation_level USER: each allowed user's private copies of the service's buckets, owned by that user.
 * A copy that exists already must be that user's: a bucket someone else made under the name would receive
 * the user's uploads and outputs.
 */
async function prepareUserBuckets(ctx: ApiContext, service: IsolatedService): Promise<void> {
  for (const copy of userBuckets(service)) {
    let existing: BucketInfo | null = null;
    try {
      existing = await ctx.store.headBucket(copy.userBucket);
    } catch (error) {
      if (!(error instanceof PlatformError && error.code === 'BUCKET_NOT_FOUND')) throw error;
    }
    if (existing === null) {
      try {
        await ctx.store.createBucket(copy.userBucket, { owner: copy.user, visibility: 'private' });
        continue;
      } catch (raced) {
        if (!(raced instanceof PlatformError && raced.code === 'BUCKET_EXISTS')) throw raced;
        existing = await ctx.store.headBucket(copy.userBucket);
      }
    }
    if (existing.owner !== copy.user) {
      throw new PlatformError(
        'BUCKET_EXISTS',
        `bucket "${copy.userBucket}" (user "${copy.user}"'s copy of "${copy.bucket}", isolation_level USER) already exists and belongs to someone else`,
        { details: { bucket: copy.userBucket, user: copy.user } },
      );
    }
  }
}

async function prepareBuckets(ctx: ApiContext, spec: ServiceSpec, owner: string): Promise<void> {
  for (const io of [...spec.input, ...spec.output]) {
    if (!isEmbeddedProvider(io.provider)) continue;
    try {
      await ctx.store.headBucket(io.bucket);
    } catch (error) {
      if (!(error instanceof PlatformError && error.code === 'BUCKET_NOT_FOUND')) throw error;
      try {
        await ctx.store.createBucket(io.bucket, { owner, visibility: spec.visibility });
      } catch (raced) {
        if (!(raced instanceof PlatformError && raced.code === 'BUCKET_EXISTS')) throw raced;
      }
    }
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

async function deploy(ctx: ApiContext, body: unknown, replace: boolean, principal: Principal) {
  const validated: ServiceJson = validateServiceJson(body);
  const existing = ctx.registry.find(validated.name);
  if (existing) authorize(principal, 'write', serviceResource(existing));
  else
    authorize(principal, 'create', {
      kind: 'service',
      name: validated.name,
      owner: '',
      visibility: 'private',
      allowedUsers: [],
    });
  if (replace && !existing)
    throw new PlatformError('SERVICE_NOT_FOUND', `no service named "${validated.name}"`);
  if (!replace && existing)
    throw new PlatformError('SERVICE_EXISTS', `service "${validated.name}" already exists`);
  const json = keepHiddenSecrets(validated, existing);
  // An update keeps the service's owner, whoever (the owner or an admin) makes it.
  const owner = existing?.owner ?? ownerName(principal) ?? ctx.config.adminUser;
  const spec = toServiceSpec(json);
  await checkBuckets(ctx, principal, owner, spec);
  // A hybrid service is deployed to the executor of each of its roles (a Lambda function, a Batch job
  // definition must exist before a job is sent there).
  const executorNames = executorsFor(spec, ctx.config.executionRoles);
  for (const name of executorNames) {
    if (!ctx.executorNames().includes(name)) {
      throw new PlatformError(
        'VALIDATION_FAILED',
        `executor "${name}" is not available here (available: ${ctx.executorNames().join(', ')})`,
      );
    }
  }
  // The buckets before the definition: a server killed in between must not come back with a service whose
  // buckets do not exist (creating a bucket twice is harmless).
  await prepareBuckets(ctx, spec, owner);
  await prepareUserBuckets(ctx, { spec, json });
  const record = ctx.registry.save(json, { token: existing?.token ?? newServiceToken(), owner, replace });
  try {
    const warnings: string[] = [];
    for (const name of executorNames) {
      const executor = ctx.executor(name);
      const deployed = await executor.deploy(record.spec);
      warnings.push(...backendWarnings(json, executor.capabilities, executor.name), ...deployed.warnings);
    }
    // Webhooks on external buckets last: a deploy that fails before leaves nothing registered there.
    const inputWarnings = await ctx.externalInputs.deploy(record, existing);
    warnings.push(...selfTriggerWarnings(record.spec), ...inputWarnings);
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
    const principal = principalOf(request, ctx.config);
    authorize(principal, 'read', { kind: 'cluster' });
    return ctx.registry
      .list()
      .filter((record) => can(principal, 'read', serviceResource(record)))
      .map((record) => present(record));
  });

  app.post('/system/services', async (request, reply) => {
    const { record, warnings } = await deploy(ctx, request.body, false, principalOf(request, ctx.config));
    for (const warning of warnings) request.log.warn({ service: record.name }, warning);
    return reply.status(201).send({ name: record.name, token: record.token, warnings });
  });

  app.put('/system/services', async (request, reply) => {
    const { record, warnings } = await deploy(ctx, request.body, true, principalOf(request, ctx.config));
    for (const warning of warnings) request.log.warn({ service: record.name }, warning);
    return reply
      .status(204)
      .header('x-nubes-warnings', encodeURIComponent(warnings.join('\n')))
      .send();
  });

  app.get<{ Params: { name: string } }>('/system/services/:name', async (request) => {
    const record = ctx.registry.get(request.params.name);
    authorize(principalOf(request, ctx.config), 'read', serviceResource(record));
    return present(record, ctx.queue.countsByService(record.name));
  });

  app.delete<{ Params: { name: string } }>('/system/services/:name', async (request, reply) => {
    const record = ctx.registry.get(request.params.name);
    authorize(principalOf(request, ctx.config), 'delete', serviceResource(record));
    for (const job of ctx.queue.listByService(record.name, {
      offset: 0,
      limit: 1_000_000,
      statuses: ['queued', 'running'],
    }).jobs) {
      ctx.dispatcher.cancel(job.id);
    }
    ctx.registry.delete(record.name);
    for (const name of executorsFor(record.spec, ctx.config.executionRoles)) {
      await ctx.executor(name).undeploy(record.name);
    }
    await ctx.externalInputs.undeploy(record);
    // Buckets and their objects are kept: deleting a service never deletes a scientist's data.
    return reply.status(204).send();
  });
}
