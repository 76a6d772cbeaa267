/**
 * @module state/commit-group
 * Group commit, for the scheduler's partition protocol and the queue's async invocations. Steps that arrive together (in one turn of the event loop: the
 * requests one poll of the sockets delivered) run one after the other in a single SQLite transaction, each
 * inside its own savepoint, and commit once: a commit, not the balancing, is what a report costs, so a
 * thousand partitions reporting at once pay for one commit instead of a thousand. A step that throws rolls
 * back to its savepoint only (its caller gets the error, the others keep their changes), and every caller
 * gets its answer only after the commit that holds its change, so an answer never describes a state that
 * could still be lost with the process (or, with `durable`, with the machine). Steps run in arrival order; each is the same synchronous code a
 * direct call runs (optimistic concurrency, idempotency records), only the commit is shared.
 */
import { withRelaxedSync, type Db } from './database.js';

/** Memory kept for the length of one shared transaction (the store's job rows, see withJobCache). */
export interface TransactionCache {
  /** Runs the whole transaction with the cache on. */
  around<T>(fn: () => T): T;
  /** A step failed: its savepoint rolled back; what it wrote may be remembered wrongly. */
  forget(): void;
}

interface Pending {
  step: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * A function that runs `fn` atomically: in its own transaction (committed with relaxed sync, as every
 * scheduler transition, see withRelaxedSync), or as a savepoint of the transaction already open (a shared
 * group commit, or a caller's). Built once per connection: better-sqlite3 wraps a function per call of
 * `db.transaction`, which is not free on a path that runs ten thousand times a second.
 */
export function atomicRunner(db: Db): <T>(fn: () => T) => T {
  const transaction = db.transaction((fn: () => unknown) => fn());
  return <T>(fn: () => T): T =>
    (db.inTransaction ? transaction(fn) : withRelaxedSync(db, () => transaction(fn))) as T;
}

/** Runs synchronous transactional steps in shared transactions, one per turn of the event loop. */
export class CommitGroup {
  private queue: Pending[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  private readonly inSavepoint: (step: () => unknown) => unknown;
  private readonly batch: (steps: Pending[]) => Outcome[];
  /** Transactions committed and steps run, for the benchmark and tests. */
  readonly stats = { commits: 0, steps: 0 };

  constructor(
    private readonly db: Db,
    private readonly cache: TransactionCache | null = null,
    /** Most steps in one transaction (a longer queue is split, so one commit's latency stays bounded). */
    private readonly maxSteps = 1024,
    /**
     * Commit with the connection's own `synchronous = FULL` (durable against power loss) instead of the
     * relaxed sync of scheduler transitions (durable against a killed process).
     */
    private readonly durable = false,
  ) {
    // better-sqlite3 runs a transaction function called inside another one as a SAVEPOINT.
    this.inSavepoint = db.transaction((step: () => unknown) => step());
    const steps = db.transaction((steps: Pending[]) =>
      steps.map((pending): Outcome => {
        // A failure that aborted the whole transaction (SQLite does so on a full disk, for one) must not let
        // the next step open a transaction of its own and commit apart from the batch.
        if (!db.inTransaction) throw new Error('the shared transaction was rolled back');
        try {
          return { ok: true, value: this.inSavepoint(pending.step) };
        } catch (error) {
          this.cache?.forget();
          return { ok: false, error };
        }
      }),
    );
    // IMMEDIATE: the write lock is taken before the first read, so no other connection can commit between
    // a step's read and its write (which would fail the batch) and the cache sees what the database holds.
    this.batch = (pending) =>
      this.cache === null ? steps.immediate(pending) : this.cache.around(() => steps.immediate(pending));
  }

  /** Runs `step` in the next shared transaction; resolves with its value once that transaction committed. */
  run<T>(step: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ step, resolve: resolve as (value: unknown) => void, reject });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Commits what is queued now (used by close, and by the scheduled turn). */
  flush(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    while (this.queue.length > 0) {
      const steps = this.queue.splice(0, this.maxSteps);
      let outcomes: Outcome[];
      try {
        // Relaxed sync as every scheduler transition (see withRelaxedSync): a commit survives a killed process.
        outcomes =
          this.db.inTransaction || this.durable
            ? this.batch(steps)
            : withRelaxedSync(this.db, () => this.batch(steps));
      } catch (error) {
        // BEGIN or COMMIT failed (the database is locked, the disk is full): nothing of the batch was kept.
        for (const pending of steps) pending.reject(error);
        continue;
      }
      this.stats.commits += 1;
      this.stats.steps += steps.length;
      outcomes.forEach((outcome, i) => {
        const pending = steps[i];
        if (!pending) return;
        if (outcome.ok) pending.resolve(outcome.value);
        else pending.reject(outcome.error);
      });
    }
  }

  /** Commits anything still queued. */
  close(): void {
    this.flush();
  }
}
