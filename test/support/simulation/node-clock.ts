import type { Clock } from '../../../src/clock.js';

/**
 * A node's own clock, derived from true (virtual) time: an offset, a rate (local ms per true ms)
 * and jumps. Piecewise linear: a rate change or a jump starts a new segment from the current
 * reading, so the past is never rewritten. Redis expires keys on its host's clock, so this is
 * the clock a MemoryNode runs its TTLs on.
 */
export class NodeClock implements Clock {
  readonly #truth: Clock;
  #base: number;
  #baseTrue: number;
  #rate: number;

  constructor(truth: Clock, options: { offsetMs?: number; rate?: number } = {}) {
    this.#truth = truth;
    this.#baseTrue = truth.now();
    this.#base = this.#baseTrue + (options.offsetMs ?? 0);
    this.#rate = options.rate ?? 1;
  }

  now(): number {
    return this.#base + this.#rate * (this.#truth.now() - this.#baseTrue);
  }

  get rate(): number {
    return this.#rate;
  }

  /** From now on, advance `rate` local ms per true ms. */
  setRate(rate: number): void {
    this.#rebase();
    this.#rate = rate;
  }

  /** Step the clock by `deltaMs` (forward when positive), as a manual set or an NTP step does. */
  jump(deltaMs: number): void {
    this.#rebase();
    this.#base += deltaMs;
  }

  #rebase(): void {
    this.#base = this.now();
    this.#baseTrue = this.#truth.now();
  }
}
