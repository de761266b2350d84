/**
 * A lock per request in an HTTP handler: `POST /orders/<id>/pay` runs under a lock on that order,
 * answers 409 when another request holds it, and never works past the lock's signal. Written on
 * node:http so it runs without a framework; in Express the handler body is the same inside
 * `app.post('/orders/:id/pay', async (req, res) => { ... })`, in Fastify inside a route handler.
 * Run it: `npm run nodes -- start`, then `npx tsx examples/http-handler.ts` (nodes from
 * QUORUMLOCK_NODES, else 127.0.0.1:7001-7005). It sends two concurrent requests to itself.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { ioredisAdapter, LockAcquireError, Redlock } from 'quorumlock';

const addresses = (
  process.env.QUORUMLOCK_NODES ?? '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005'
).split(',');
const raw = addresses.map((address) => {
  const [host, port] = address.split(':');
  const client = new Redis({ host: host!, port: Number(port), maxRetriesPerRequest: 0 });
  client.on('error', (error) => console.warn(`${address}: ${error.message}`));
  return client;
});
// No retries: a busy order is the client's to retry (409), not the server's to wait for.
const redlock = new Redlock(
  raw.map((client, i) => ioredisAdapter(client, { endpoint: addresses[i]! })),
  { retryCount: 0 },
);

async function pay(orderId: string): Promise<{ status: number; body: string }> {
  try {
    return await redlock.using(`order:${orderId}`, 2_000, async (signal) => {
      // The payment work; check the signal before each step that must not run without the lock.
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (signal.aborted) throw signal.reason;
      return { status: 200, body: `order ${orderId} paid` };
    });
  } catch (error) {
    if (error instanceof LockAcquireError) return { status: 409, body: `order ${orderId} is busy` };
    throw error;
  }
}

const server = createServer((req, res) => {
  const match = /^\/orders\/([\w-]+)\/pay$/.exec(req.url ?? '');
  if (req.method !== 'POST' || !match) {
    res.writeHead(404).end();
    return;
  }
  pay(match[1]!).then(
    ({ status, body }) => res.writeHead(status, { 'content-type': 'text/plain' }).end(body),
    (error: unknown) => res.writeHead(500).end(String(error)),
  );
});

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
try {
  const order = `o-${process.pid}`;
  const replies = await Promise.all(
    [1, 2].map(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/orders/${order}/pay`, { method: 'POST' });
      return `${response.status} ${await response.text()}`;
    }),
  );
  for (const reply of replies) console.log(reply);
} finally {
  server.close();
  await redlock.idle();
  for (const client of raw) client.disconnect();
}
