/**
 * A real PostgreSQL server for tests and benchmarks: `initdb` into a temporary directory, then
 * `postgres` on a free loopback port with its unix socket in that directory, stopped (and the
 * directory removed) afterwards. Free of vitest, so benchmarks use it too.
 *
 * initdb and postgres refuse to run as root: when this process is root they run as the
 * `postgres` user (Node's spawn `uid`/`gid`), and the data directory is handed to that user.
 *
 * @example
 * const server = await startPostgresServer();
 * const store = await createPostgresStore({ connectionString: server.url });
 * // … later
 * await server.dispose();
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server.js';

/** Where Debian's postgresql package puts the binaries (`POSTGRES_BIN` overrides). */
export const POSTGRES_BIN = process.env.POSTGRES_BIN ?? findBin();

export const hasPostgres = existsSync(join(POSTGRES_BIN, 'initdb'));

function findBin(): string {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return join(root, '15', 'bin');
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  return join(root, versions[0] ?? '15', 'bin');
}

/** Prints, once, why the Postgres tests are skipped. */
export function warnNoPostgres(): void {
  if (hasPostgres || warned) return;
  warned = true;
  console.warn(
    `[tollgate tests] ${POSTGRES_BIN}/initdb is absent: the Postgres driver's tests are skipped ` +
      '(apt-get install postgresql, or set POSTGRES_BIN).',
  );
}
let warned = false;

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  /** The server's pid (the postmaster). */
  pid(): number | undefined;
  /** Fast shutdown (clients disconnected, committed data kept); the data directory stays. */
  stop(): Promise<void>;
  /** Starts the server again on the same port after `stop`, with its data. */
  restart(): Promise<void>;
  /** Stops the server and removes its data directory. Safe to call twice. */
  dispose(): Promise<void>;
}

export interface PostgresServerOptions {
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>;
}

// Servers still running when this process exits are killed with it.
const running = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The uid/gid to run Postgres as: `postgres` when this process is root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

/** Runs initdb, starts postgres on a free loopback port and resolves once it accepts queries. */
export async function startPostgresServer(
  options: PostgresServerOptions = {},
): Promise<PostgresServer> {
  if (!hasPostgres) throw new Error(`${POSTGRES_BIN}/initdb is not installed`);
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-'));
  dirs.add(dir);
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const init = spawnSync(
    join(POSTGRES_BIN, 'initdb'),
    ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
    { ...(user ?? {}), cwd: dir, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.stdout || String(init.error)}`);
  }
  let port = 0;
  let child: ChildProcess | undefined;

  const launch = async () => {
    const settings: Record<string, string | number> = {
      listen_addresses: '127.0.0.1',
      port,
      unix_socket_directories: dir,
      // A test server needs no crash safety of the whole machine; a committed transaction
      // still survives a stop or a killed backend (synchronous_commit stays on).
      fsync: 'off',
      full_page_writes: 'off',
      max_connections: 200,
      shared_buffers: '128MB',
      ...options.settings,
    };
    const args = ['-D', data];
    for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
    const spawned = spawn(join(POSTGRES_BIN, 'postgres'), args, {
      ...(user ?? {}),
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = spawned;
    running.add(spawned);
    spawned.once('exit', () => running.delete(spawned));
    let stderr = '';
    spawned.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<never>((_, reject) =>
      spawned.once('exit', (code) =>
        reject(new Error(`postgres exited with ${code} on port ${port}: ${stderr.trim()}`)),
      ),
    );
    exited.catch(() => {});
    await Promise.race([waitForReady(port, 30_000), exited]);
  };

  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      await exit(child, 'SIGQUIT');
      if (attempt >= 4) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  // SIGINT is Postgres's fast shutdown: sessions are ended, committed data stays.
  const stop = () => exit(child, 'SIGINT');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    pid: () => child?.pid,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}

/** Signals the server and waits for it to exit (SIGKILL after 20 s). */
async function exit(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** Polls with a real query (pg), so "ready" means the server accepts sessions. */
async function waitForReady(port: number, timeoutMs: number): Promise<void> {
  const { default: pg } = await import('pg');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      database: 'postgres',
    });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
