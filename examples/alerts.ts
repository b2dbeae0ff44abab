/**
 * Budget alerts by signed webhook. Starts its own webhook receiver on loopback, attaches a
 * dispatcher to a tracker with a $0.10 budget, records calls past 90% and 100%, and prints what
 * the receiver got. Run: npx tsx examples/alerts.ts
 *
 * The receiver answers 503 to the first delivery, to show a retry with the same idempotency key.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenTracker } from 'tollgate';
import { createAlertDispatcher, verifySignature, webhookChannel } from 'tollgate/alerts';

const secret = 'example-secret';
const seen = new Set<string>();
let requests = 0;

// A receiver as you would write one: check the signature on the raw body, drop repeats by key.
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    requests += 1;
    const raw = Buffer.concat(chunks);
    const key = String(req.headers['idempotency-key']);
    const attempt = req.headers['x-tollgate-attempt'];
    if (!verifySignature(raw, req.headers['x-tollgate-signature'], secret)) {
      console.log('receiver: bad signature, refused');
      res.writeHead(401).end();
      return;
    }
    if (requests === 1) {
      console.log(
        `receiver: attempt ${attempt} of ${key.slice(0, 8)}… → 503 (pretending to be busy)`,
      );
      res.writeHead(503).end();
      return;
    }
    if (seen.has(key)) {
      console.log(`receiver: repeat of ${key.slice(0, 8)}… dropped`);
    } else {
      seen.add(key);
      const alert = JSON.parse(raw.toString('utf8')) as { text: string };
      console.log(`receiver: attempt ${attempt} of ${key.slice(0, 8)}… → "${alert.text}"`);
    }
    res.writeHead(200).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const { port } = receiver.address() as AddressInfo;

const alerts = createAlertDispatcher({
  channels: [
    webhookChannel({
      url: `http://127.0.0.1:${port}/tollgate`,
      secret,
      backoff: { initialMs: 100, jitter: false },
    }),
  ],
  onError: (error) => console.error('alert not delivered:', error),
});

const tracker = new TokenTracker({ budgetLimitUsd: 0.1, sessionId: 'demo' });
alerts.attach(tracker);

// 100,000 prompt tokens on gemini-2.5-flash: $0.03 a call. 90% at call 3, 100% at call 4.
for (let call = 1; call <= 5; call++) {
  tracker.record({
    agent: 'researcher',
    model: 'gemini-2.5-flash',
    usage: { promptTokenCount: 100_000, candidatesTokenCount: 0, totalTokenCount: 100_000 },
  });
  console.log(`call ${call}: spent $${tracker.spentUsd.toFixed(2)} of $0.10`);
}

await alerts.close(); // waits for deliveries and retries
receiver.close();
console.log(`\n${seen.size} alerts arrived in ${requests} requests.`);
