import type BetterSqlite3 from 'better-sqlite3';

/** One operation waiting for its batch. */
interface Queued {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** What one operation of a batch gave: its value, or the error it alone threw. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit. Operations asked for in the same event-loop turn (every request a poll phase
 * delivered) run in one `BEGIN IMMEDIATE` transaction, in the order they were asked, at the
 * turn's end (`setImmediate`). A commit writes each page it dirtied once, however many
 * operations dirtied it, so ten reservations cost about one.
 *
 * Each operation still has its own exact outcome: it sees every earlier one of its batch as
 * committed (the same answers as one transaction each, in that order), runs in its own
 * savepoint (one that throws undoes only itself and rejects only its caller), and its promise
 * settles once the batch has committed. A batch that cannot commit (the write lock held past
 * the busy timeout, a full disk) rejects every operation in it, and nothing of it is written.
 */
export class GroupCommit {
  private queue: Queued[] = [];
  private scheduled = false;
  private readonly commit: (queue: readonly Queued[]) => Outcome[];

  constructor(private readonly db: BetterSqlite3.Database) {
    const one = db.transaction((run: () => unknown) => run());
    const all = db.transaction((queue: readonly Queued[]) =>
      queue.map((op): Outcome => {
        try {
          return { ok: true, value: one(op.run) };
        } catch (error) {
          // Rolled back to its savepoint; unless SQLite dropped the whole transaction.
          if (!this.db.inTransaction) throw error;
          return { ok: false, error };
        }
      }),
    );
    this.commit = (queue) => all.immediate(queue);
  }

  /** Queues `run` for this turn's transaction; resolves with its value once committed. */
  add<R>(run: () => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  /** Runs what is queued now, synchronously (before reads that must see it, and on close). */
  readonly flush = (): void => {
    this.scheduled = false;
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    let outcomes: Outcome[];
    try {
      outcomes = this.commit(queue);
    } catch (error) {
      for (const op of queue) op.reject(error);
      return;
    }
    for (let i = 0; i < queue.length; i++) {
      const op = queue[i] as Queued;
      const outcome = outcomes[i] as Outcome;
      if (outcome.ok) op.resolve(outcome.value);
      else op.reject(outcome.error);
    }
  };
}
