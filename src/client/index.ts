/**
 * `quorumlock/client`: the one Redis client a service holds (connection lifecycle, locks on one
 * node, rate limiting, a JSON cache), which is also a node of a Redlock. It imports the core only
 * through its public entry, and the core never imports it: users of the main entry load none of
 * this (docs/adr/011-entry-points.md). See docs/client.md.
 */
export type { GetOrSetOptions, SetOptions } from './cache.js';
export { RedisClient, type RedisClientEvents, type RedisClientOptions } from './client.js';
export { CacheValueError } from './json.js';
export type { ClientLockOptions } from './locks.js';
export type { RateLimitOptions, RateLimitResult } from './rate-limit.js';
