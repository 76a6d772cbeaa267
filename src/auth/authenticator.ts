/**
 * @module auth/authenticator
 * Turns an Authorization header into a principal: HTTP Basic for the administrator (or a user with a personal
 * token as password), Bearer for a personal API token, a service's token, or an OIDC access token.
 */
import { PlatformError, safeEqual } from '../core/index.js';
import { looksLikeJwt, type OidcVerifier } from './oidc-verifier.js';
import { ANONYMOUS, type Principal } from './principal.js';
import { TOKEN_PREFIX, type UserRecord, type UserStore } from './user-store.js';

export interface AuthenticatorOptions {
  adminUser: string;
  adminPassword: string;
  users: UserStore;
  oidc: OidcVerifier;
  /** The service whose token this is, or null. */
  serviceOfToken: (token: string) => string | null;
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

function userPrincipal(user: UserRecord, via: 'token' | 'oidc'): Principal {
  if (user.admin) return { kind: 'admin', name: user.name };
  return { kind: 'user', name: user.name, groups: user.groups, via };
}

/** Whether the Basic credentials are the administrator's (checked in constant time). */
export function isAdminBasic(header: string, adminUser: string, adminPassword: string): boolean {
  const basic = parseBasic(header);
  return basic !== null && safeEqual(basic.user, adminUser) && safeEqual(basic.password, adminPassword);
}

export class Authenticator {
  constructor(private readonly options: AuthenticatorOptions) {}

  /**
   * The caller of a request. Credentials that are not ours give `unrecognized` (another subsystem may
   * own them); an OIDC token from a trusted issuer that fails validation throws UNAUTHENTICATED, and one
   * whose user is in no allowed group throws FORBIDDEN.
   */
  async authenticate(header: string | undefined): Promise<Principal> {
    if (header === undefined || header === '') return ANONYMOUS;
    const { options } = this;
    const basic = parseBasic(header);
    if (basic) {
      if (safeEqual(basic.user, options.adminUser) && safeEqual(basic.password, options.adminPassword))
        return { kind: 'admin', name: basic.user };
      if (basic.password.startsWith(TOKEN_PREFIX)) {
        const user = options.users.userOfToken(basic.password);
        if (user && user.name === basic.user) return userPrincipal(user, 'token');
      }
      return { kind: 'unrecognized', reason: 'wrong user name or password' };
    }
    const token = parseBearer(header);
    if (token === null) return { kind: 'unrecognized', reason: 'unsupported Authorization scheme' };
    if (token.startsWith(TOKEN_PREFIX)) {
      const user = options.users.userOfToken(token);
      if (!user) return { kind: 'unrecognized', reason: 'unknown, expired or revoked personal token' };
      return userPrincipal(user, 'token');
    }
    const service = options.serviceOfToken(token);
    if (service !== null) return { kind: 'service', service };
    if (options.oidc.enabled && looksLikeJwt(token) && options.oidc.issuerOf(token)) {
      const identity = await options.oidc.verify(token);
      const user = options.users.upsertOidcUser(identity.user, identity.groups);
      return userPrincipal(user, 'oidc');
    }
    return { kind: 'unrecognized', reason: 'unknown bearer token' };
  }
}

/** UNAUTHENTICATED for callers without valid credentials; the principal otherwise. */
export function requireAuthenticated(principal: Principal): Principal {
  if (principal.kind === 'anonymous')
    throw new PlatformError('UNAUTHENTICATED', 'this endpoint needs credentials');
  if (principal.kind === 'unrecognized') throw new PlatformError('UNAUTHENTICATED', principal.reason);
  return principal;
}
