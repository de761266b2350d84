/**
 * node-redis clients and `using()`: the lock renews itself while the work runs, and the signal
 * aborts before the deadline if it is lost. Run it: `npm run nodes -- start`, then
 * `npx tsx examples/node-redis-using.ts` (nodes from QUORUMLOCK_NODES, else 127.0.0.1:7001-7005).
 */
import { nodeRedisAdapter, Redlock } from 'quorumlock';
import { createClient } from 'redis';

const addresses = (
  process.env.QUORUMLOCK_NODES ?? '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005'
).split(',');

const raw = addresses.map((address) => {
  const [host, port] = address.split(':');
  // A disconnected node fails at once instead of queueing; the 'error' listener keeps a node
  // that is down from crashing the process.
  const client = createClient({ socket: { host: host!, port: Number(port) }, disableOfflineQueue: true });
  client.on('error', (error: Error) => console.warn(`${address}: ${error.message}`));
  return client;
});
await Promise.all(raw.map((client) => client.connect()));
const redlock = new Redlock(raw.map((client, i) => nodeRedisAdapter(client, { endpoint: addresses[i]! })));

try {
  const total = await redlock.using('example:report', 1_000, async (signal) => {
    let sum = 0;
    // Work longer than the TTL: the lock is renewed meanwhile. Stop if it is lost.
    for (let step = 0; step < 15 && !signal.aborted; step++) {
      sum += step;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    signal.throwIfAborted();
    return sum;
  });
  console.log(`report computed under the lock: ${total}`);
} finally {
  await redlock.idle();
  await Promise.all(raw.map((client) => client.quit()));
}
