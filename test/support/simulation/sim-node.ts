import type { Clock } from '../../../src/clock.js';
import { BATCHABLE, batchScript } from '../../../src/scripts/batch.js';
import { MemoryNode } from '../../../src/testing/memory.js';
import { type History, shortValue } from './history.js';
import { NodeClock } from './node-clock.js';
import { isLockOperation, lockValueOf, type Operation, operationsOf } from './operations.js';

type Executable = Parameters<MemoryNode['execute']>[0];

/** How long every node has been up when a simulation starts. */
const UP_BEFORE_START_MS = 3_600_000;

/** What happens to a node's data when it crashes. */
export type CrashMode =
  /** AOF with appendfsync always, or a clean shutdown: everything is kept, expiries are absolute. */
  | 'persist'
  /** No persistence: the node comes back empty. */
  | 'wipe'
  /** Restored from an older snapshot (RDB, or a lost AOF tail): newer writes are gone. */
  | 'rollback';

/** A key's state seen by one command: its value and remaining TTL on the node's clock. */
export interface KeyState {
  readonly value: string | null;
  readonly pttl: number;
}

/** S3: a call changed or prolonged a key holding a value none of its operations on that key carried. */
export interface Interference {
  readonly node: number;
  readonly at: number;
  readonly key: string;
  /** What the call carried, as `script v=value` per operation. */
  readonly carried: string;
  readonly before: KeyState;
  readonly after: KeyState;
}

/**
 * Keys a call changed although the value they held before it ran was carried by none of the
 * lock operations on that key: deleted, overwritten, or given a longer TTL (S3). Keys touched
 * by other operations (fencing counters) are not lock keys and are left out. Pure, so the rule
 * itself is unit-tested.
 */
export function interferedKeys(
  ops: readonly Operation[],
  before: ReadonlyMap<string, KeyState>,
  after: ReadonlyMap<string, KeyState>,
): string[] {
  const keys: string[] = [];
  for (const [key, was] of before) {
    if (was.value === null) continue;
    const touching = ops.filter((op) => op.keys.includes(key));
    if (touching.some((op) => !isLockOperation(op))) continue;
    if (touching.some((op) => lockValueOf(op) === was.value)) continue;
    const now = after.get(key);
    if (!now || now.value !== was.value || now.pttl > was.pttl) keys.push(key);
  }
  return keys;
}

/**
 * A MemoryNode in a simulated world: its TTLs run on its own NodeClock; it can crash (keeping,
 * wiping or rolling back its data) and stay down for a while, lose a key to eviction, and it
 * checks every script it runs for interference with another value's keys (S3).
 */
export class SimNode extends MemoryNode {
  readonly index: number;
  readonly clock: NodeClock;
  readonly interference: Interference[] = [];
  readonly #truth: Clock;
  readonly #history: History;
  #downUntil = Number.NEGATIVE_INFINITY;
  #snapshot: Array<{ key: string; value: string; expiresAt: number }> | undefined;
  #startedAt: number;
  #crashes = 0;
  /** Called once (then cleared) when a client reports a lock this node holds (SimWorld.lockTaken). */
  afterLock: (() => void) | undefined;

  constructor(
    index: number,
    truth: Clock,
    history: History,
    clock: { offsetMs?: number; rate?: number } = {},
  ) {
    const nodeClock = new NodeClock(truth, clock);
    // Booted long before the simulation starts, so that an uptime guard only sees real restarts.
    let booting = true;
    super({ clock: { now: () => nodeClock.now() - (booting ? UP_BEFORE_START_MS : 0) } });
    booting = false;
    // Up long enough to have run every script: only a restart (or SCRIPT FLUSH) brings NOSCRIPT.
    for (const script of [...BATCHABLE, batchScript]) this.loadScript(script);
    this.index = index;
    this.clock = nodeClock;
    this.#truth = truth;
    this.#history = history;
    this.#startedAt = nodeClock.now() - UP_BEFORE_START_MS;
  }

