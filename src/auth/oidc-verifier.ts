/**
 * @module auth/oidc-verifier
 * Validates OIDC bearer tokens (JWT access tokens) with `jose` against the configured issuers: signature
 * from the issuer's JWKS (its `jwks_uri`, found by discovery unless configured), issuer, audience, expiry.
 */
import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import { PlatformError } from '../core/index.js';
import { groupsFromClaim, inAllowedGroups } from './entitlements.js';

export interface OidcIssuerConfig {
  /** The `iss` of its tokens, e.g. https://aai.egi.eu/auth/realms/egi */
  issuer: string;
  /** Where its keys are; null: from `<issuer>/.well-known/openid-configuration`. */
  jwksUri: string | null;
  /** The `aud` its tokens must carry; null: not checked. */
  audience: string | null;
}

export interface OidcConfig {
  issuers: OidcIssuerConfig[];
  /** Claim naming the user. @default sub */
  userClaim: string;
  /** Claim listing groups / entitlements. @default eduperson_entitlement */
  groupsClaim: string;
  /** Only members of these groups (VOs) are admitted (OSCAR's OIDC_GROUPS); empty: everyone. */
  allowedGroups: string[];
}

export interface OidcIdentity {
  user: string;
  groups: string[];
  issuer: string;
}

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/** Whether a bearer token has the shape of a JWT (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

export class OidcVerifier {
  private readonly keySets = new Map<string, Promise<KeySet>>();

  constructor(private readonly config: OidcConfig) {}

  get enabled(): boolean {
    return this.config.issuers.length > 0;
  }

  get issuers(): string[] {
    return this.config.issuers.map((issuer) => issuer.issuer);
  }

  get allowedGroups(): string[] {
    return this.config.allowedGroups;
  }

  /** The token's issuer when it is one of ours, else null (the token is someone else's business). */
  issuerOf(token: string): OidcIssuerConfig | null {
    let payload: JWTPayload;
    try {
      payload = decodeJwt(token);
    } catch {
      return null;
    }
    return this.config.issuers.find((issuer) => issuer.issuer === payload.iss) ?? null;
  }

  private keySet(issuer: OidcIssuerConfig): Promise<KeySet> {
    let found = this.keySets.get(issuer.issuer);
    if (!found) {
      found = (async () => {
        const uri = issuer.jwksUri ?? (await discoverJwksUri(issuer.issuer));
        return createRemoteJWKSet(new URL(uri), { timeoutDuration: 5000, cooldownDuration: 30_000 });
      })();
      // A failed discovery is retried by the next request, not cached.
      found.catch(() => this.keySets.delete(issuer.issuer));
      this.keySets.set(issuer.issuer, found);
    }
    return found;
  }

  /** The user and groups of a valid token; UNAUTHENTICATED or FORBIDDEN (not in an allowed group). */
  async verify(token: string): Promise<OidcIdentity> {
    const issuer = this.issuerOf(token);
    if (!issuer) throw new PlatformError('UNAUTHENTICATED', 'the token is not from a trusted OIDC issuer');
    let payload: JWTPayload;
    try {
      const keys = await this.keySet(issuer);
      ({ payload } = await jwtVerify(token, keys, {
        issuer: issuer.issuer,
        ...(issuer.audience !== null ? { audience: issuer.audience } : {}),
        clockTolerance: 30,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw new PlatformError('UNAUTHENTICATED', `the OIDC token was refused: ${reason(error)}`, {
        cause: error,
      });
    }
    const user = payload[this.config.userClaim];
    if (typeof user !== 'string' || user === '') {
      throw new PlatformError('UNAUTHENTICATED', `the OIDC token has no "${this.config.userClaim}" claim`);
    }
    const groups = groupsFromClaim(payload[this.config.groupsClaim]);
    if (!inAllowedGroups(groups, this.config.allowedGroups)) {
      throw new PlatformError(
        'FORBIDDEN',
        `user "${user}" is in none of the groups allowed here (${this.config.allowedGroups.join(', ')})`,
        { details: { groups, allowed_groups: this.config.allowedGroups } },
      );
    }
    return { user, groups, issuer: issuer.issuer };
  }
}

function reason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'it has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim "${error.claim}" ${error.reason}`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches it';
  if (error instanceof PlatformError) return error.message;
  if (error instanceof errors.JOSEError) return error.code;
  return 'the issuer could not be reached';
}

async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok)
    throw new PlatformError('UNAVAILABLE', `OIDC discovery at ${url} answered ${response.status}`);
  const body = (await response.json()) as { jwks_uri?: unknown };
  if (typeof body.jwks_uri !== 'string')
    throw new PlatformError('UNAVAILABLE', `OIDC discovery at ${url} names no jwks_uri`);
  return body.jwks_uri;
}
