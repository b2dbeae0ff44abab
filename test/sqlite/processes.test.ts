import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/sqlite/index.js';
import { tempDir } from './support.js';

const WORKERS = join(import.meta.dirname, 'workers');

/** Runs a worker script under tsx, as a separate Node process. */
function worker(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(WORKERS, script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function output(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`worker exited ${code}: ${stderr}`)),
    );
  });
}

let folder: ReturnType<typeof tempDir>;
beforeEach(() => {
  folder = tempDir();
});
afterEach(() => folder.remove());

describe('SQLite across processes', () => {
  it('4 processes reserving against one hard limit never overspend', async () => {
    const path = join(folder.dir, 'budgets.db');
    new SqliteStore({ path }).close(); // migrate once before the race
    const [count, amount, limit] = [300, 3, 1_000];
    const startAt = String(Date.now() + 2_500);
    const runs = Array.from({ length: 4 }, (_, i) =>
      output(
        worker('reserve.ts', [
          path,
          `w${i}`,
          String(count),
          String(amount),
          String(limit),
          startAt,
        ]),
      ),
    );
    const oks = (await Promise.all(runs)).map((out) => (JSON.parse(out) as { ok: number }).ok);
    const granted = oks.reduce((a, b) => a + b, 0);
    expect(granted).toBe(Math.floor(limit / amount));
    const store = new SqliteStore({ path });
    const [user, global] = await store.counters(['user:alice:day', 'global:day'], Date.now());
    expect(user?.settledFemto).toBe(BigInt(granted * amount));
    expect(user?.settledFemto).toBeLessThanOrEqual(BigInt(limit));
    expect(user?.reservedFemto).toBe(0n);
    expect(global?.settledFemto).toBe(BigInt(granted * amount));
    await store.close();
  }, 60_000);

  it('a writer killed with SIGKILL loses no acknowledged record and leaves a sound file', async () => {
    const path = join(folder.dir, 'fault.db');
    const child = worker('append.ts', [path]);
    const acknowledged: string[] = [];
    let buffer = '';
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve, reject) => {
      child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
      child.stdout?.on('data', (chunk) => {
        buffer += chunk;
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        acknowledged.push(...lines);
        // Kill at an odd moment after heavy writing has begun, likely inside a transaction.
        if (acknowledged.length >= 40 + Math.floor(Math.random() * 20)) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    expect(await exited).toBe('SIGKILL');

    const store = new SqliteStore({ path });
    expect(store.database.pragma('integrity_check', { simple: true })).toBe('ok');
    const has = store.database.prepare('SELECT COUNT(*) FROM records WHERE call_id = ?').pluck();
    const missing = acknowledged.filter((callId) => has.get(callId) !== 1);
    expect(missing).toEqual([]);
    const rows = store.database.prepare('SELECT COUNT(*) FROM records').pluck().get() as number;
    expect(rows).toBeGreaterThanOrEqual(acknowledged.length * 200);
    expect(rows % 200).toBe(0); // a batch is one transaction: all of it or none
    const [summary] = await store.summarize({ groupBy: 'none', sessionId: 'fault' });
    expect(summary?.costFemto).toBe(BigInt(rows) * 123_456_789_012n);
    await store.close();
  }, 60_000);
});
