export { type AcquireReply, acquireScript, parseAcquireReply } from './acquire.js';
export { BATCHABLE, batchScript } from './batch.js';
export { defineScript, type Script } from './define.js';
export { extendScript, parseExtendReply, parseRepairReply, repairScript } from './extend.js';
export {
  type ClaimReply,
  claimScript,
  initFenceScript,
  parseClaimReply,
  parseInitFenceReply,
} from './fencing.js';
export { inspectScript, parseInspectReply } from './inspect.js';
export { parseReleaseReply, releaseScript } from './release.js';
export { rwReadScript, rwWriteReleaseScript, rwWriteScript } from './rwlock.js';
export {
  parseGrantReply,
  parseSemExtendReply,
  parseSemReleaseReply,
  semAcquireScript,
  semExtendScript,
  semReleaseScript,
} from './semaphore.js';
