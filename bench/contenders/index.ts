/** Every contender, in the order tables and charts list them. */
import type { ContenderSpec } from '../contender.js';
import { floor, floorGlide, floorIoredis5, floorNodeRedis } from './floor.js';
import { floorAutoPipelined } from './floor-autopipelined.js';
import { nodeRedlock } from './node-redlock.js';
import { quorumlock, quorumlockGlide, quorumlockIoredis5, quorumlockNodeRedis } from './quorumlock.js';
import { redisSemaphore } from './redis-semaphore.js';
import { redlockUniversal } from './redlock-universal.js';
import { sesamecareRedlock } from './sesamecare-redlock.js';

export const CONTENDERS: readonly ContenderSpec[] = [
  quorumlock,
  nodeRedlock,
  sesamecareRedlock,
  redlockUniversal,
  redisSemaphore,
  floor,
  floorAutoPipelined,
  quorumlockNodeRedis,
  floorNodeRedis,
  quorumlockIoredis5,
  floorIoredis5,
  quorumlockGlide,
  floorGlide,
];

/** The id of the library under test and of the floor the ratios are taken against. */
export const LIBRARY_ID = quorumlock.id;
export const FLOOR_ID = floor.id;
