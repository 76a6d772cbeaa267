/**
 * @module s3api/bucket-access
 * Who may do what on a bucket, from its OSCAR visibility: the owner and administrators everything; on a
 * `public` bucket anyone may read (anonymous requests included) and any authenticated user may write; on a
 * `restricted` bucket its listed users may read and write; a `private` bucket is its owner's alone.
 */
import type { BucketInfo } from '../storage/index.js';

/** What an operation needs: read or write a bucket's objects, or own the bucket. */
export type BucketAccess = 'read' | 'write' | 'owner';

/** The caller of a request; null when it carries no credentials. */
export type Caller = { principal: string; admin: boolean } | null;

/** Whether `caller` may perform `access` on `bucket`. */
export function mayAccess(bucket: BucketInfo, caller: Caller, access: BucketAccess): boolean {
  if (caller !== null && (caller.admin || caller.principal === bucket.owner)) return true;
  if (access === 'owner') return false;
  switch (bucket.visibility) {
    case 'public':
      return access === 'read' || caller !== null;
    case 'restricted':
      return caller !== null && bucket.allowedUsers.includes(caller.principal);
    case 'private':
      return false;
  }
}
