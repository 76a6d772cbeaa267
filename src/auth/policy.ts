/**
 * @module auth/policy
 * The one authorization rule of the platform: `authorize(principal, action, resource)`. Routes and the S3
 * endpoint describe what is asked; this module decides.
 *
 * - The administrator may do everything.
 * - A service's token may invoke that service and read its jobs and logs, nothing else.
 * - A user owns what they create. OSCAR's visibility opens a service or bucket to others: `public` to every
 *   authenticated user (and, for bucket reads, to anonymous callers), `restricted` to its `allowed_users`,
 *   `private` to nobody but the owner. Only the owner (or an admin) changes or deletes it.
 * - Anonymous callers may only read public buckets; everything else needs credentials.
 */
import { PlatformError } from '../core/index.js';
import { describePrincipal, type Principal } from './principal.js';

export type Visibility = 'private' | 'public' | 'restricted';

/** Something owned, with OSCAR's visibility. */
export interface Owned {
  name: string;
  owner: string;
  visibility: Visibility;
  allowedUsers: readonly string[];
}

export type Resource =
  /** Cluster information every authenticated caller may read (/system/info, /system/config). */
  | { kind: 'cluster' }
  /** Administration: users, quotas, cluster status, every service's jobs. */
  | { kind: 'administration' }
  | ({ kind: 'service' } & Owned)
  | ({ kind: 'bucket' } & Owned)
  /** A user's own account: tokens, S3 keys, quotas. */
  | { kind: 'account'; name: string };

/**
 * - `read`: see it (a service's definition, jobs and logs; a bucket's objects)
 * - `invoke`: run a service
 * - `write`: change it (update a service, write objects)
 * - `delete`: remove it
 * - `manage`: change who may use it (a bucket's visibility)
 * - `create`: create one (services, buckets: the caller becomes the owner)
 */
export type Action = 'read' | 'invoke' | 'write' | 'delete' | 'manage' | 'create';

function openTo(resource: Owned, user: string): boolean {
  if (resource.owner === user) return true;
  if (resource.visibility === 'public') return true;
  return resource.visibility === 'restricted' && resource.allowedUsers.includes(user);
}

/** Whether `principal` may do `action` on `resource` (for filtering lists). */
export function can(principal: Principal, action: Action, resource: Resource): boolean {
  switch (principal.kind) {
    case 'admin':
      return true;
    case 'anonymous':
      return resource.kind === 'bucket' && action === 'read' && resource.visibility === 'public';
    case 'unrecognized':
      return false;
    case 'service':
      return (
        resource.kind === 'service' &&
        resource.name === principal.service &&
        (action === 'invoke' || action === 'read')
      );
    case 'user':
      switch (resource.kind) {
        case 'cluster':
          return action === 'read';
        case 'administration':
          return false;
        case 'account':
          return resource.name === principal.name;
        case 'service':
          if (action === 'create') return true;
          if (action === 'read' || action === 'invoke') return openTo(resource, principal.name);
          return resource.owner === principal.name;
        case 'bucket':
          if (action === 'create') return true;
          if (action === 'read') return openTo(resource, principal.name);
          if (action === 'write')
            return (
              resource.owner === principal.name ||
              (resource.visibility !== 'private' && openTo(resource, principal.name))
            );
          return resource.owner === principal.name;
      }
  }
}

function describeResource(resource: Resource): string {
  switch (resource.kind) {
    case 'cluster':
      return 'the cluster information';
    case 'administration':
      return 'this administration endpoint';
    case 'account':
      return `the account of "${resource.name}"`;
    case 'service':
      return `service "${resource.name}"`;
    case 'bucket':
      return `bucket "${resource.name}"`;
  }
}

/**
 * Throws unless `principal` may do `action` on `resource`: UNAUTHENTICATED when there are no (valid)
 * credentials, FORBIDDEN when the caller is known but not allowed.
 */
export function authorize(principal: Principal, action: Action, resource: Resource): void {
  if (can(principal, action, resource)) return;
  if (principal.kind === 'anonymous')
    throw new PlatformError('UNAUTHENTICATED', `${describeResource(resource)} needs credentials`);
  if (principal.kind === 'unrecognized') throw new PlatformError('UNAUTHENTICATED', principal.reason);
  throw new PlatformError(
    'FORBIDDEN',
    `${describePrincipal(principal)} may not ${action} ${describeResource(resource)}`,
    { details: { action, resource: resource.kind } },
  );
}
