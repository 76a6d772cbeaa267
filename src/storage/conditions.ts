/**
 * @module storage/conditions
 * HTTP preconditions (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) evaluated against an
 * object's current state, as RFC 9110 §13.2.2 orders them: an entity-tag condition, when present, decides
 * instead of its date counterpart. Every store checks them where it commits, so that a concurrent write
 * cannot slip between the check and the write.
 */
import { PlatformError } from '../core/index.js';
import type { ObjectConditions, ObjectInfo } from './object-store.js';

function etagListMatches(list: string, etag: string): boolean {
  return list.split(',').some((candidate) => {
    const value = candidate.trim().replace(/^W\//, '');
    return value === '*' || value.replace(/^"|"$/g, '') === etag;
  });
}

function failed(condition: string, details: Record<string, unknown>): PlatformError {
  return new PlatformError('PRECONDITION_FAILED', `the precondition ${condition} does not hold`, {
    details: { condition, ...details },
  });
}

/** Whether any condition is set. */
export function hasConditions(conditions: ObjectConditions | undefined): conditions is ObjectConditions {
  return (
    conditions !== undefined &&
    (conditions.ifMatch !== undefined ||
      conditions.ifNoneMatch !== undefined ||
      conditions.ifModifiedSinceMs !== undefined ||
      conditions.ifUnmodifiedSinceMs !== undefined)
  );
}

/**
 * Throws PRECONDITION_FAILED unless `current` (null: no such object) satisfies every condition. HTTP dates
 * have a one-second resolution, so modification times are compared in whole seconds.
 */
export function checkConditions(
  conditions: ObjectConditions | undefined,
  current: ObjectInfo | null,
  what: { bucket: string; key: string },
): void {
  if (!hasConditions(conditions)) return;
  const { ifMatch, ifNoneMatch, ifModifiedSinceMs, ifUnmodifiedSinceMs } = conditions;
  const details = { bucket: what.bucket, key: what.key };
  if (ifMatch !== undefined) {
    if (current === null || !etagListMatches(ifMatch, current.etag)) throw failed('If-Match', details);
  } else if (ifUnmodifiedSinceMs !== undefined && current !== null) {
    if (Math.floor(current.lastModifiedMs / 1000) > Math.floor(ifUnmodifiedSinceMs / 1000)) {
      throw failed('If-Unmodified-Since', details);
    }
  }
  if (ifNoneMatch !== undefined) {
    if (current !== null && etagListMatches(ifNoneMatch, current.etag))
      throw failed('If-None-Match', details);
  } else if (ifModifiedSinceMs !== undefined && current !== null) {
    if (Math.floor(current.lastModifiedMs / 1000) <= Math.floor(ifModifiedSinceMs / 1000)) {
      throw failed('If-Modified-Since', details);
    }
  }
}
