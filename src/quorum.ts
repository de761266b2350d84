import type { Command, InfoCommand } from './adapter.js';
import type { Runtime } from './clock.js';
import type { CallWatcher } from './creates.js';
import { type NodeOutcome, type NodeReport, nodeReportJSON } from './errors.js';

/** One node as a round sees it: a name, and a way to send it a call. */
export interface RoundNode {
  readonly index: number;
  readonly endpoint: string;
  /** Sends to the node (through its pipe, when coalescing). */
  readonly send: (commands: readonly Command[]) => Promise<unknown[]>;
}

/** How one node's reply is read: its outcome, and whether it is a yes vote. */
export interface Verdict {
  readonly outcome: NodeOutcome;
  readonly yes: boolean;
  readonly holder?: 'absent' | 'foreign';
  readonly error?: Error;
  readonly counter?: number | null;
}

/** Who may vote: the INFO probe sent with a node's command, and what its reply means. */
export interface Vetting<N extends RoundNode> {
  /** The INFO to send before the command, or undefined for none. */
  probe(node: N): InfoCommand | undefined;
  /** Read the probe's reply: undefined when the node's answer may count, else the verdict replacing it. */
  vet(node: N, reply: unknown): Verdict | undefined;
  /** The server behind the node, once known: two answers from one server count once (R1). */
  serverOf(node: N): string | undefined;
}

export interface RoundSpec<N extends RoundNode> {
  readonly nodes: readonly N[];
  readonly command: Command;
  /** Reads node `node`'s reply; may throw, which reports the node as an error. */
  readonly classify: (reply: unknown, node: number) => Verdict;
  readonly timeoutMs: number;
  readonly quorum: number;
  /** 'vote': decide as soon as quorum is won or lost. 'all': wait for every node (release). */
  readonly mode: 'vote' | 'all';
  readonly signal: AbortSignal | undefined;
  readonly runtime: Runtime;
  readonly vetting: Vetting<N>;
  /** In-flight accounting, so the owner can tell when every straggler has settled. */
  readonly track: (delta: 1 | -1) => void;
  /** Told of each call sent, and of its answer (the command's outcome), also after a timeout. */
  readonly watcher: CallWatcher | undefined;
}

export interface RoundResult {
  readonly decision: 'won' | 'lost' | 'aborted' | 'done';
  readonly votes: number;
  /** Monotonic time taken just before the first send. */
  readonly startMs: number;
  /** Monotonic time of the decision. */
  readonly decidedMs: number;
  /** Every node's answer at the decision; stragglers show `pending`. */
  readonly nodes: readonly NodeReport[];
  /**
   * A lost vote with stragglers only: every node's final outcome, once the stragglers have
   * answered or timed out (so a caller can tell which of them may hold what it sent).
   */
  readonly final?: Promise<readonly NodeOutcome[]>;
}

/**
 * Send one command to every node in parallel, each call bounded by the per-node timeout, and
 * resolve as soon as the round is decided (R3): in 'vote' mode when yes votes reach quorum or
 * can no longer reach it; in 'all' mode when every node has answered or timed out. A timeout,
 * error or abort is never a vote (R5). Two answers from one server count once.
 */
