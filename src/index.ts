export { type IoredisAdapterOptions, ioredisAdapter } from './adapters/ioredis.js';
export { MemoryNode, memoryAdapter } from './adapters/memory.js';
export { type NodeRedisAdapterOptions, nodeRedisAdapter } from './adapters/node-redis.js';
export {
  type Command,
  type EvalCommand,
  type InfoCommand,
  isNoScriptError,
  type RedisClient,
  type Reply,
  type Script,
} from './client.js';
export {
  type Clock,
  cryptoRandom,
  type Random,
  type Runtime,
  type TimerHandle,
  type Timers,
} from './clock.js';
export { channels, type LockTraceContext } from './diagnostics.js';
export {
  type AcquireFailure,
  type AttemptReport,
  formatNodes,
  InvalidArgumentError,
  LockAcquireError,
  LockLostError,
  type LostReason,
  type NodeOutcome,
  type NodeReport,
  QuorumlockError,
} from './errors.js';
export { type KeepOptions, LeaseKeeper } from './keeper.js';
export { LeaderElection, type LeaderOptions } from './leader.js';
export { Lock } from './lock.js';
export { type AcquireOptions, DEFAULTS, type OperationOptions, type RedlockOptions } from './options.js';
export type { NodeInfo } from './quorum.js';
export {
  type FencingInitResult,
  holderHash,
  type InspectResult,
  Redlock,
  type ReleaseResult,
  type RenewResult,
  type UsingOptions,
} from './redlock.js';
export {
  type ExponentialRetryOptions,
  exponentialRetry,
  jitteredRetry,
  type RetryContext,
  type RetryStrategy,
} from './retry.js';
export {
  acquireScript,
  claimScript,
  extendScript,
  initFenceScript,
  inspectScript,
  releaseScript,
  repairScript,
} from './scripts/index.js';
export { deadlineMs, driftMs, nodeTimeoutMs, quorumOf } from './validity.js';
