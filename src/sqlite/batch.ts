import type BetterSqlite3 from 'better-sqlite3';

/**
 * The real `setImmediate`, taken when this module loads: a test's fake timers (installed later)
 * must not hold a ledger's writes back, as they never did when each ran at once.
 */
const atTurnEnd = globalThis.setImmediate;

/** One operation waiting for its batch. */
interface Queued {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit. Operations asked for in the same event-loop turn (every request a poll phase
 * delivered) run in one `BEGIN IMMEDIATE` transaction, in the order they were asked, at the
 * turn's end (`setImmediate`). A commit writes each page it dirtied once, however many
 * operations dirtied it, so ten reservations cost about one.
 *
 * Each operation still has its own exact outcome: it sees every earlier one of its batch as
 * committed (the same answers as one transaction each, in that order), and its promise settles
 * once the batch has committed. One that throws is rejected alone: the batch is rolled back and
 * run again without it (operations are deterministic, so the others get the same answers; no
 * savepoint per operation, which would cost a statement journal each). A batch that cannot
 * commit (the write lock held past the busy timeout, a full disk) rejects every operation in it,
 * and nothing of it is written.
 */
export class GroupCommit {
  private queue: Queued[] = [];
  private scheduled = false;
  /** The index of the operation running, while one runs. */
  private running = -1;
  private readonly commit: (queue: readonly Queued[]) => unknown[];

  constructor(db: BetterSqlite3.Database) {
    const all = db.transaction((queue: readonly Queued[]) => {
      const values: unknown[] = [];
      for (let i = 0; i < queue.length; i++) {
        this.running = i;
        values.push((queue[i] as Queued).run());
      }
      this.running = -1;
      return values;
    });
    this.commit = (queue) => all.immediate(queue);
  }

  /** Whether operations wait for this turn's transaction. */
  get waiting(): boolean {
    return this.queue.length > 0;
  }

  /** Queues `run` for this turn's transaction; resolves with its value once committed. */
  add<R>(run: () => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        atTurnEnd(this.flush);
      }
    });
  }

  /** Runs what is queued now, synchronously (before reads that must see it, and on close). */
  readonly flush = (): void => {
    this.scheduled = false;
    let queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    for (;;) {
      let values: unknown[];
      try {
        values = this.commit(queue);
      } catch (error) {
        const failed = this.running;
        this.running = -1;
        if (failed < 0) {
          for (const op of queue) op.reject(error);
          return;
        }
        (queue[failed] as Queued).reject(error);
        queue = queue.filter((_, i) => i !== failed);
        if (queue.length === 0) return;
        continue;
      }
      for (let i = 0; i < queue.length; i++) (queue[i] as Queued).resolve(values[i]);
      return;
    }
  };
}