export function runRound<N extends RoundNode>(spec: RoundSpec<N>): Promise<RoundResult> {
  const { nodes, runtime, quorum, mode, signal, vetting, watcher } = spec;
  const { clock, timers } = runtime;
  const n = nodes.length;
  const reports: NodeReport[] = nodes.map((node) => ({
    node: node.index,
    endpoint: node.endpoint,
    outcome: 'pending' as NodeOutcome,
    latencyMs: null,
  }));
  const settled: boolean[] = new Array(n).fill(false);
  // One timer for the whole round: every call starts together, so they share the deadline.
  let timer: unknown;
  const voters = new Set<string>();
  let pending = n;
  let votes = 0;
  let decided = false;
  /** Set when a lost vote left stragglers: their outcomes complete `outcomes`, then this resolves. */
  let whenFinal: ((outcomes: readonly NodeOutcome[]) => void) | undefined;
  let outcomes: NodeOutcome[] | undefined;

  return new Promise<RoundResult>((resolve) => {
    const startMs = clock.now();

    const decide = (decision: RoundResult['decision']) => {
      decided = true;
      signal?.removeEventListener('abort', onAbort);
      const nodes = reports.slice();
      if (decision !== 'lost' || pending === 0) {
        resolve({ decision, votes, startMs, decidedMs: clock.now(), nodes });
        return;
      }
      outcomes = nodes.map((r) => r.outcome);
      const final = new Promise<readonly NodeOutcome[]>((done) => {
        whenFinal = done;
      });
      resolve({ decision, votes, startMs, decidedMs: clock.now(), nodes, final });
    };

    const check = () => {
      if (decided) return;
      if (mode === 'vote') {
        if (votes >= quorum) decide('won');
        else if (votes + pending < quorum) decide('lost');
      } else if (pending === 0) {
        decide('done');
      }
    };

    const settle = (i: number, verdict: Verdict, latencyMs: number | null, server?: string) => {
      if (settled[i]) return;
      settled[i] = true;
      pending--;
      if (pending === 0) timers.clearTimeout(timer);
      spec.track(-1);
      if (decided) {
        if (outcomes !== undefined) {
          outcomes[i] = verdict.outcome;
          if (pending === 0) whenFinal!(outcomes);
        }
        return;
      }
      let { outcome, yes, error } = verdict;
      if (server !== undefined) {
        if (voters.has(server)) {
          const first = nodes.find((s) => vetting.serverOf(s) === server && s.index !== nodes[i]!.index);
          outcome = 'duplicate';
          yes = false;
          error = new Error(
            `same server (run_id ${server}) as node ${first?.index ?? '?'}: its second vote is ignored`,
          );
        } else {
          voters.add(server);
        }
      }
      if (yes) votes++;
      const report: { -readonly [K in keyof NodeReport]: NodeReport[K] } = {
        node: nodes[i]!.index,
        endpoint: nodes[i]!.endpoint,
        outcome,
        latencyMs,
      };
      if (verdict.holder !== undefined) report.holder = verdict.holder;
      if (verdict.counter !== undefined) report.counter = verdict.counter;
      if (error !== undefined) {
        report.error = error;
        // JSON.stringify of an Error gives {}: the report says its name, message and code.
        Object.defineProperty(report, 'toJSON', { value: nodeReportJSON });
      }
      reports[i] = report;
      check();
    };

    function onAbort() {
      if (decided) return;
      for (let i = 0; i < n; i++) {
        if (settled[i]) continue;
        settled[i] = true;
        pending--;
        spec.track(-1);
        reports[i] = { ...reports[i]!, outcome: 'aborted' };
      }
      timers.clearTimeout(timer);
      decide('aborted');
    }
    if (signal?.aborted) {
      for (let i = 0; i < n; i++) reports[i] = { ...reports[i]!, outcome: 'aborted' };
      decided = true;
      resolve({ decision: 'aborted', votes: 0, startMs, decidedMs: startMs, nodes: reports.slice() });
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    timer = timers.setTimeout(() => {
      for (let i = 0; i < n; i++) if (!settled[i]) settle(i, { outcome: 'timeout', yes: false }, null);
    }, spec.timeoutMs);

    // Nodes without a probe share one command list.
    const alone = [spec.command];
    for (let i = 0; i < n; i++) {
      const node = nodes[i]!;
      const probe = vetting.probe(node);
      const commands = probe ? [probe, spec.command] : alone;
      spec.track(1);
      watcher?.sent(node.index);
      let call: Promise<unknown[]>;
      try {
        call = node.send(commands);
      } catch (error) {
        call = Promise.reject(error);
      }
      call.then(
        (replies) => {
          if (settled[i]) {
            watcher?.answered(node.index, lateOutcome(spec, replies[commands.length - 1], node.index));
            return;
          }
          const latencyMs = clock.now() - startMs;
          // Vetting is decided when the reply lands: two calls may have carried the probe.
          const vetted = probe ? vetting.vet(node, replies[0]) : undefined;
          const reply = replies[commands.length - 1];
          let verdict: Verdict;
          if (vetted) {
            // A call that failed as a whole (connection closed) fails the probe and the command
            // alike: the command's own error says what happened.
            verdict =
              vetted.outcome === 'error' && reply instanceof Error ? { ...vetted, error: reply } : vetted;
          } else if (reply instanceof Error) {
            verdict = { outcome: 'error', yes: false, error: reply };
          } else {
            try {
              verdict = spec.classify(reply, node.index);
            } catch (error) {
              verdict = { outcome: 'error', yes: false, error: toError(error) };
            }
          }
          watcher?.answered(node.index, verdict.outcome);
          // A server that answered is identified by its run_id; an error reply is still its answer.
          settle(i, verdict, latencyMs, vetting.serverOf(node));
        },
        (error: unknown) => {
          watcher?.answered(node.index, 'error');
          if (settled[i]) return;
          settle(i, { outcome: 'error', yes: false, error: toError(error) }, clock.now() - startMs);
        },
      );
    }
    check();
  });
}

/** The outcome of a reply that landed after its node was settled (timed out): its command's only. */
function lateOutcome<N extends RoundNode>(spec: RoundSpec<N>, reply: unknown, node: number): NodeOutcome {
  if (reply instanceof Error) return 'error';
  try {
    return spec.classify(reply, node).outcome;
  } catch {
    return 'error';
  }
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
