/**
 * A node-redlock v5 program that changed one import: `redlock` became `quorumlock/compat`.
 * Run it: `npm run nodes -- start`, then `npx tsx examples/node-redlock-compat.ts` (nodes from
 * QUORUMLOCK_NODES, else 127.0.0.1:7001-7005). docs/migrating.md lists what behaves more safely.
 */
import { Redis } from 'ioredis';
import Redlock, { ExecutionError } from 'quorumlock/compat';

const addresses = (
  process.env.QUORUMLOCK_NODES ?? '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005'
).split(',');
const clients = addresses.map((address) => {
  const [host, port] = address.split(':');
  const client = new Redis({ host: host!, port: Number(port), maxRetriesPerRequest: 0 });
  client.on('error', (error) => console.warn(`${address}: ${error.message}`));
  return client;
});

const redlock = new Redlock(clients, { retryCount: 3 });
redlock.on('error', () => {}); // votes against, as node-redlock emits them

try {
  let lock = await redlock.acquire(['example:compat'], 5_000);
  lock = await lock.extend(5_000);
  const again = await redlock.acquire(['example:compat'], 5_000, { retryCount: 0 }).catch((e: unknown) => e);
  console.log(`second acquire: ${again instanceof ExecutionError ? again.message : 'acquired?!'}`);
  await lock.release();
  await redlock.using(['example:compat'], 2_000, async (signal) => {
    if (signal.aborted) throw signal.error;
    console.log('inside using()');
  });
} finally {
  await redlock.quit();
}
