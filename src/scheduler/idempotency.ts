/**
 * @module scheduler/idempotency
 * Answers remembered per (scope, Idempotency-Key), so that a retried POST changes nothing twice: the answer
 * is stored in the same transaction as the change it describes, and a replay returns it without running
 * again. The same key with another request is IDEMPOTENCY_KEY_REUSED. Records are kept for a day.
 */
import { PlatformError, type Clock } from '../core/index.js';
import type { Db } from '../state/index.js';
import { atomicRunner } from '../state/commit-group.js';

/** How long an answer is remembered. */
export const IDEMPOTENCY_TTL_MS = 86_400_000;

export class IdempotencyRecords {
  private readonly atomic: <T>(fn: () => T) => T;
  private readonly stmts;

  constructor(
    db: Db,
    private readonly clock: Clock,
  ) {
    this.atomic = atomicRunner(db);
    this.stmts = {
      find: db.prepare<[string, string], { request_hash: string; response: string }>(
        'SELECT request_hash, response FROM sched_idempotency WHERE scope = ? AND key = ?',
      ),
      insert: db.prepare(
        'INSERT INTO sched_idempotency (scope, key, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      prune: db.prepare('DELETE FROM sched_idempotency WHERE created_at < ?'),
    };
  }

  /** Runs `fn` once per (scope, key); without a key, simply runs it. */
  once<T>(scope: string, key: string | undefined, requestHash: string, fn: () => T): T {
    if (key === undefined) return fn();
    if (key.length === 0 || key.length > 200)
      throw new PlatformError('BAD_REQUEST', 'the Idempotency-Key header must have 1 to 200 characters');
    return this.atomic(() => {
      const seen = this.stmts.find.get(scope, key);
      if (seen) {
        if (seen.request_hash !== requestHash)
          throw new PlatformError(
            'IDEMPOTENCY_KEY_REUSED',
            `idempotency key "${key}" was used for another request`,
          );
        return JSON.parse(seen.response) as T;
      }
      const out = fn();
      this.stmts.insert.run(scope, key, requestHash, JSON.stringify(out), this.clock.now());
      return out;
    });
  }

  /** Forgets the answers older than the TTL. */
  prune(now: number): void {
    this.stmts.prune.run(now - IDEMPOTENCY_TTL_MS);
  }
}
