import type { Command, InfoCommand } from '../../src/adapter.js';
import { type RoundNode, type RoundSpec, runRound, type Verdict, type Vetting } from '../../src/quorum.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

/**
 * The harness of the runRound tests (quorum.test.ts, quorum-final.test.ts): nodes whose replies
 * the test hands out one by one on virtual time.
 */
export const COMMAND: Command = { type: 'info', sections: ['command'] };
export const PROBE: InfoCommand = { type: 'info', sections: ['server'] };

export interface Call {
  readonly commands: readonly Command[];
  readonly resolve: (replies: unknown[]) => void;
  readonly reject: (error: unknown) => void;
}

/** 'yes' is a yes vote, 'no' a not-held, 'throw' makes classify throw, anything else is an error. */
export function classify(reply: unknown): Verdict {
  if (reply === 'yes') return { outcome: 'acquired', yes: true };
  if (reply === 'no') return { outcome: 'not-held', yes: false, holder: 'foreign' };
  if (reply === 'counter') return { outcome: 'acquired', yes: true, counter: 7 };
  if (reply === 'throw') throw 'unreadable';
  return { outcome: 'error', yes: false };
}

export const NO_VETTING: Vetting<RoundNode> = {
  probe: () => undefined,
  vet: () => undefined,
  serverOf: () => undefined,
};

export function setup(n: number, spec: Partial<RoundSpec<RoundNode>> = {}) {
  const time = new VirtualTime();
  const calls: Array<Call | undefined> = new Array(n).fill(undefined);
  const tracked: number[] = [];
  const nodes: RoundNode[] = Array.from({ length: n }, (_, i) => ({
    index: i,
    endpoint: `node-${i}`,
    send: (commands) =>
      new Promise<unknown[]>((resolve, reject) => {
        calls[i] = { commands, resolve, reject };
      }),
  }));
  const round = runRound({
    nodes,
    command: COMMAND,
    classify,
    timeoutMs: 100,
    quorum: Math.floor(n / 2) + 1,
    mode: 'vote',
    signal: undefined,
    runtime: virtualRuntime(time),
    vetting: NO_VETTING,
    track: (delta) => tracked.push(delta),
    watcher: undefined,
    ...spec,
  });
  let decided = false;
  void round.then(() => {
    decided = true;
  });
  /** Node i answers `reply` (as the last reply of its call) after `ms` of virtual time. */
  const answer = async (i: number, reply: unknown, ms = 10) => {
    time.jump(ms);
    const call = calls[i]!;
    call.resolve(call.commands.map((_c, k) => (k === call.commands.length - 1 ? reply : `probe-${i}`)));
    await settle();
  };
  const fail = async (i: number, error: unknown, ms = 10) => {
    time.jump(ms);
    calls[i]!.reject(error);
    await settle();
  };
  const settle = () => time.run(Promise.resolve());
  const inFlight = () => tracked.reduce((a, b) => a + b, 0);
  return { time, calls, tracked, round, answer, fail, inFlight, isDecided: () => decided };
}
