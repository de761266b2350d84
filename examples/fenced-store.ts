/**
 * A resource that checks fencing tokens (docs/fencing.md), and the scenario that needs it: a
 * holder pauses past its deadline, another client takes the lock, and the first one wakes up
 * and tries to write. Run it: `npm run nodes -- start`, then `npx tsx examples/fenced-store.ts`
 * (nodes from QUORUMLOCK_NODES, else 127.0.0.1:7001-7005).
 *
 * It imports `quorumlock` as an application would: in this repository, tsconfig.json's `paths`
 * (and vitest.config.ts's alias) map that name to src/index.ts; copied into an app, it resolves
 * to the installed package.
 */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { ioredisAdapter, Redlock } from 'quorumlock';

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

const DEFAULT_NODES = '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005';

async function main(): Promise<void> {
  const addresses = (process.env.QUORUMLOCK_NODES ?? DEFAULT_NODES).split(',');
  const raw = addresses.map((address) => {
    const [host, port] = address.split(':');
    const client = new Redis({ host: host!, port: Number(port), maxRetriesPerRequest: 0 });
    // Without a listener, ioredis prints "Unhandled error event" on every reconnect.
    client.on('error', (error) => console.warn(`${address}: ${error.message}`));
    return client;
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
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
