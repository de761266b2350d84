import type { Clock, TimerHandle, Timers } from '../../../src/clock.js';
import type { VirtualTime } from '../virtual-time.js';

interface Handle {
  world: unknown;
}

/**
 * One client process on the shared virtual time. A pause (GC, SIGSTOP, a VM stall) stops the
 * process: its timers and the replies addressed to it are handled only when it resumes, while
 * its monotonic clock keeps running, as a real monotonic clock does. Its own timers are counted,
 * so a test can tell that nothing of the Redlock's is left behind (H).
 */
export class SimProcess implements Timers {
  readonly name: string;
  /** The world's virtual time (true time). */
  readonly time: VirtualTime;
  readonly #live = new Set<Handle>();
  #pausedUntil = Number.NEGATIVE_INFINITY;
  readonly #armed: number[] = [];
  readonly #stalls: number[] = [];

  constructor(name: string, time: VirtualTime) {
    this.name = name;
    this.time = time;
  }

  /** The process's monotonic clock: true time (rate 1). */
  get clock(): Clock {
    return this.time;
  }

  get paused(): boolean {
    return this.time.now() < this.#pausedUntil;
  }

  /** Stop the process for `ms` from now (pauses that overlap extend each other). */
  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.time.now() + ms);
  }

  /**
   * Pause for `ms` at the next `checkpoint()`: the worst moment for a holder, right after it
   * checked its validity and before its write lands (a GC pause after the check: fault matrix row 13).
   */
  pauseAtCheckpoint(ms: number): void {
    this.#armed.push(ms);
  }

  /** Called by the workload right after a validity check passed; starts an armed pause. */
  checkpoint(): number {
    const ms = this.#armed.shift();
    if (ms === undefined) return 0;
    this.pause(ms);
    return ms;
  }

  /**
   * Stall for `ms` at the next `claimPoint()`: a keeper's or a leader's stalled event loop,
   * at a moment it reads its claims (never between a holder's check and its write).
   */
  stallAtClaim(ms: number): void {
    this.#stalls.push(ms);
  }

  /** Called by the workload at a claim point of a keeper or a leader; starts an armed stall. */
  claimPoint(): number {
    const ms = this.#stalls.shift();
    if (ms === undefined) return 0;
    this.pause(ms);
    return ms;
  }

  /** Timers the process set and that have neither fired nor been cleared. */
  get liveTimers(): number {
    return this.#live.size;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const handle: Handle = { world: undefined };
    this.#live.add(handle);
    const fire = () => {
      if (this.paused) {
        handle.world = this.time.setTimeout(fire, this.#pausedUntil - this.time.now());
        return;
      }
      this.#live.delete(handle);
      callback();
    };
    handle.world = this.time.setTimeout(fire, ms);
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    const h = handle as Handle;
    if (!this.#live.delete(h)) return;
    this.time.clearTimeout(h.world);
  }

  /** Run `callback` as this process: now, or when it resumes from a pause. */
  deliver(callback: () => void): void {
    if (!this.paused) {
      callback();
      return;
    }
    this.time.setTimeout(() => this.deliver(callback), this.#pausedUntil - this.time.now());
  }

  /** Sleep on this process's timers (so a pause makes it longer). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }
}
