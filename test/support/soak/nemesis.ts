/**
 * The soak's nemesis (docs/testing.md): a seeded, shuffled deck of fault kinds, so each kind comes
 * up regularly, injected one episode at a time and undone by the episode itself.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Redlock } from '../../../src/redlock.js';
import type { NodeSet, RedisNode } from '../../../tools/nodes.js';
import { type Commander, flushScripts, jumpBackward, jumpForward } from '../faults.js';
import type { History } from '../history.js';
import {
  type Contender,
  type Dice,
  type FaultEvent,
  type FaultKind,
  SAFE_FAULTS,
  UNSAFE_FAULTS,
} from './model.js';

/** What the nemesis acts on, owned by the soak run. */
export interface NemesisWorld {
  /** The nodes this soak started (process faults need them), or undefined on external nodes. */
  readonly set: NodeSet | undefined;
  readonly addresses: readonly string[];
  readonly nodeCommand: readonly Commander[];
  readonly contenders: readonly Contender[];
  readonly history: History;
  /** The fencing Redlock that initialised the counters (re-initialises them after a wipe). */
  readonly setup: Redlock;
  readonly fencedResources: ReadonlySet<string>;
  readonly prefix: string;
  readonly ttl: number;
  readonly unsafe: boolean;
  readonly dice: Dice;
  /** Contenders (re)connecting right now: no node is killed while one is. */
  readonly connecting: () => number;
  /** Milliseconds since the soak started. */
  readonly since: () => number;
  /** Record a fault injected now. */
  readonly record: (kind: FaultKind, target: string, detail?: string) => FaultEvent;
}

export class Nemesis {
  /** Nodes killed (or restarting) right now: contenders wait for them before connecting. */
  readonly down = new Set<number>();
  /** Nodes restarted without persistence: they go back to AOF when the soak ends. */
  readonly wiped = new Set<number>();
  /** Faults drawn that could not be injected (no free node, no holder). */
  skipped = 0;
  readonly #world: NemesisWorld;
  readonly #kinds: readonly FaultKind[];
  readonly #busy = new Set<number>();
  readonly #episodes = new Set<Promise<void>>();
  #deck: FaultKind[] = [];

