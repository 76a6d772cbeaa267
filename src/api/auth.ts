/**
 * @module api/auth
 * Authentication of every REST request in one hook: the caller's principal is resolved once (auth/) and
 * kept on the request; routes then ask `authorize` (auth/policy) or the helpers below. A request without any
 * credentials is refused here unless its route is marked `config: { public: true }` (only /health is).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PlatformError } from '../core/index.js';
import {
  ANONYMOUS,
  authorize,
  isAdminBasic,
  type Authenticator,
  type Owned,
  type Principal,
} from '../auth/index.js';
import type { ServiceRecord } from '../events/index.js';

export type Caller = { kind: 'admin'; user: string } | { kind: 'service'; service: string };

export interface Credentials {
  adminUser: string;
  adminPassword: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set by the authentication hook before any route runs. */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** The route answers without credentials. */
    public?: boolean;
    /**
     * The route checks a credential of its own (a scheduler partition's token, a legacy /lb capability URL)
     * and never asks who the platform caller is: the hook does not resolve a principal for it, which would
     * cost a lookup (or, for an unknown bearer token, a comparison with every service token) per call.
     */
    ownCredentials?: boolean;
  }
}

/** Installs the hook that authenticates every request (before its body is read). */
export function installAuthentication(app: FastifyInstance, authenticator: Authenticator): void {
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.ownCredentials === true) {
      request.principal = ANONYMOUS;
      return;
    }
    const header = request.headers.authorization;
    request.principal = await authenticator.authenticate(typeof header === 'string' ? header : undefined);
    if (request.principal.kind === 'anonymous' && request.routeOptions.config.public !== true) {
      throw new PlatformError('UNAUTHENTICATED', 'this endpoint needs credentials');
    }
  });
}

/** The caller: from the hook, or (where the hook does not run) from the admin's Basic credentials. */
export function principalOf(request: FastifyRequest, credentials: Credentials): Principal {
  const principal = request.principal as Principal | null | undefined;
  if (principal) return principal;
  const header = request.headers.authorization;
  if (typeof header !== 'string' || header === '') return ANONYMOUS;
  return isAdminBasic(header, credentials.adminUser, credentials.adminPassword)
    ? { kind: 'admin', name: credentials.adminUser }
    : { kind: 'unrecognized', reason: 'wrong user name or password' };
}

/** The admin, or UNAUTHENTICATED (no valid credentials) / FORBIDDEN (a user or a service token). */
export function requireAdmin(request: FastifyRequest, credentials: Credentials): Caller {
  const principal = principalOf(request, credentials);
  if (principal.kind === 'admin') return { kind: 'admin', user: principal.name };
  if (principal.kind === 'anonymous')
    throw new PlatformError('UNAUTHENTICATED', 'this endpoint needs HTTP Basic credentials');
  authorize(principal, 'read', { kind: 'administration' });
  throw new PlatformError('FORBIDDEN', 'this endpoint is for administrators');
}

/** The service as an owned resource for the policy. */
export function serviceResource(service: Pick<ServiceRecord, 'name' | 'owner' | 'spec'>): Owned & {
  kind: 'service';
} {
  return {
    kind: 'service',
    name: service.name,
    owner: service.owner,
    visibility: service.spec.visibility,
    allowedUsers: service.spec.allowedUsers,
  };
}

/**
 * Whoever may invoke the service: the admin, its token, its owner, users its visibility admits; else
 * UNAUTHENTICATED / FORBIDDEN.
 */
export function requireServiceAccess(
  request: FastifyRequest,
  credentials: Credentials,
  service: Pick<ServiceRecord, 'name' | 'owner' | 'spec'>,
): Principal {
  const principal = principalOf(request, credentials);
  if (principal.kind === 'anonymous') {
    throw new PlatformError(
      'UNAUTHENTICATED',
      `invoking "${service.name}" needs its token as a Bearer token`,
    );
  }
  authorize(principal, 'invoke', serviceResource(service));
  return principal;
}
