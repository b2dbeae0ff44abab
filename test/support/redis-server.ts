/**
 * A real redis-server for tests and benchmarks: spawned on a free loopback port with its own
 * temporary data directory, no persistence unless asked, stopped afterwards. No mock ever
 * stands in for Redis in the Redis driver's tests. Free of vitest, so benchmarks use it too.
 *
 * @example
 * const server = await startRedisServer();
 * const store = await createRedisStore({ url: server.url });
 * // … later
 * await server.dispose();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's redis-server package installs the server (`REDIS_SERVER` overrides). */
export const REDIS_SERVER_BIN = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

export const hasRedisServer = existsSync(REDIS_SERVER_BIN);

/** Prints, once, why the Redis tests are skipped. */
export function warnNoRedisServer(): void {
  if (hasRedisServer || warned) return;
  warned = true;
  console.warn(
    `[tollgate tests] ${REDIS_SERVER_BIN} is absent: the Redis driver's tests are skipped ` +
      '(apt-get install redis-server, or set REDIS_SERVER).',
  );
}
let warned = false;

export interface RedisServerOptions {
  /** Turn on the append-only file (default off: tests need no durability). */
  appendOnly?: boolean;
  /** Extra `--flag value` arguments for redis-server. */
  args?: string[];
}

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** SHUTDOWN NOSAVE, then waits for the process to exit; the data directory stays for
   * `restart()`. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops the server and removes its data directory. */
  dispose(): Promise<void>;
  /** SIGKILL: the server dies as in a crash. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (after `stop` or `kill`), empty unless AOF is on. */
  restart(): Promise<void>;
  /** SIGSTOP: the server hangs, connections stay open and nothing answers. */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
}

// Servers still running when this process exits (a test runner torn down before its afterAll)
// are killed with it, so no redis-server outlives the tests.
const running = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Starts redis-server on a free loopback port and resolves once it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (!hasRedisServer) throw new Error(`${REDIS_SERVER_BIN} is not installed`);
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-redis-'));
  dirs.add(dir);
  let port = 0;
  let child: ChildProcess | undefined;

  const launch = async () => {
    mkdirSync(dir, { recursive: true }); // dispose() may have removed it
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      options.appendOnly ? 'yes' : 'no',
      '--daemonize',
      'no',
      '--logfile',
      '',
      '--loglevel',
      'warning',
      ...(options.args ?? []),
    ];
    const spawned = spawn(REDIS_SERVER_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = spawned;
    running.add(spawned);
    spawned.once('exit', () => running.delete(spawned));
    let stderr = '';
    spawned.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<never>((_, reject) =>
      spawned.once('exit', (code) =>
        reject(new Error(`redis-server exited with ${code} on port ${port}: ${stderr.trim()}`)),
      ),
    );
    exited.catch(() => {});
    await Promise.race([waitForPing(port, 10_000), exited]);
  };

  // A port found free can be taken before redis-server binds it: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      await exit(child, 'SIGKILL');
      if (attempt >= 4) throw error;
    }
  }

  const stop = async () => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    running.kill('SIGCONT'); // a paused server could not shut down
    await sendCommand(port, 'SHUTDOWN NOSAVE').catch(() => {});
    await exit(running, 'SIGTERM');
  };

  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
    kill: () => exit(child, 'SIGKILL'),
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    restart: async () => {
      await stop();
      await launch();
    },
  };
  return server;
}

/** Waits for the process to exit, signalling it if it does not within a second. */
async function exit(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (signal === 'SIGKILL') child.kill('SIGKILL');
  const timer = setTimeout(() => child.kill(signal === 'SIGKILL' ? 'SIGKILL' : 'SIGTERM'), 1_000);
  await exited;
  clearTimeout(timer);
}

