/** The `tollgate` command line: finds the command, runs it, turns failures into exit codes. */
import { ConfigurationError, CurrencyError, UnknownModelError } from '../errors.js';
import { type Command, CommandError, firstLine, type Io, UsageError, write } from './args.js';
import { budgets } from './commands/budgets.js';
import { exportCommand } from './commands/export.js';
import { insights } from './commands/insights.js';
import { prices } from './commands/prices.js';
import { proxyCommand } from './commands/proxy.js';
import { report } from './commands/report.js';
import { retention } from './commands/retention.js';
import { serveCommand } from './commands/serve.js';

const COMMANDS: readonly Command[] = [
  report,
  insights,
  exportCommand,
  prices,
  budgets,
  serveCommand,
  proxyCommand,
  retention,
];

const HELP = `Usage: tollgate <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(9)} ${c.summary}`).join('\n')}

Run \`tollgate <command> --help\` for a command's options.
`;

/**
 * Runs the CLI and returns the exit code: 0 done, 1 failed, 2 wrong arguments (one line on
 * stderr, as every error is).
 *
 * @example
 * process.exitCode = await main(['report', '--since', '7d'], processIo());
 */
export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await write(name === undefined ? io.stderr : io.stdout, HELP);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    await write(
      io.stderr,
      `tollgate: unknown command ${JSON.stringify(name)} (try tollgate --help)\n`,
    );
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      await write(io.stderr, `tollgate ${name}: ${error.message} (try tollgate ${name} --help)\n`);
      return 2;
    }
    const known =
      error instanceof CommandError ||
      ConfigurationError.isInstance(error) ||
      UnknownModelError.isInstance(error) ||
      CurrencyError.isInstance(error);
    await write(
      io.stderr,
      `tollgate ${name}: ${known ? firstLine(error) : `failed: ${firstLine(error)}`}\n`,
    );
    return 1;
  }
}

/** The real process as an `Io`. */
export function processIo(): Io {
  // `tollgate export … | head`: the reader left, which ends the command, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, now: Date.now };
}
