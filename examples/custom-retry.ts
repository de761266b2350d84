/**
 * Retries your way: an exponential back-off with a cap and an overall deadline, and a strategy of
 * your own that reads the last attempt's per-node report. Two contenders want one resource; the
 * second waits for the first. Run it: `npm run nodes -- start`, then
 * `npx tsx examples/custom-retry.ts` (nodes from QUORUMLOCK_NODES, else 127.0.0.1:7001-7005).
 */
import { Redis } from 'ioredis';
import { exponentialRetry, ioredisAdapter, Redlock, type RetryStrategy } from 'quorumlock';

const addresses = (
  process.env.QUORUMLOCK_NODES ?? '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005'
).split(',');
const raw = addresses.map((address) => {
  const [host, port] = address.split(':');
  const client = new Redis({ host: host!, port: Number(port), maxRetriesPerRequest: 0 });
  client.on('error', (error) => console.warn(`${address}: ${error.message}`));
  return client;
});
const redlock = new Redlock(
  raw.map((client, i) => ioredisAdapter(client, { endpoint: addresses[i]! })),
  { retryCount: 20 },
);

// Give up early when most nodes are unreachable (retrying will not help); otherwise back off.
const backOff = exponentialRetry({ baseMs: 25, maxMs: 400 });
const patient: RetryStrategy = (attempt, context) => {
  const unreachable = context.lastAttempt.nodes.filter((n) => n.outcome === 'error').length;
  if (unreachable > context.lastAttempt.nodes.length / 2) return null;
  return backOff(attempt, context);
};

const resource = `example:retry:${process.pid}`;
try {
  const first = await redlock.acquire(resource, 1_000);
  console.log('first holds the lock');
  setTimeout(() => void first.release().then(() => console.log('first released')), 300);
  const second = await redlock.acquire(resource, 1_000, { retryStrategy: patient, timeoutMs: 5_000 });
  console.log(`second got it after ${second.attempts} attempts`);
  await second.release();
} finally {
  await redlock.idle();
  for (const client of raw) client.disconnect();
}