/** A loopback port nothing listens on now (a server may still take it before the caller). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Sends one inline command and resolves with the first reply line. */
function sendCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(1_000, () => socket.destroy(new Error('timeout')));
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.end();
        resolve(reply.split('\r\n')[0] ?? '');
      }
    });
    socket.once('error', reject);
    // SHUTDOWN closes the connection without a reply.
    socket.once('close', () => resolve(reply));
  });
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await sendCommand(port, 'PING').catch(() => '');
    if (reply === '+PONG') return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface RedisCluster {
  /** Every node, masters first, each a `RedisServer` (stop one to take its slots down). */
  readonly nodes: readonly RedisServer[];
  /** The nodes started as masters, in slot order. */
  readonly masters: readonly RedisServer[];
  /** `replicas[i]` replicates `masters[i]` (empty without `replicas`). */
  readonly replicas: readonly RedisServer[];
  /** `redis://127.0.0.1:<port>` of every node. */
  readonly urls: readonly string[];
  /** Stops every node and removes their data directories. */
  dispose(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Masters, each serving an equal share of the 16,384 slots (default 3). */
  masters?: number;
  /** Give each master one replica (default false), so a master's failure fails over. */
  replicas?: boolean;
  /** `cluster-node-timeout`: how long a node may be silent before it counts as failed (default 2,000 ms). */
  nodeTimeoutMs?: number;
}

/**
 * Starts a real Redis Cluster of `masters` nodes (default 3), each with a replica when asked,
 * on free loopback ports, splits the 16,384 slots between the masters and resolves once every
 * node reports `cluster_state:ok` and every replica is in sync. Set up with CLUSTER
 * ADDSLOTSRANGE, MEET and REPLICATE (Redis ≥ 7.0), so it needs no redis-cli.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masterCount = options.masters ?? 3;
  const total = options.replicas ? masterCount * 2 : masterCount;
  const { Redis } = await import('ioredis');
  const nodes: RedisServer[] = [];
  const busPorts: number[] = [];
  const dispose = async () => {
    await Promise.all(nodes.map((node) => node.dispose()));
  };
  const admins: InstanceType<typeof Redis>[] = [];
  const waitFor = async (what: string, ready: () => Promise<boolean>) => {
    const deadline = Date.now() + 30_000;
    while (!(await ready())) {
      if (Date.now() > deadline) throw new Error(`the cluster did not form: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  try {
    for (let i = 0; i < total; i++) {
      const busPort = await freePort();
      busPorts.push(busPort);
      nodes.push(
        await startRedisServer({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            String(options.nodeTimeoutMs ?? 2_000),
            '--cluster-port',
            String(busPort),
          ],
        }),
      );
    }
    for (const node of nodes)
      admins.push(new Redis(node.port, '127.0.0.1', { lazyConnect: false }));
    const slots = 16_384;
    await Promise.all(
      admins
        .slice(0, masterCount)
        .map((admin, i) =>
          admin.call(
            'CLUSTER',
            'ADDSLOTSRANGE',
            Math.floor((i * slots) / masterCount),
            Math.floor(((i + 1) * slots) / masterCount) - 1,
          ),
        ),
    );
    for (let i = 1; i < total; i++) {
      await admins[0]?.call('CLUSTER', 'MEET', '127.0.0.1', nodes[i]?.port ?? 0, busPorts[i] ?? 0);
    }
    const info = async (admin: InstanceType<typeof Redis>) =>
      String(await admin.call('CLUSTER', 'INFO'));
    for (const admin of admins) {
      await waitFor('every node knows every other', async () =>
        (await info(admin)).includes(`cluster_known_nodes:${total}`),
      );
    }
    for (let i = masterCount; i < total; i++) {
      const masterId = String(await admins[i - masterCount]?.call('CLUSTER', 'MYID'));
      await admins[i]?.call('CLUSTER', 'REPLICATE', masterId);
    }
    for (const admin of admins) {
      await waitFor('cluster_state:ok on every node', async () =>
        (await info(admin)).includes('cluster_state:ok'),
      );
    }
    for (const replica of admins.slice(masterCount)) {
      await waitFor('every replica in sync', async () =>
        (await replica.info('replication')).includes('master_link_status:up'),
      );
    }
  } catch (error) {
    await dispose();
    throw error;
  } finally {
    for (const admin of admins) admin.disconnect();
  }
  return {
    nodes,
    masters: nodes.slice(0, masterCount),
    replicas: nodes.slice(masterCount),
    urls: nodes.map((node) => node.url),
    dispose,
  };
}
