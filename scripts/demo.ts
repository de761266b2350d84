/**
 * `npm run demo`: four contenders share one resource on five independent Redis nodes. Each takes
 * the lock, works, renews it once, and releases it; halfway through, one node is killed and the
 * quorum carries on. The timeline shows who held the lock when, and how each node voted.
 *
 * Uses QUORUMLOCK_NODES when set (it then kills nothing); otherwise starts, and afterwards stops,
 * its own five redis-server processes on free loopback ports.
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { type AttemptReport, ioredisAdapter, type NodeReport, Redlock } from '../src/index.js';
import { NodeSet, parseAddress, redisServerPath } from '../tools/nodes.js';

const RESOURCE = 'demo:printer';
const TTL_MS = 1_000;
const ROUNDS_PER_CONTENDER = 3;
const NAMES = ['alice', 'bob', 'carol', 'dave'];

const started = performance.now();
const stamp = () => `+${((performance.now() - started) / 1000).toFixed(3)}s`.padStart(8);
const say = (who: string, what: string) => console.log(`${stamp()}  ${who.padEnd(6)} ${what}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const VOTE: Record<NodeReport['outcome'], string> = {
  acquired: '✔',
  renewed: '✔',
  released: '✔',
  held: '✘',
  'not-held': '·',
  error: '!',
  timeout: '⌛',
  aborted: '-',
  pending: '…',
  duplicate: '=',
  quarantined: '~',
  claimed: '✔',
  'too-low': '✘',
};
const votes = (nodes: readonly NodeReport[]) => nodes.map((n) => VOTE[n.outcome]).join('');

async function main(): Promise<void> {
  let set: NodeSet | undefined;
  let addresses = NodeSet.fromEnv();
  if (!addresses) {
    try {
      redisServerPath();
    } catch (error) {
      console.error(`demo: ${(error as Error).message}`);
      process.exitCode = 1;
      return;
    }
    set = await NodeSet.start(5);
    addresses = set.addresses;
    console.log(`Started 5 independent redis-server processes: ${addresses.join(', ')}`);
  } else {
    console.log(`Using QUORUMLOCK_NODES: ${addresses.join(', ')}`);
  }
  console.log(
    `Legend: per node ✔ yes, ✘ held by another, · not held, ! error, ⌛ timed out, … not needed for the decision\n`,
  );

  const connections: Redis[] = [];
  const connect = (address: string) => {
    const { host, port } = parseAddress(address);
    // Recommended for quorum use: never resend a command after a disconnect.
    const client = new Redis({ host, port, maxRetriesPerRequest: 0, connectTimeout: 1_000 });
    client.on('error', () => {});
    connections.push(client);
    return ioredisAdapter(client, { endpoint: address });
  };

  try {
    let holder: string | undefined;
    const contender = async (name: string, index: number) => {
      const redlock = new Redlock(
        addresses!.map((a) => connect(a)),
        { retryCount: 60, retryDelay: 60, retryJitter: 40, nodeTimeoutMs: 100 },
      );
      await sleep(index * 7);
      for (let round = 0; round < ROUNDS_PER_CONTENDER; round++) {
        const lock = await redlock
          .acquire(RESOURCE, TTL_MS)
          .catch((error: Error & { attempts?: AttemptReport[] }) => {
            say(name, `gave up: ${error.message}`);
            return undefined;
          });
        if (!lock) continue;
        if (holder !== undefined) say(name, `!!! acquired while ${holder} holds it: that would be a bug`);
        holder = name;
        say(
          name,
          `acquired  votes ${votes(lock.report.nodes)}  after ${lock.attempts} attempt(s), valid ${lock.validityMs.toFixed(0)} ms`,
        );
        await sleep(120);
        const renewed = await redlock.renew(RESOURCE, lock.value, TTL_MS);
        say(
          name,
          `renewed   votes ${votes(renewed.nodes)}  ${renewed.renewed ? `valid ${renewed.validityMs.toFixed(0)} ms again` : `lost: ${renewed.reason}`}`,
        );
        await sleep(120);
        holder = undefined;
        say(name, 'releases  the lock (its hold ends here)');
        const released = await lock.release();
        say(
          name,
          `released  votes ${votes(released.nodes)}  (${released.releasedCount} of ${released.nodes.length} nodes deleted the key)`,
        );
        await sleep(30);
      }
      await redlock.idle();
    };

    const crash = async () => {
      if (!set) return;
      await sleep(1_500);
      say('demo', `kill -9 node 4 (${set.addresses[4]}): 4 of 5 nodes left, quorum is still 3`);
      await set.nodes[4]!.kill();
    };

    await Promise.all([...NAMES.map((name, i) => contender(name, i)), crash()]);
    console.log(
      `\nDone: every hold above was exclusive, and each renew and release was decided by the quorum.`,
    );
  } finally {
    for (const client of connections) client.disconnect();
    if (set) {
      await set.dispose();
      console.log('Stopped the redis-server processes this demo started.');
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
