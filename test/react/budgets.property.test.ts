import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BudgetExceededError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import { BudgetManager, type Reservation, windowKey } from '../../src/react/budgets/index.js';
import { NOW } from './support.js';

const RUNS = Number(process.env.TOLLGATE_FC_RUNS ?? 300);
const CENT = 10_000_000_000_000n; // $0.01 in femto-dollars
const HOLD_MS = 1_000;
const USER_LIMIT = 100n * CENT; // $1 per user per day
const GLOBAL_LIMIT = 150n * CENT; // $1.50 for everyone per day
const USERS = ['alice', 'bob', 'carol'];

type Op =
  | { kind: 'reserve'; user: number; cents: number }
  | { kind: 'settle'; pick: number; percent: number }
  | { kind: 'settleAgain'; pick: number }
  | { kind: 'release'; pick: number }
  | { kind: 'advance'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('reserve' as const),
      user: fc.nat(2),
      cents: fc.integer({ min: 0, max: 60 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('settle' as const),
      pick: fc.nat(),
      percent: fc.integer({ min: 0, max: 100 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('settleAgain' as const), pick: fc.nat() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.oneof(fc.integer({ min: 0, max: 1_500 }), fc.constantFrom(HOLD_MS, HOLD_MS - 1, 1)),
    }),
  },
);

interface Held {
  reservation: Reservation;
  user: string;
  amount: bigint;
  state: 'live' | 'settled' | 'released';
}

describe('budgets: property', () => {
  it('settled + reserved never passes a hard limit and always equals the live operations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 80 }), async (ops) => {
        const store = new MemoryStore();
        const manager = new BudgetManager({
          store,
          holdMs: HOLD_MS,
          rules: [
            { id: 'user', scope: { kind: 'user' }, window: 'day', limitUsd: 1, mode: 'hard' },
            { id: 'all', scope: { kind: 'global' }, window: 'day', limitUsd: 1.5, mode: 'hard' },
          ],
        });
        let now = NOW;
        let n = 0;
        const held: Held[] = [];
        const settled = new Map<string, bigint>(USERS.map((u) => [u, 0n]));
        const isLive = (h: Held) => h.state === 'live' && h.reservation.holdUntil > now;
        const used = (user?: string) => {
          let total = 0n;
          for (const [u, amount] of settled) if (user === undefined || u === user) total += amount;
          for (const h of held)
            if (isLive(h) && (user === undefined || h.user === user)) total += h.amount;
          return total;
        };

        for (const step of ops) {
          if (step.kind === 'advance') now += step.ms;
          else if (step.kind === 'reserve') {
            const user = USERS[step.user] as string;
            const amount = BigInt(step.cents) * CENT;
            const fits = used(user) + amount <= USER_LIMIT && used() + amount <= GLOBAL_LIMIT;
            const attempt = manager.reserve({
              callId: `c${n++}`,
              userId: user,
              model: 'm',
              estimateFemto: amount,
              now,
            });
            if (fits) {
              const { reservation } = await attempt;
              held.push({ reservation, user, amount, state: 'live' });
            } else {
              await expect(attempt).rejects.toSatisfy(BudgetExceededError.isInstance);
            }
          } else if (step.kind === 'settle') {
            const live = held.filter(isLive);
            const h = live[step.pick % Math.max(1, live.length)];
            if (!h) continue;
            const actual = (h.amount * BigInt(step.percent)) / 100n;
            await manager.settle(h.reservation, actual, now);
            h.state = 'settled';
            settled.set(h.user, (settled.get(h.user) ?? 0n) + actual);
          } else if (step.kind === 'settleAgain') {
            const done = held.filter((h) => h.state === 'settled');
            const h = done[step.pick % Math.max(1, done.length)];
            if (h) await manager.settle(h.reservation, h.amount, now); // counts once: no change
          } else {
            const h = held[step.pick % Math.max(1, held.length)];
            if (!h) continue;
            await manager.release(h.reservation, now);
            if (h.state === 'live') h.state = 'released';
          }

          const keys = [
            ...USERS.map((u) => windowKey('user', u, 'day', now).key),
            windowKey('global', '', 'day', now).key,
          ];
          const states = await store.counters(keys, now);
          for (const [i, state] of states.entries()) {
            const user = USERS[i];
            const total = state.settledFemto + state.reservedFemto;
            expect(total).toBe(used(user));
            expect(total).toBeLessThanOrEqual(user === undefined ? GLOBAL_LIMIT : USER_LIMIT);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
