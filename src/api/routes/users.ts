/**
 * @module api/routes/users
 * Nubes additions for multi-tenancy: users and groups (admin), personal API tokens and S3 keys (the user
 * or the admin), and `GET /system/whoami`. `me` stands for the caller in every `/system/users/{name}` path.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PlatformError } from '../../core/index.js';
import {
  authorize,
  presentQuotas,
  quotasFromInput,
  quotasInputSchema,
  type Principal,
  type TokenInfo,
  type UserRecord,
} from '../../auth/index.js';
import { principalOf } from '../auth.js';
import type { ApiContext } from '../context.js';

const groupsSchema = z.array(z.string().min(1).max(256)).max(256);

const createUserSchema = z
  .object({
    name: z.string(),
    admin: z.boolean().optional(),
    groups: groupsSchema.optional(),
    quotas: quotasInputSchema.optional(),
  })
  .strict();

const updateUserSchema = createUserSchema.omit({ name: true });

const createTokenSchema = z
  .object({
    label: z.string().min(1).max(100).optional(),
    /** Lifetime in seconds; absent: until revoked. */
    ttl_seconds: z
      .number()
      .int()
      .min(60)
      .max(10 * 365 * 24 * 3600)
      .optional(),
  })
  .strict();

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    throw new PlatformError(
      'VALIDATION_FAILED',
      `${what}: ${field === '' ? '' : `${field}: `}${issue?.message}`,
      {
        details: { field },
      },
    );
  }
  return result.data;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function presentToken(token: TokenInfo): Record<string, unknown> {
  return {
    id: token.id,
    label: token.label,
    created: iso(token.createdMs),
    expires: iso(token.expiresMs),
    last_used: iso(token.lastUsedMs),
  };
}

export function userRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { users, quotas } = ctx.auth;

  const presentUser = (user: UserRecord): Record<string, unknown> => ({
    name: user.name,
    source: user.source,
    admin: user.admin,
    groups: user.groups,
    quotas: presentQuotas(quotas.quotasOf(user.name)),
    created: iso(user.createdMs),
  });

  /** The account named in the path (`me`: the caller), after checking the caller may manage it. */
  const account = (
    request: FastifyRequest<{ Params: { name: string } }>,
  ): { principal: Principal; name: string } => {
    const principal = principalOf(request, ctx.config);
    let name = request.params.name;
    if (name === 'me') {
      if (principal.kind !== 'user') {
        authorize(principal, 'read', { kind: 'administration' });
        throw new PlatformError(
          'BAD_REQUEST',
          `"me" names a user; ${principal.kind === 'admin' ? 'the administrator is not one' : 'this caller is not one'}`,
        );
      }
      name = principal.name;
    }
    authorize(principal, 'write', { kind: 'account', name });
    users.get(name);
    return { principal, name };
  };

  app.get('/system/whoami', async (request) => {
    const principal = principalOf(request, ctx.config);
    authorize(principal, 'read', { kind: 'cluster' });
    switch (principal.kind) {
      case 'user':
        return {
          kind: 'user',
          name: principal.name,
          groups: principal.groups,
          via: principal.via,
          quotas: presentQuotas(quotas.quotasOf(principal.name)),
          usage: quotas.usage(principal.name),
        };
      case 'admin':
        return { kind: 'admin', name: principal.name };
      default:
        return { kind: principal.kind };
    }
  });

  app.get('/system/users', async (request) => {
    authorize(principalOf(request, ctx.config), 'read', { kind: 'administration' });
    return users.list().map(presentUser);
  });

  app.post('/system/users', async (request, reply) => {
    authorize(principalOf(request, ctx.config), 'create', { kind: 'administration' });
    const input = parse(createUserSchema, request.body, 'user');
    if (input.name === 'me' || input.name === ctx.config.adminUser)
      throw new PlatformError('VALIDATION_FAILED', `"${input.name}" is a reserved name`, {
        details: { field: 'name' },
      });
    const user = users.create({
      name: input.name,
      source: 'local',
      ...(input.admin !== undefined ? { admin: input.admin } : {}),
      ...(input.groups ? { groups: input.groups } : {}),
      ...(input.quotas ? { quotas: quotasFromInput(input.quotas) } : {}),
    });
    return reply.status(201).send(presentUser(user));
  });

  app.get<{ Params: { name: string } }>('/system/users/:name', async (request) => {
    return presentUser(users.get(account(request).name));
  });

  app.put<{ Params: { name: string } }>('/system/users/:name', async (request) => {
    authorize(principalOf(request, ctx.config), 'write', { kind: 'administration' });
    const input = parse(updateUserSchema, request.body, 'user');
    const user = users.update(request.params.name, {
      ...(input.admin !== undefined ? { admin: input.admin } : {}),
      ...(input.groups ? { groups: input.groups } : {}),
      ...(input.quotas ? { quotas: quotasFromInput(input.quotas) } : {}),
    });
    return presentUser(user);
  });

  app.delete<{ Params: { name: string } }>('/system/users/:name', async (request, reply) => {
    authorize(principalOf(request, ctx.config), 'delete', { kind: 'administration' });
    users.delete(request.params.name);
    return reply.status(204).send();
  });

  app.get<{ Params: { name: string } }>('/system/users/:name/tokens', async (request) => {
    return users.listTokens(account(request).name).map(presentToken);
  });

  app.post<{ Params: { name: string } }>('/system/users/:name/tokens', async (request, reply) => {
    const { name } = account(request);
    const input = parse(createTokenSchema, request.body, 'token');
    const { token, info } = users.createToken(
      name,
      input.label ?? 'api',
      input.ttl_seconds === undefined ? null : input.ttl_seconds * 1000,
    );
    // The only time the token is shown: only its hash is kept.
    return reply.status(201).send({ ...presentToken(info), token });
  });

  app.delete<{ Params: { name: string; id: string } }>(
    '/system/users/:name/tokens/:id',
    async (request, reply) => {
      users.revokeToken(account(request).name, request.params.id);
      return reply.status(204).send();
    },
  );

  app.get<{ Params: { name: string } }>('/system/users/:name/s3-keys', async (request) => {
    return users
      .listS3Keys(account(request).name)
      .map((key) => ({ access_key: key.accessKey, created: iso(key.createdMs) }));
  });

  app.post<{ Params: { name: string } }>('/system/users/:name/s3-keys', async (request, reply) => {
    const { accessKey, secretKey } = users.createS3Key(account(request).name);
    return reply.status(201).send({ access_key: accessKey, secret_key: secretKey, endpoint: ctx.s3Url() });
  });

  app.delete<{ Params: { name: string; key: string } }>(
    '/system/users/:name/s3-keys/:key',
    async (request, reply) => {
      users.deleteS3Key(account(request).name, request.params.key);
      return reply.status(204).send();
    },
  );
}
