/**
 * Acquire, work, renew, release: the smallest use of quorumlock, with the settings a quorum needs.
 * Run it: `npm run nodes -- start`, then `npx tsx examples/basic.ts` (nodes from
 * QUORUMLOCK_NODES, else 127.0.0.1:7001-7005). It imports `quorumlock` as an application would
 * (in this repository, tsconfig.json's `paths` map the name to the sources).
 */
import { Redis } from 'ioredis';
import { ioredisAdapter, LockAcquireError, Redlock } from 'quorumlock';

const addresses = (
  process.env.QUORUMLOCK_NODES ?? '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005'
).split(',');

// One client per independent master; never resend a command after a reconnect.
const raw = addresses.map((address) => {
  const [host, port] = address.split(':');
  const client = new Redis({ host: host!, port: Number(port), maxRetriesPerRequest: 0 });
  // Without a listener, ioredis prints "Unhandled error event" on every reconnect of a node that is down.
  client.on('error', (error) => console.warn(`${address}: ${error.message}`));
  return client;
});
const redlock = new Redlock(
  raw.map((client, i) => ioredisAdapter(client, { endpoint: addresses[i]! })),
  { retryCount: 3, retryDelay: 200, retryJitter: 100 },
);

try {
  const lock = await redlock.acquire('example:basic', 5_000);
  try {
    console.log(`held ${lock.resource} for ${lock.remainingMs().toFixed(0)} ms more`);
    const renewed = await lock.renew(); // boolean; redlock.renew(...) gives the per-node RenewResult
    console.log(`renewed: ${renewed}`);
  } finally {
    const released = await lock.release();
    console.log(`released on ${released.releasedCount} of ${released.nodes.length} nodes`);
  }
} catch (error) {
  if (error instanceof LockAcquireError) console.error(error.reason, error.message);
  else throw error;
} finally {
  await redlock.idle();
  for (const client of raw) client.disconnect();
}
