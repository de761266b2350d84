export { type AcquireReply, acquireScript, parseAcquireReply } from './acquire.js';
export { extendScript, parseExtendReply, parseRepairReply, repairScript } from './extend.js';
export { parseReleaseReply, releaseScript } from './release.js';
