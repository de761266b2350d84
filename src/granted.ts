import type { Granted } from './acquire.js';
import type { Runtime } from './clock.js';
import { Lease } from './lease.js';
import { Lock, type LockOwner } from './lock.js';
import { forgetAfterMs } from './validity.js';

/** A won attempt as the Lock users hold: its lease runs to the attempt's deadline (R4, R12). */
export function lockOfGrant(
  runtime: Runtime,
  owner: LockOwner,
  resource: string | readonly string[],
  resources: readonly string[],
  ttl: number,
  granted: Granted,
): Lock {
  const { clock, wallClock } = runtime;
  return new Lock({
    resource,
    resources,
    value: granted.value,
    ttl,
    attempts: granted.attempt,
    report: granted.report,
    fencingToken: granted.fencingToken,
    lease: new Lease(clock, wallClock, granted.deadlineMs, granted.startMs + forgetAfterMs(ttl)),
    owner,
  });
}
