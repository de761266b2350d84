import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, inject } from 'vitest';
import { adminClient } from '../../tools/nodes.js';
import { type ClientKind, type ConnectedClients, connectClients } from './clients.js';

/**
 * Per-file access to the integration project's shared nodes: one connected client and one
 * admin client per node, closed after the file. `key()` makes keys unique to this file and run.
 */
export function useSharedNodes(kind: ClientKind = 'ioredis') {
  const addresses = inject('nodes');
  const prefix = `it:${randomUUID().slice(0, 8)}:`;
  const state = {
    addresses,
    connected: undefined as ConnectedClients | undefined,
    admins: [] as Redis[],
    key: (name: string) => prefix + name,
    get clients() {
      return state.connected!.clients;
    },
    /** The value of `key` on each node (null where absent). */
    values(key: string): Promise<Array<string | null>> {
      return Promise.all(state.admins.map((a) => a.get(key)));
    },
    pttls(key: string): Promise<number[]> {
      return Promise.all(state.admins.map((a) => a.pttl(key)));
    },
  };
  beforeAll(async () => {
    state.connected = await connectClients(addresses, kind);
    state.admins = addresses.map((a) => adminClient(a));
  });
  afterAll(async () => {
    // Remove this file's keys from every node, then close every connection.
    await Promise.all(
      state.admins.map(async (admin) => {
        const keys = await admin.keys(`${prefix}*`);
        if (keys.length > 0) await admin.del(...keys);
      }),
    );
    for (const admin of state.admins) admin.disconnect();
    await state.connected?.close();
  });
  return state;
}
