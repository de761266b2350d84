export {
  type Command,
  type EvalCommand,
  type InfoCommand,
  isNoScriptError,
  type RedisClient,
  type Reply,
  type Script,
} from './adapter.js';
export { type GlideAdapterOptions, type GlideLike, glideAdapter } from './adapters/glide.js';
export { type IoredisAdapterOptions, type IoredisLike, ioredisAdapter } from './adapters/ioredis.js';
export {
  type IoredisClusterAdapterOptions,
  type IoredisClusterLike,
  ioredisClusterAdapter,
} from './adapters/ioredis-cluster.js';
export {
  type NodeRedisAdapterOptions,
  type NodeRedisLike,
  type NodeRedisSentinelLike,
  nodeRedisAdapter,
} from './adapters/node-redis.js';
export {
  type NodeRedisClusterAdapterOptions,
  type NodeRedisClusterLike,
  nodeRedisClusterAdapter,
} from './adapters/node-redis-cluster.js';
export {
  type Clock,
  cryptoRandom,
  type Random,
  type Runtime,
  type TimerHandle,
  type Timers,
} from './clock.js';
export {
  channels,
  type LockLostMessage,
  type LockTraceContext,
  type LockTracingChannel,
  lostChannel,
} from './diagnostics.js';
export {
  type AcquireFailure,
  type AttemptReport,
  ElectionStoppedError,
  formatNodes,
  InvalidArgumentError,
  LockAcquireError,
  LockLostError,
  type LostReason,
  type NodeOutcome,
  type NodeReport,
  QuorumlockError,
} from './errors.js';
export type { FencingInitResult } from './fencing.js';
export type { NodeInfo } from './guards.js';
export { holderHash, type InspectResult } from './inspect.js';
export { type KeepOptions, LeaseKeeper } from './keeper.js';
export { keyOf, MAX_KEY_BYTES } from './keys.js';
export { LeaderElection, type LeaderOptions } from './leader.js';
export { Lock } from './lock.js';
export {
  type AcquireOptions,
  DEFAULTS,
  type OperationOptions,
  type RedlockOptions,
  type ResolvedOptions,
} from './options.js';
export { Redlock, type UsingOptions } from './redlock.js';
export type { ReleaseResult } from './release.js';
export type { RenewResult } from './renew.js';
export {
  type ExponentialRetryOptions,
  exponentialRetry,
  jitteredRetry,
  type RetryContext,
  type RetryStrategy,
} from './retry.js';
export {
  ReadWriteLock,
  type ReadWriteOptions,
  type ReadWriteUsingOptions,
} from './rwlock.js';
export {
  MAX_PERMITS,
  type PermitOptions,
  type PermitUsingOptions,
  Semaphore,
  type SemaphoreOptions,
} from './semaphore.js';
export { MIN_VALIDITY_MS, minTtlMs } from './validity.js';
