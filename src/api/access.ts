/**
 * @module api/access
 * The authorization checks of the dashboard's routes, in the policy's terms (auth/policy): a user sees the
 * services and buckets the policy lets them read, the admin sees everything.
 */
import type { FastifyRequest } from 'fastify';
import { authorize, can, ownerName, type Action, type Principal } from '../auth/index.js';
import { principalOf, serviceResource } from './auth.js';
import type { ApiContext } from './context.js';
import { bucketResource } from './routes/buckets.js';

/** The caller, who must be authenticated (any user, the admin, a token). */
export function callerOf(ctx: ApiContext, request: FastifyRequest): Principal {
  const principal = principalOf(request, ctx.config);
  authorize(principal, 'read', { kind: 'cluster' });
  return principal;
}

/** Whether the caller may see the named service (false for a service that does not exist). */
export function serviceVisibleTo(ctx: ApiContext, principal: Principal): (service: string) => boolean {
  return (service) => {
    const record = ctx.registry.find(service);
    return record !== undefined && can(principal, 'read', serviceResource(record));
  };
}

/** Checks that the caller may `action` the service; SERVICE_NOT_FOUND / FORBIDDEN otherwise. */
export function authorizeService(
  ctx: ApiContext,
  principal: Principal,
  service: string,
  action: Action,
): void {
  authorize(principal, action, serviceResource(ctx.registry.get(service)));
}

/** Checks that the caller may read or write the bucket; returns who the store records as the principal. */
export async function authorizeBucket(
  ctx: ApiContext,
  request: FastifyRequest,
  bucket: string,
  action: 'read' | 'write',
): Promise<{ principal: string; sourceIp: string }> {
  const principal = callerOf(ctx, request);
  authorize(principal, action, bucketResource(await ctx.store.headBucket(bucket)));
  return { principal: ownerName(principal) ?? '', sourceIp: request.ip };
}
