/**
 * Checkers for the semaphore and the read-write lock (docs/semaphore.md), in the style of
 * checkers.ts: windows on one monotonic clock, from when an acquisition returned to min(local
 * deadline, release invoked). Sharing an endpoint is not an overlap.
 */
import type { LeaseWindow } from './checkers.js';

/** A holder's window, with the permits it holds (semaphore) or its kind (read-write lock). */
export interface HolderWindow extends LeaseWindow {
  /** Permits held (semaphore). @default 1 */
  readonly weight?: number;
  /** Read-write lock: shared or exclusive. */
  readonly kind?: 'read' | 'write';
}

/** An instant at which the windows open then held more permits than exist. */
export interface Excess {
  readonly resource: string;
  readonly at: number;
  readonly weight: number;
  readonly holders: readonly string[];
}

/**
 * Every instant (a window's start) at which the open windows of one resource hold more than
 * `permits` permits: the semaphore's claim is that there is none. A sweep, ends before starts.
 */
export function findExcess(windows: readonly HolderWindow[], permits: number): Excess[] {
  const out: Excess[] = [];
  for (const [resource, list] of byResource(windows)) {
    const events = list
      .filter((w) => w.end > w.start)
      .flatMap((w) => [
        { at: w.start, open: true, w },
        { at: w.end, open: false, w },
      ])
      .sort((a, b) => a.at - b.at || Number(a.open) - Number(b.open));
    const open = new Set<HolderWindow>();
    for (const e of events) {
      if (!e.open) {
        open.delete(e.w);
        continue;
      }
      open.add(e.w);
      const weight = [...open].reduce((sum, w) => sum + (w.weight ?? 1), 0);
      if (weight > permits) out.push({ resource, at: e.at, weight, holders: [...open].map((w) => w.holder) });
    }
  }
  return out;
}

/** Pairs where a writer's window overlaps another holder's (reader or writer): the claim is none. */
export function findWriterOverlaps(windows: readonly HolderWindow[]): Array<[HolderWindow, HolderWindow]> {
  const out: Array<[HolderWindow, HolderWindow]> = [];
  for (const list of byResource(windows).values()) {
    const writers = list.filter((w) => w.kind === 'write' && w.end > w.start);
    for (const w of writers) {
      for (const o of list) {
        if (o === w || o.holder === w.holder || !(o.end > o.start)) continue;
        if (o.kind === 'write' && o.start < w.start) continue; // each writer pair once
        if (o.start < w.end && w.start < o.end) out.push([w, o]);
      }
    }
  }
  return out;
}

export function describeExcess(excess: readonly Excess[]): string {
  return excess
    .map(
      (e) =>
        `${e.resource} at ${e.at.toFixed(1)}: ${e.weight} permits held by ${e.holders.map((h) => h.slice(0, 8)).join(', ')}`,
    )
    .join('\n');
}

export function describeWriterOverlaps(pairs: ReadonlyArray<[HolderWindow, HolderWindow]>): string {
  return pairs
    .map(
      ([w, o]) =>
        `${w.resource}: writer ${w.holder.slice(0, 8)} [${w.start.toFixed(1)}, ${w.end.toFixed(1)}] overlaps ` +
        `${o.kind ?? 'holder'} ${o.holder.slice(0, 8)} [${o.start.toFixed(1)}, ${o.end.toFixed(1)}]`,
    )
    .join('\n');
}

function byResource(windows: readonly HolderWindow[]): Map<string, HolderWindow[]> {
  const map = new Map<string, HolderWindow[]>();
  for (const w of windows) {
    if (!(w.end >= w.start))
      throw new Error(`window of ${w.holder} ends before it starts: ${w.start} > ${w.end}`);
    const list = map.get(w.resource) ?? [];
    list.push(w);
    map.set(w.resource, list);
  }
  return map;
}

/** A writer's refused attempt: its intent stands on the nodes from `at` until `until`. */
export interface IntentWindow {
  readonly resource: string;
  readonly at: number;
  readonly until: number;
}

/**
 * The starvation policy (docs/semaphore.md): no new reader is granted while a refused writer's
 * intent stands. Readers whose acquisition returned inside an intent window are breaches.
 */
export function findIntentBreaches(
  windows: readonly HolderWindow[],
  intents: readonly IntentWindow[],
): Array<{ reader: HolderWindow; intent: IntentWindow }> {
  const out: Array<{ reader: HolderWindow; intent: IntentWindow }> = [];
  for (const reader of windows) {
    if (reader.kind !== 'read') continue;
    for (const intent of intents) {
      if (intent.resource === reader.resource && reader.start > intent.at && reader.start < intent.until) {
        out.push({ reader, intent });
      }
    }
  }
  return out;
}
