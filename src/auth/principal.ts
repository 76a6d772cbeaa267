/**
 * @module auth/principal
 * Who is calling. Every request and every S3 access key resolves to exactly one principal.
 */

/** How a user proved who they are. */
export type UserSource = 'token' | 'oidc' | 's3';

export type Principal =
  /** No credentials at all. */
  | { kind: 'anonymous' }
  /** Credentials this platform does not recognise (another subsystem's token, a wrong password). */
  | { kind: 'unrecognized'; reason: string }
  /** The platform administrator (HTTP Basic from the data directory's credentials) or an admin user. */
  | { kind: 'admin'; name: string }
  /** A registered user, with the groups (VOs) they belong to. */
  | { kind: 'user'; name: string; groups: readonly string[]; via: UserSource }
  /** The holder of one service's token (OSCAR's /job and /run Bearer token). */
  | { kind: 'service'; service: string };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

/** The name recorded as owner of what this principal creates. */
export function ownerName(principal: Principal): string | null {
  if (principal.kind === 'admin' || principal.kind === 'user') return principal.name;
  return null;
}

/** A short description for error messages and audit lines (never a secret). */
export function describePrincipal(principal: Principal): string {
  switch (principal.kind) {
    case 'anonymous':
      return 'an anonymous caller';
    case 'unrecognized':
      return 'a caller with unrecognised credentials';
    case 'admin':
      return `administrator "${principal.name}"`;
    case 'user':
      return `user "${principal.name}"`;
    case 'service':
      return `the token of service "${principal.service}"`;
  }
}