  constructor(world: NemesisWorld) {
    this.#world = world;
    const started = world.set !== undefined;
    this.#kinds = [
      ...SAFE_FAULTS.filter((k) => started || (k !== 'kill' && k !== 'pause')),
      ...(world.unsafe ? UNSAFE_FAULTS.filter((k) => started || k !== 'restart-empty') : []),
    ];
  }

  /** Draw and start a fault about every `everyMs` until `endAt`; episodes run on their own. */
  async run(endAt: number, everyMs: number, log: (line: string) => void): Promise<void> {
    while (performance.now() < endAt) {
      await delay(everyMs * this.#world.dice.between(0.5, 1.5));
      if (performance.now() >= endAt) break;
      const kind = this.#nextKind();
      const running = this.#episode(kind).catch((error: unknown) => {
        log(`soak: fault ${kind} failed: ${(error as Error).message}`);
      });
      this.#episodes.add(running);
      void running.finally(() => this.#episodes.delete(running));
    }
  }

  /** Wait until every episode has been undone. */
  async settle(): Promise<void> {
    while (this.#episodes.size > 0) await Promise.all([...this.#episodes]);
  }

  #nextKind(): FaultKind {
    if (this.#deck.length === 0) {
      const deck = [...this.#kinds];
      for (let i = deck.length - 1; i > 0; i--) {
        const j = Math.floor(this.#world.dice.rng() * (i + 1));
        [deck[i], deck[j]] = [deck[j]!, deck[i]!];
      }
      this.#deck = deck;
    }
    return this.#deck.pop()!;
  }

  #freeNode(maxBusy: number): number | undefined {
    if (this.#busy.size >= maxBusy) return undefined;
    const free = this.#world.addresses.map((_, i) => i).filter((i) => !this.#busy.has(i));
    return free.length === 0 ? undefined : this.#world.dice.pick(free);
  }

  async #episode(kind: FaultKind): Promise<void> {
    const w = this.#world;
    const { pick, between } = w.dice;
    const node = (i: number) => w.set!.nodes[i] as RedisNode;
    switch (kind) {
      case 'kill':
      case 'pause':
      case 'restart-empty': {
        const i = kind === 'pause' || w.connecting() === 0 ? this.#freeNode(2) : undefined;
        if (i === undefined) {
          this.skipped++;
          return;
        }
        this.#busy.add(i);
        try {
          const event = w.record(kind, w.addresses[i]!);
          if (kind === 'pause') {
            node(i).pause();
            await delay(between(100, 1_500));
            node(i).resume();
          } else if (kind === 'kill') {
            this.down.add(i);
            try {
              await node(i).kill();
              await delay(between(100, 2_000));
              await node(i).restart({ persistence: 'aof-always' });
            } finally {
              this.down.delete(i);
            }
          } else {
            this.down.add(i);
            try {
              await node(i).kill();
              await node(i).restart({ persistence: 'none', wipe: true });
            } finally {
              this.down.delete(i);
            }
            this.wiped.add(i);
            // The operator's move after a wipe: re-create the absent counter above every token issued.
            const floor = 1_000 + Math.max(0, ...w.history.acquisitions.map((a) => a.token ?? 0));
            for (const r of w.fencedResources) await w.setup.initFencing(r, { floor });
          }
          event.until = w.since();
        } finally {
          this.#busy.delete(i);
        }
        return;
      }
      case 'partition':
      case 'latency':
      case 'cut': {
        const c = pick(w.contenders);
        const net = c.net;
        if (kind === 'cut') {
          const i = Math.floor(w.dice.rng() * w.addresses.length);
          w.record(kind, `${c.name}->${w.addresses[i]}`);
          net.proxies[i]!.cutConnections();
          return;
        }
        if (kind === 'latency') {
          const i = Math.floor(w.dice.rng() * w.addresses.length);
          const latency = { upMs: Math.round(between(0, 60)), downMs: Math.round(between(0, 60)) };
          const event = w.record(
            kind,
            `${c.name}->${w.addresses[i]}`,
            `up ${latency.upMs} down ${latency.downMs}`,
          );
          net.latency(i, latency);
          await delay(between(500, 3_000));
          net.heal([i]);
          event.until = w.since();
          return;
        }
        const cut = w.addresses.map((_, i) => i).filter(() => w.dice.rng() < 0.4);
        const isolated = cut.length > 0 ? cut : [Math.floor(w.dice.rng() * w.addresses.length)];
        const mode = pick(['blackhole', 'refuse', 'drop-replies'] as const);
        const event = w.record(kind, `${c.name}-x-[${isolated.join(',')}]`, mode);
        net.isolate(isolated, mode);
        await delay(between(200, 2_500));
        net.heal(isolated);
        event.until = w.since();
        return;
      }
      case 'script-flush':
      case 'clock-back':
      case 'clock-forward': {
        const i = this.#freeNode(w.addresses.length);
        if (i === undefined) {
          this.skipped++;
          return;
        }
        this.#busy.add(i);
        try {
          if (kind === 'script-flush') {
            w.record(kind, w.addresses[i]!);
            await flushScripts(w.nodeCommand[i]!);
          } else {
            const delta = Math.round(
              kind === 'clock-back' ? between(50, w.ttl) : between(w.ttl / 2, 2 * w.ttl),
            );
            const moved =
              kind === 'clock-back'
                ? await jumpBackward(w.nodeCommand[i]!, { match: `${w.prefix}*` }, delta)
                : await jumpForward(w.nodeCommand[i]!, { match: `${w.prefix}*` }, delta);
            w.record(kind, w.addresses[i]!, `${delta} ms, ${moved} keys`);
          }
        } finally {
          this.#busy.delete(i);
        }
        return;
      }
      case 'holder-crash': {
        const holders = w.contenders.filter((c) => c.holding !== undefined && !c.crashRequested);
        if (holders.length === 0) {
          this.skipped++;
          return;
        }
        pick(holders).crashRequested = true;
        return;
      }
    }
  }
}
