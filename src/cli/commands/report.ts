/** `tollgate report`: the console cost report, from the ledger. */
import { formatCostReport } from '../../show/report.js';
import {
  type Command,
  dbPath,
  ledgerName,
  openLedger,
  parse,
  sinceToEpoch,
  text,
  write,
} from '../args.js';
import { CURRENCY_HELP, CURRENCY_OPTIONS, converterFromFlags } from '../currency.js';
import { ledgerStatistics } from '../ledger-stats.js';

export const report: Command = {
  name: 'report',
  summary: 'print the cost report of the ledger',
  help: `Usage: tollgate report [--since 7d] [--user ID] [--tenant ID] [--currency EUR [--rates FILE|ecb]] [--db PATH]

Prints the cost report (totals, cost by agent and by model) of the calls in the ledger.

Options:
  --since WHEN   calls since a duration ago (30m, 12h, 7d, 2w) or a date (2026-11-01); default 7d
  --user ID      only this user's calls
  --tenant ID    only this tenant's calls
  --db PATH      the SQLite ledger or a postgres:// URL (default: $TOLLGATE_DB, else
                 outputs/tollgate.db)
${CURRENCY_HELP}  -h, --help     this help
`,
  async run(argv, io) {
    const args = parse(
      argv,
      {
        since: { type: 'string' },
        user: { type: 'string' },
        tenant: { type: 'string' },
        db: { type: 'string' },
        ...CURRENCY_OPTIONS,
      },
      { min: 0, max: 0 },
    );
    if (args.help) {
      await write(io.stdout, this.help);
      return 0;
    }
    const now = io.now();
    const since = text(args, 'since') ?? '7d';
    const from = sinceToEpoch(since, now);
    const user = text(args, 'user');
    const tenant = text(args, 'tenant');
    const path = dbPath(text(args, 'db'), io.env);
    const currency = await converterFromFlags(text(args, 'currency'), text(args, 'rates'), io.env);
    const store = await openLedger(path, { mustExist: true });
    try {
      const stats = await ledgerStatistics(store, {
        from,
        to: now,
        ...(user === undefined ? {} : { userId: user }),
        ...(tenant === undefined ? {} : { tenantId: tenant }),
      });
      const scope = [user && `user ${user}`, tenant && `tenant ${tenant}`]
        .filter(Boolean)
        .join(', ');
      await write(
        io.stdout,
        `Ledger ${ledgerName(path)}, calls since ${new Date(from).toISOString()}${scope ? ` (${scope})` : ''}\n`,
      );
      await write(
        io.stdout,
        `${formatCostReport(stats, { durationLabel: 'First to last call', ...(currency ? { currency } : {}) })}\n`,
      );
      if (stats.totalCalls > 0) {
        await write(io.stdout, `Exact total: $${stats.totalCostUsdExact}\n`);
      }
      return 0;
    } finally {
      await store.close();
    }
  },
};
