import {
  type Command,
  type EvalCommand,
  isNoScriptError,
  type RedisClient,
  type Reply,
} from '../../../src/adapter.js';
import type { Random } from '../../../src/clock.js';
import type { VirtualTime } from '../virtual-time.js';
import { describeCommand, describeReply, type History } from './history.js';
import { operationsOf } from './operations.js';
import type { SimProcess } from './process.js';
import type { SimNode } from './sim-node.js';

/** A fault on one client's link to one node, active in [from, until) of true time. */
export type LinkFaultKind =
  /** Requests sent and replies due in the window are lost: the client sees a timeout. */
  | 'partition'
  /** Requests arrive and run; their replies are lost (an ambiguous outcome). */
  | 'drop-replies'
  /** The connection is refused: the call fails at once. */
  | 'refuse'
  /** Every message takes `extraMs` longer. */
  | 'slow';

/**
 * An error on first contact: BUSY (a long script runs) or LOADING (the dataset is being loaded)
 * answer every command of the call with an error reply, without running it; `closed` fails the
 * whole call (the connection closed under it) once the request has travelled.
 */
export type LinkErrorKind = 'busy' | 'loading' | 'closed';

const ERROR_REPLIES: Record<Exclude<LinkErrorKind, 'closed'>, string> = {
  busy: 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
  loading: 'LOADING Redis is loading the dataset in memory',
};

export interface LinkFault {
  readonly kind: LinkFaultKind;
  readonly from: number;
  readonly until: number;
  readonly extraMs?: number;
}

/**
 * How messages travel on a link. Both directions are FIFO per link, as on one TCP connection:
 * a release never overtakes the acquire sent before it on the same link.
 */
export interface Carrier {
  /** Run `arrive` when a request sent now with this one-way delay reaches the node. */
  request(link: SimLink, delayMs: number, arrive: () => void): void;
  /** Run `deliver` when a reply sent now with this one-way delay reaches the client. */
  reply(link: SimLink, delayMs: number, deliver: () => void): void;
}

/** Messages take their delay in virtual time, never overtaking an earlier one on the link. */
export function timedCarrier(time: VirtualTime): Carrier {
  const last = new WeakMap<SimLink, { request: number; reply: number }>();
  const at = (link: SimLink, direction: 'request' | 'reply', delayMs: number) => {
    const state = last.get(link) ?? { request: Number.NEGATIVE_INFINITY, reply: Number.NEGATIVE_INFINITY };
    last.set(link, state);
    state[direction] = Math.max(state[direction], time.now() + delayMs);
    return state[direction] - time.now();
  };
  return {
    request(link, delayMs, arrive) {
      time.setTimeout(arrive, at(link, 'request', delayMs));
    },
    reply(link, delayMs, deliver) {
      time.setTimeout(deliver, at(link, 'reply', delayMs));
    },
  };
}

/** What a link reports about the calls it carries (for checkers and counters). */
export interface LinkObserver {
  sent(link: SimLink, commands: readonly Command[]): void;
  /** The node ran these commands (now; a NOSCRIPT answer is not a run), whatever becomes of the reply. */
  ran?(link: SimLink, commands: readonly Command[]): void;
  /** The client received these replies (not called for a lost reply or a refused call). */
  answered(link: SimLink, commands: readonly Command[], replies: readonly Reply[]): void;
}

export interface SimLinkOptions {
  readonly process: SimProcess;
  readonly node: SimNode;
  readonly time: VirtualTime;
  readonly history: History;
  readonly carrier: Carrier;
  /** Draws this link's message delays. */
  readonly random: Random;
  /** One-way delays are uniform in [0, maxDelayMs]. */
  readonly maxDelayMs: number;
  readonly observer?: LinkObserver;
}

/**
 * One client's connection to one node, as the client's RedisClient adapter: requests and
 * replies take their delay, faults lose or refuse them, the node runs what arrives while it is
 * up (a NOSCRIPT answer makes the client send those commands again as EVAL, a second round
 * trip on the same link, as the real adapters do), and replies reach the
 * client process only when it is not paused.
 */
export class SimLink implements RedisClient {
  readonly endpoint: string;
  readonly process: SimProcess;
  readonly node: SimNode;
  readonly #o: SimLinkOptions;
  readonly #faults: LinkFault[] = [];
  #failFirst: { readonly kind: LinkErrorKind; calls: number } | undefined;
  #renewFault: { readonly loss: 'lost' | 'late'; readonly extraMs: number } | undefined;

  constructor(options: SimLinkOptions) {
    this.#o = options;
    this.process = options.process;
    this.node = options.node;
    this.endpoint = `sim-${options.node.index}`;
  }

  get name(): string {
    return `${this.process.name}→${this.node.name}`;
  }

  addFault(fault: LinkFault): void {
    this.#faults.push(fault);
  }

  /** The next `calls` calls that reach the node get `kind` instead of running (first contact). */
  failFirst(kind: LinkErrorKind, calls: number): void {
    this.#failFirst = { kind, calls };
  }

  /**
   * The reply to the next call carrying an extend (a renew) is lost, or arrives `extraMs` late:
   * the node ran its PEXPIRE either way.
   */
  failNextRenew(loss: 'lost' | 'late', extraMs: number): void {
    this.#renewFault = { loss, extraMs };
  }

