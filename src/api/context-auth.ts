/**
 * @module api/context-auth
 * What the API needs from auth/: who is calling, the user directory, quota checks.
 */
import type { Authenticator, OidcVerifier, QuotaGuard, UserStore } from '../auth/index.js';

export interface ApiAuth {
  authenticator: Authenticator;
  users: UserStore;
  quotas: QuotaGuard;
  oidc: OidcVerifier;
}
