/** `tollgate retention --keep 180d`: drops whole months of a Postgres ledger. */
import type { PostgresStore } from '../../postgres/index.js';
import { isPostgresUrl } from '../../postgres/url.js';
import {
  type Command,
  CommandError,
  dbPath,
  ledgerName,
  openLedger,
  parse,
  text,
  UsageError,
  write,
} from '../args.js';

/** Epoch ms at which a `YYYY-MM` month ends. */
function monthEnd(label: string): number {
  const [year, month] = label.split('-').map(Number) as [number, number];
  return Date.UTC(year, month, 1);
}

export const retention: Command = {
  name: 'retention',
  summary: 'drop whole months older than --keep from a Postgres ledger',
  help: `Usage: tollgate retention --keep 180d [--dry-run] [--db postgres://…]

Drops every month of records (and its hourly rollups) that ended more than --keep ago, by
dropping its partitions: seconds whatever the size, no DELETE, no bloat. A month still partly
inside the window stays. The store's \`retention\` option does the same every hour.

Options:
  --keep AGE     how much to keep: 180d, 26w or 72h
  --dry-run      list the months that would go, drop nothing
  --db URL       the Postgres ledger (default: $TOLLGATE_DB)
  -h, --help     this help
`,
  async run(argv, io) {
    const args = parse(
      argv,
      { keep: { type: 'string' }, 'dry-run': { type: 'boolean' }, db: { type: 'string' } },
      { min: 0, max: 0 },
    );
    if (args.help) {
      await write(io.stdout, this.help);
      return 0;
    }
    const keep = text(args, 'keep');
    if (keep === undefined) throw new UsageError('--keep is required (180d, 26w, 72h)');
    const { parseRetention } = await import('../../postgres/retention.js');
    let keepMs: number;
    try {
      keepMs = parseRetention(keep) as number;
    } catch (error) {
      throw new UsageError(`--keep: ${(error as Error).message}`);
    }
    const db = dbPath(text(args, 'db'), io.env);
    if (!isPostgresUrl(db)) {
      throw new CommandError(
        `retention drops months of a Postgres ledger: --db (or TOLLGATE_DB) must be a postgres:// URL, got ${db}`,
      );
    }
    const cutoff = io.now() - keepMs;
    const store = (await openLedger(db)) as PostgresStore;
    try {
      const months = await store.months();
      const old = months.filter((month) => monthEnd(month) <= cutoff);
      if (args.values['dry-run']) {
        await write(
          io.stdout,
          `Would drop ${old.length ? old.join(', ') : 'nothing'} from ${ledgerName(db)}\n`,
        );
        return 0;
      }
      const dropped = await store.dropBefore(cutoff);
      const left = months.filter((month) => !dropped.includes(month));
      await write(
        io.stdout,
        `Dropped ${dropped.length ? dropped.join(', ') : 'nothing'} from ${ledgerName(db)}; ` +
          `${left.length ? `kept ${left[0]} to ${left[left.length - 1]}` : 'no months left'}\n`,
      );
      return 0;
    } finally {
      await store.close();
    }
  },
};