  #takeRenewFault(commands: readonly Command[]) {
    const fault = this.#renewFault;
    const renews = commands.some((c) => operationsOf(c).some((op) => op.script === 'quorumlock:extend'));
    if (!fault || !renews) return;
    this.#renewFault = undefined;
    return fault;
  }

  #active(kind: LinkFaultKind): LinkFault | undefined {
    const now = this.#o.time.now();
    return this.#faults.find((f) => f.kind === kind && f.from <= now && now < f.until);
  }

  #delay(): number {
    const { random, maxDelayMs } = this.#o;
    const extra = this.#active('slow')?.extraMs ?? 0;
    return Math.floor(random.float() * (maxDelayMs + 1)) + extra;
  }

  exec(commands: readonly Command[]): Promise<Reply[]> {
    const { history, carrier, node } = this.#o;
    const client = this.process.name;
    const what = () =>
      commands
        .filter((c) => c.type === 'eval')
        .map(describeCommand)
        .join(' + ');
    this.#o.observer?.sent(this, commands);
    if (this.#active('refuse')) {
      history.add(client, () => `→ ${node.name} ${what()}: REFUSED`);
      return Promise.reject(refused(this.endpoint));
    }
    if (this.#active('partition')) {
      history.add(client, () => `→ ${node.name} ${what()}: LOST (partition)`);
      return new Promise<never>(() => {});
    }
    history.add(client, () => `→ ${node.name} ${what()}`);
    const renewFault = this.#takeRenewFault(commands);
    return new Promise<Reply[]>((resolve, reject) => {
      const answer = (outcome: { replies: Reply[] } | { error: Error }) => {
        if (this.#active('partition') || this.#active('drop-replies') || renewFault?.loss === 'lost') {
          history.add(node.name, `reply to ${client} LOST`);
          return;
        }
        const late = renewFault?.loss === 'late' ? renewFault.extraMs : 0;
        if (late > 0) history.add(node.name, `reply to ${client} held back ${late} ms`);
        carrier.reply(this, this.#delay() + late, () =>
          this.process.deliver(() => {
            if ('error' in outcome) {
              history.add(client, `← ${node.name} ${outcome.error.message}`);
              reject(outcome.error);
            } else {
              history.add(client, () => `← ${node.name} ${outcome.replies.map(describeReply).join(' + ')}`);
              this.#o.observer?.answered(this, commands, outcome.replies);
              resolve(outcome.replies);
            }
          }),
        );
      };
      carrier.request(this, this.#delay(), () => {
        if (!node.up) {
          history.add(node.name, `refused ${client}: down`);
          answer({ error: refused(this.endpoint) });
          return;
        }
        const failing = this.#failFirst;
        if (failing && failing.calls > 0) {
          failing.calls--;
          history.add(node.name, `${failing.kind.toUpperCase()} for ${client}: nothing ran`);
          if (failing.kind === 'closed') {
            answer({ error: new Error('Connection is closed.') });
          } else {
            const message = ERROR_REPLIES[failing.kind];
            answer({ replies: commands.map(() => new Error(message)) });
          }
          return;
        }
        // The node runs the call a microtask after it arrives, as the in-memory adapter does.
        void Promise.resolve()
          .then(() => commands.map((command) => node.execute(command) as Reply))
          .then((replies) => this.#ran(commands, replies, answer));
      });
    });
  }

  /** The node ran `commands`: answer, or meet NOSCRIPT as the real adapters do. */
  #ran(
    commands: readonly Command[],
    replies: Reply[],
    answer: (outcome: { replies: Reply[] } | { error: Error }) => void,
  ): void {
    const { history, carrier, node } = this.#o;
    const client = this.process.name;
    const what = () =>
      commands
        .filter((c) => c.type === 'eval')
        .map(describeCommand)
        .join(' + ');
    const clock = node.clock.now();
    history.add(
      node.name,
      () =>
        `ran ${what()} for ${client} → ${replies.map(describeReply).join(' + ')} (clock ${clock.toFixed(1)})`,
    );
    const missing = commands.flatMap((c, i) => (c.type === 'eval' && isNoScriptError(replies[i]) ? [i] : []));
    this.#o.observer?.ran?.(
      this,
      commands.filter((_, i) => !missing.includes(i)),
    );
    if (missing.length === 0) {
      answer({ replies });
      return;
    }
    // NOSCRIPT, as the real adapters meet it: the reply travels back, and the client sends
    // those commands again as EVAL on the same link, behind anything it sent meanwhile.
    carrier.reply(this, this.#delay(), () => {
      if (this.#active('partition') || this.#active('drop-replies')) return;
      history.add(client, () => `← ${node.name} NOSCRIPT: sending ${missing.length} as EVAL`);
      carrier.request(this, this.#delay(), () => {
        if (!node.up) {
          answer({ error: refused(this.endpoint) });
          return;
        }
        for (const i of missing) {
          const command = commands[i] as EvalCommand;
          replies[i] = node.execute({ type: 'eval-source', command }) as Reply;
        }
        this.#o.observer?.ran?.(
          this,
          missing.map((i) => commands[i]!),
        );
        history.add(node.name, () => `ran ${what()} as EVAL for ${client}`);
        answer({ replies });
      });
    });
  }
}

function refused(endpoint: string): Error {
  return Object.assign(new Error(`connect ECONNREFUSED ${endpoint}`), { code: 'ECONNREFUSED' });
}
