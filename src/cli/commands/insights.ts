/** `tollgate insights`: what-if repricing and suggestions from the ledger. */
import { ledgerInsights } from '../../insights/ledger.js';
import { formatInsights } from '../../show/insights-text.js';
import {
  type Command,
  dbPath,
  openLedger,
  parse,
  sinceToEpoch,
  text,
  UsageError,
  write,
} from '../args.js';
import { CURRENCY_HELP, CURRENCY_OPTIONS, converterFromFlags } from '../currency.js';

/** `--candidate researcher=gemini-2.5-flash-lite,gemini-2.0-flash` → `{ researcher: [...] }`. */
function candidatesOf(values: unknown): Record<string, string[]> | undefined {
  if (!Array.isArray(values) || values.length === 0) return undefined;
  const candidates: Record<string, string[]> = {};
  for (const value of values as string[]) {
    const match = /^([^=]+)=(.+)$/.exec(value);
    const models =
      match?.[2]
        ?.split(',')
        .map((m) => m.trim())
        .filter(Boolean) ?? [];
    if (!match || models.length === 0) {
      throw new UsageError(`--candidate ${JSON.stringify(value)}: write AGENT=MODEL[,MODEL…]`);
    }
    candidates[(match[1] as string).trim()] = models;
  }
  return candidates;
}

export const insights: Command = {
  name: 'insights',
  summary: 'what-if repricing and cost suggestions from the ledger',
  help: `Usage: tollgate insights [--since 30d] [--user ID] [--tenant ID] [--candidate AGENT=MODEL,…] [--json] [--db PATH]

Reprices each agent's and model's recorded tokens on cheaper models (the same tokens, not a
prediction of quality or token counts) and lists heavy calls, prompt growth, revision loops,
caching, thinking share, and unpriced or repaired calls.

Options:
  --since WHEN        calls since a duration ago (30m, 12h, 7d, 2w) or a date; default 30d
  --user ID           only this user's calls
  --tenant ID         only this tenant's calls
  --candidate A=M,…   candidate models for agent (or model) A; repeatable; '*' for all
  --json              the report as JSON
  --db PATH           the SQLite ledger or a postgres:// URL (default: $TOLLGATE_DB, else
                      outputs/tollgate.db)
${CURRENCY_HELP}  -h, --help          this help
`,
  async run(argv, io) {
    const args = parse(
      argv,
      {
        since: { type: 'string' },
        user: { type: 'string' },
        tenant: { type: 'string' },
        candidate: { type: 'string', multiple: true },
        json: { type: 'boolean' },
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
    const from = sinceToEpoch(text(args, 'since') ?? '30d', now);
    const user = text(args, 'user');
    const tenant = text(args, 'tenant');
    const candidates = candidatesOf(args.values.candidate);
    const currency = await converterFromFlags(text(args, 'currency'), text(args, 'rates'), io.env);
    const store = await openLedger(dbPath(text(args, 'db'), io.env), { mustExist: true });
    try {
      const report = await ledgerInsights(
        store,
        {
          from,
          to: now + 1,
          ...(user === undefined ? {} : { userId: user }),
          ...(tenant === undefined ? {} : { tenantId: tenant }),
        },
        candidates ? { candidates } : {},
      );
      if (args.values.json === true) {
        await write(io.stdout, `${JSON.stringify(report, null, 2)}\n`);
      } else {
        await write(io.stdout, formatInsights(report, currency));
        if (report.truncated) await write(io.stdout, '(the newest 100,000 calls only)\n');
      }
      return 0;
    } finally {
      await store.close();
    }
  },
};
