/**
 * Leader election: three candidates campaign for one lease; the leader works while `isLeader`
 * holds (it turns false a margin before the lock's deadline, even if timers starve) and steps
 * down; another candidate takes over. Run it: `npm run nodes -- start`, then
 * `npx tsx examples/leader.ts` (nodes from QUORUMLOCK_NODES, else 127.0.0.1:7001-7005).
 */
import { Redis } from 'ioredis';
import { ioredisAdapter, Redlock } from 'quorumlock';

const addresses = (
  process.env.QUORUMLOCK_NODES ?? '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005'
).split(',');
const raw = addresses.map((address) => {
  const [host, port] = address.split(':');
  const client = new Redis({ host: host!, port: Number(port), maxRetriesPerRequest: 0 });
  client.on('error', (error) => console.warn(`${address}: ${error.message}`));
  return client;
});
const adapters = raw.map((client, i) => ioredisAdapter(client, { endpoint: addresses[i]! }));
const resource = `example:leader:${process.pid}`;

// Each candidate would be its own process; here, three Redlocks over the same connections.
const candidates = ['a', 'b', 'c'].map((name) => {
  const election = new Redlock(adapters, { retryDelay: 50, retryJitter: 25 }).campaign(resource, {
    ttl: 1_000,
    onElected: (signal) => {
      console.log(`${name} elected`);
      signal.addEventListener('abort', () => console.log(`${name}'s term ended: ${signal.reason.name}`));
    },
    onDemoted: (error) => console.log(`${name} demoted: ${error.reason}`),
  });
  return { name, election };
});

try {
  for (let term = 0; term < 2; term++) {
    const leader = await Promise.race(
      candidates.map(async (c) => {
        await c.election.elected();
        return c;
      }),
    );
    // Work only while leader: check before each step.
    for (let step = 0; step < 3 && leader.election.isLeader; step++) {
      console.log(`${leader.name} works (term ${leader.election.terms})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await leader.election.stop(); // step down: releases, another candidate takes over
    candidates.splice(candidates.indexOf(leader), 1);
  }
} finally {
  await Promise.all(candidates.map((c) => c.election.stop()));
  for (const client of raw) client.disconnect();
}
