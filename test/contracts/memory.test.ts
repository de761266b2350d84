import { MemoryNode, memoryAdapter } from '../../src/testing/memory.js';
import { adapterContract } from './contract.js';

adapterContract('memory', async () => {
  const node = new MemoryNode();
  return {
    client: memoryAdapter(node),
    node: {
      set: async (key, value, pxMs) => node.set(key, value, pxMs),
      get: async (key) => node.get(key),
      pttl: async (key) => node.pttl(key),
      makeList: async (key) => node.rpush(key, 'x'),
      flushScripts: async () => node.flushScripts(),
      del: async (...keys) => {
        for (const key of keys) node.del(key);
      },
    },
    async dispose() {},
  };
});
