/**
 * Checkers over histories of lock holders (the invariants of docs/spec.md). Times are on one monotonic clock
 * shared by every client of the history (one process, or one simulation).
 */

/** S1: a successful acquisition by `holder` (its lock value) was safe to act under from start to end. */
export interface LeaseWindow {
  readonly holder: string;
  readonly resource: string;
  /** When the acquisition returned to the caller. */
  readonly start: number;
  /** min(local deadline, when release was invoked). */
  readonly end: number;
}

export interface Overlap {
  readonly first: LeaseWindow;
  readonly second: LeaseWindow;
}

/**
 * Every pair of windows on one resource that overlap (sharing an endpoint is not an overlap),
 * by a sweep over windows sorted by start: O(n log n) plus the violations found.
 */
export function findOverlaps(windows: readonly LeaseWindow[]): Overlap[] {
  const byResource = new Map<string, LeaseWindow[]>();
  for (const w of windows) {
    if (!(w.end >= w.start))
      throw new Error(`window of ${w.holder} ends before it starts: ${w.start} > ${w.end}`);
    const list = byResource.get(w.resource) ?? [];
    list.push(w);
    byResource.set(w.resource, list);
  }
  const overlaps: Overlap[] = [];
  for (const list of byResource.values()) {
    list.sort((a, b) => a.start - b.start || a.end - b.end);
    const open: LeaseWindow[] = [];
    for (const w of list) {
      // Drop windows that ended at or before this one starts; the rest overlap it.
      for (let i = open.length - 1; i >= 0; i--) if (open[i]!.end <= w.start) open.splice(i, 1);
      for (const o of open)
        if (o.holder !== w.holder && w.end > w.start) overlaps.push({ first: o, second: w });
      if (w.end > w.start) open.push(w);
    }
  }
  return overlaps;
}

/** A readable account of overlaps, for a failing assertion. */
export function describeOverlaps(overlaps: readonly Overlap[]): string {
  return overlaps
    .map(
      ({ first, second }) =>
        `${first.resource}: ${first.holder.slice(0, 8)} [${first.start.toFixed(1)}, ${first.end.toFixed(1)}] overlaps ` +
        `${second.holder.slice(0, 8)} [${second.start.toFixed(1)}, ${second.end.toFixed(1)}]`,
    )
    .join('\n');
}

/**
 * A resource guarded by the lock, as an application sees it (Jepsen's set workload): each holder
 * reads the value, works for a while, and writes it back plus one. Two holders at once lose an
 * update, including holders that run past their deadline, which lease windows cannot see.
 */
export class GuardedCounter {
  #value = 0;
  #increments = 0;

  /**
   * Read, wait `work`, write back + 1. A holder that finds it no longer may write (its work
   * resolves `false`) abandons the update, which then does not count. Resolves whether it wrote.
   */
  async increment(work: () => Promise<unknown>): Promise<boolean> {
    const read = this.#value;
    if ((await work()) === false) return false;
    this.#increments++;
    this.#value = read + 1;
    return true;
  }

  /** Updates written. */
  get increments(): number {
    return this.#increments;
  }

  get value(): number {
    return this.#value;
  }

  /** Updates lost to concurrent holders: 0 when every increment ran alone. */
  get lostUpdates(): number {
    return this.#increments - this.#value;
  }
}
