/**
 * `quorumlock/testing`: an in-memory Redis node that runs quorumlock's scripts in TypeScript, for
 * testing code that takes locks without starting redis-server. It is a test double: it passes the
 * same adapter contract as the real clients (test/contracts/), but it is not a Redis server and
 * has no persistence, eviction or network of its own.
 */
export { type MemoryAdapterOptions, MemoryNode, memoryAdapter } from './memory.js';