  /**
   * Whether a client with `minNodeUptimeMs` ignores this node's votes now: the core's rule on
   * INFO's `uptime_in_seconds` (whole seconds on the node's own clock), mirrored.
   */
  quarantined(minNodeUptimeMs: number): boolean {
    if (minNodeUptimeMs === 0) return false;
    const uptimeSeconds = Math.max(0, Math.floor((this.clock.now() - this.#startedAt) / 1000));
    return uptimeSeconds * 1000 < minNodeUptimeMs;
  }

  get name(): string {
    return `n${this.index}`;
  }

  /** False while crashed and not yet restarted: connections are refused. */
  get up(): boolean {
    // Down until its restart has run, also at the very instant it is due (a tie with a deadline).
    return this.#downUntil === Number.NEGATIVE_INFINITY;
  }

  override execute(command: Executable): unknown {
    const evalCommand =
      command.type === 'eval' ? command : command.type === 'eval-source' ? command.command : undefined;
    if (!evalCommand) return super.execute(command);
    const before = this.#states(evalCommand.keys);
    const reply = super.execute(command);
    const after = this.#states(evalCommand.keys);
    const ops = operationsOf(evalCommand);
    for (const key of interferedKeys(ops, before, after)) {
      this.interference.push({
        node: this.index,
        at: this.#truth.now(),
        key,
        carried: ops.map((op) => `${op.script} v=${shortValue(lockValueOf(op))}`).join(', '),
        before: before.get(key)!,
        after: after.get(key)!,
      });
    }
    return reply;
  }

  /** True when every key holds `value` right now (the model's ground truth). */
  holds(keys: readonly string[], value: string): boolean {
    return keys.every((key) => this.get(key) === value);
  }

  /** Remember the current data, for a later rollback. */
  takeSnapshot(): void {
    const now = this.clock.now();
    this.#snapshot = this.keys().map((key) => {
      const pttl = this.pttl(key);
      return { key, value: this.get(key)!, expiresAt: pttl < 0 ? Number.POSITIVE_INFINITY : now + pttl };
    });
    this.#history.add(this.name, `snapshot of ${this.#snapshot.length} keys`);
  }

  /**
   * Crash now and refuse connections for `downMs` (a later crash while down can only lengthen
   * that); the data is kept, wiped, or rolled back to the last snapshot (empty without one).
   * The restart itself (new run_id, script cache lost) happens in `restartIfDue`.
   */
  crash(mode: CrashMode, downMs: number): void {
    this.#crashes++;
    this.#history.add(
      this.name,
      `CRASH (${mode}), down for ${downMs} ms; keys were ${this.#describeKeys()} (clock ${this.clock.now().toFixed(1)})`,
    );
    if (mode !== 'persist') this.flushAll();
    if (mode === 'rollback') {
      const now = this.clock.now();
      for (const { key, value, expiresAt } of this.#snapshot ?? []) {
        if (expiresAt === Number.POSITIVE_INFINITY) this.set(key, value);
        else if (expiresAt > now) this.set(key, value, expiresAt - now);
      }
    }
    this.#downUntil = Math.max(this.#downUntil, this.#truth.now() + downMs);
  }

  /** Crashes so far (a rollback can bring back a key deleted before it). */
  get crashes(): number {
    return this.#crashes;
  }

  /** Come back up once the down time is over: a new run_id and an empty script cache. */
  restartIfDue(): void {
    if (this.#downUntil === Number.NEGATIVE_INFINITY || this.#truth.now() < this.#downUntil) return;
    this.restart({ persist: true });
    this.#startedAt = this.clock.now();
    this.#downUntil = Number.NEGATIVE_INFINITY;
    this.#history.add(this.name, `RESTARTED with keys ${this.#describeKeys()}`);
  }

  /** Eviction, or a FLUSHALL: the key disappears before its TTL. */
  evict(key: string): void {
    const value = this.get(key);
    this.del(key);
    this.#history.add(this.name, `EVICTED ${key} (was ${shortValue(value)})`);
  }

  #states(keys: readonly string[]): Map<string, KeyState> {
    return new Map(keys.map((key) => [key, { value: safeGet(this, key), pttl: this.pttl(key) }]));
  }

  #describeKeys(): string {
    const keys = this.keys();
    return keys.length === 0
      ? '{}'
      : `{${keys.map((k) => `${k}=${shortValue(safeGet(this, k))}`).join(' ')}}`;
  }
}

function safeGet(node: MemoryNode, key: string): string | null {
  try {
    return node.get(key);
  } catch {
    return null;
  }
}
