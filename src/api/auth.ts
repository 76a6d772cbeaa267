/**
 * @module api/auth
 * Who is calling: the admin (HTTP Basic, as OSCAR's /system/* group) or the holder of a service's
 * 64-hex token (Bearer, as OSCAR's /job and /run).
 */
import type { FastifyRequest } from 'fastify';
import { PlatformError, safeEqual } from '../core/index.js';

export type Caller = { kind: 'admin'; user: string } | { kind: 'service'; service: string };

export interface Credentials {
  adminUser: string;
  adminPassword: string;
}

function parseBasic(header: string): { user: string; password: string } | null {
  if (!/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function parseBearer(header: string): string | null {
  const match = /^bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/** The admin, or UNAUTHENTICATED. */
export function requireAdmin(request: FastifyRequest, credentials: Credentials): Caller {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || header === '') {
    throw new PlatformError('UNAUTHENTICATED', 'this endpoint needs HTTP Basic credentials');
  }
  const basic = parseBasic(header);
  if (
    basic &&
    safeEqual(basic.user, credentials.adminUser) &&
    safeEqual(basic.password, credentials.adminPassword)
  ) {
    return { kind: 'admin', user: basic.user };
  }
  throw new PlatformError('UNAUTHENTICATED', 'wrong user name or password');
}

/** The admin (Basic) or the service's own token (Bearer), or UNAUTHENTICATED. */
export function requireServiceAccess(
  request: FastifyRequest,
  credentials: Credentials,
  service: { name: string; token: string },
): Caller {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || header === '') {
    throw new PlatformError(
      'UNAUTHENTICATED',
      `invoking "${service.name}" needs its token as a Bearer token`,
    );
  }
  const token = parseBearer(header);
  if (token !== null) {
    if (safeEqual(token, service.token)) return { kind: 'service', service: service.name };
    throw new PlatformError('UNAUTHENTICATED', `wrong token for service "${service.name}"`);
  }
  return requireAdmin(request, credentials);
}
