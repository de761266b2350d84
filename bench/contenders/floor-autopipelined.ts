/**
 * The raw floor (floor.ts) on clients with ioredis `enableAutoPipelining: true`: commands issued
 * in the same event-loop tick for one node go out in one write. Shows what batching alone gives.
 */
import type { ContenderSpec } from '../contender.js';
import { makeFloor } from './floor.js';

export const floorAutoPipelined: ContenderSpec = {
  id: 'floor-ap',
  label: 'raw floor + auto-pipelining',
  kind: 'floor',
  notes: 'The raw floor on clients created with enableAutoPipelining: true.',
  create: makeFloor(true),
};
