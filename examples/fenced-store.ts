/**
 * A resource that checks fencing tokens (docs/fencing.md), and the scenario that needs it: a
 * holder pauses past its deadline, another client takes the lock, and the first one wakes up
 * and tries to write. Run it: `npx tsx examples/fenced-store.ts` (starts its own 5 nodes, or
 * uses QUORUMLOCK_NODES).
 */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { ioredisAdapter, Redlock } from '../src/index.js';

/**
 * The storage side: remembers the highest token it has accepted and rejects any write that
 * carries a lower one. The check and the write must be one atomic step of the store (here, one
 * synchronous method; in a database, a conditional UPDATE ... WHERE fence <= $token).
 */
export class FencedStore {
  #highest = 0;
  readonly #data = new Map<string, string>();

  write(key: string, value: string, token: number): boolean {
    if (token < this.#highest) return false;
    this.#highest = token;
    this.#data.set(key, value);
    return true;
  }

  read(key: string): string | undefined {
    return this.#data.get(key);
  }
}

/** The scenario, against a fencing Redlock over real nodes. */
export async function pausedHolderScenario(redlock: Redlock, resource: string) {
  const store = new FencedStore();
  await redlock.initFencing(resource);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const a = await redlock.acquire(resource, 200);
  // A stalls (a GC pause, a slow disk...) past its deadline; its key expires.
  await sleep(300);
  const b = await redlock.acquire(resource, 5_000);
  const bWrote = store.write('balance', 'written by B', b.fencingToken!);
  // A wakes up, unaware, and writes with its old token: the store refuses it.
  const aWrote = store.write('balance', 'written by A', a.fencingToken!);
  await b.release();
  return { tokens: [a.fencingToken!, b.fencingToken!], bWrote, aWrote, final: store.read('balance') };
}

async function main(): Promise<void> {
  const { NodeSet } = await import('../tools/nodes.js');
  const external = NodeSet.fromEnv();
  const set = external ? undefined : await NodeSet.start(5);
  const addresses = external ?? set!.addresses;
  const raw = addresses.map((address) => {
    const [host, port] = address.split(':');
    return new Redis({ host: host!, port: Number(port), maxRetriesPerRequest: 0 });
  });
  try {
    const redlock = new Redlock(
      raw.map((client, i) => ioredisAdapter(client, { endpoint: addresses[i]! })),
      { fencing: true },
    );
    const outcome = await pausedHolderScenario(redlock, `example:fenced:${Date.now()}`);
    console.log(`A got token ${outcome.tokens[0]}, B got token ${outcome.tokens[1]}`);
    console.log(
      `B's write: ${outcome.bWrote ? 'accepted' : 'rejected'}; A's late write: ${outcome.aWrote ? 'accepted' : 'rejected'}`,
    );
    console.log(`The store holds: ${outcome.final}`);
  } finally {
    for (const client of raw) client.disconnect();
    await set?.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
