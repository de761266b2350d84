import type { Command, InfoCommand, RedisClient } from './client.js';
import type { Runtime } from './clock.js';
import type { NodeOutcome, NodeReport } from './errors.js';

/** What the core knows about one node. */
export interface NodeState {
  readonly index: number;
  readonly client: RedisClient;
  readonly endpoint: string;
  /** 'unknown' until INFO has answered once; 'unavailable' when INFO itself is refused. */
  identity: 'unknown' | 'known' | 'unavailable';
  runId: string | undefined;
}

/** How one node's reply is read: its outcome, and whether it is a yes vote. */
export interface Verdict {
  readonly outcome: NodeOutcome;
  readonly yes: boolean;
  readonly holder?: 'absent' | 'foreign';
  readonly error?: Error;
  readonly counter?: number | null;
}

export interface RoundSpec {
  readonly nodes: readonly NodeState[];
  readonly command: Command;
  /** Reads a reply; may throw, which reports the node as an error. */
  readonly classify: (reply: unknown) => Verdict;
  readonly timeoutMs: number;
  readonly quorum: number;
  /** 'vote': decide as soon as quorum is won or lost. 'all': wait for every node (release). */
  readonly mode: 'vote' | 'all';
  readonly signal: AbortSignal | undefined;
  readonly runtime: Runtime;
  /** Called with a node's INFO text the first time it answers one. */
  readonly onInfo: (node: NodeState, info: string) => void;
  /** In-flight accounting, so the Redlock can tell when every straggler has settled. */
  readonly track: (delta: 1 | -1) => void;
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
}

const INFO: InfoCommand = Object.freeze({ type: 'info', sections: Object.freeze(['server', 'memory']) });

/**
 * Send one command to every node in parallel, each call bounded by the per-node timeout, and
 * resolve as soon as the round is decided (R3): in 'vote' mode when yes votes reach quorum or
 * can no longer reach it; in 'all' mode when every node has answered or timed out. A timeout,
 * error or abort is never a vote (R5). Two answers from one server (same run_id) count once.
 */
export function runRound(spec: RoundSpec): Promise<RoundResult> {
  const { nodes, runtime, quorum, mode, signal } = spec;
  const { clock, timers } = runtime;
  const n = nodes.length;
  const reports: NodeReport[] = nodes.map((node) => ({
    node: node.index,
    endpoint: node.endpoint,
    outcome: 'pending' as NodeOutcome,
    latencyMs: null,
  }));
  const settled: boolean[] = new Array(n).fill(false);
  const handles: unknown[] = new Array(n);
  const voters = new Set<string>();
  let pending = n;
  let votes = 0;
  let decided = false;

  return new Promise<RoundResult>((resolve) => {
    const startMs = clock.now();

    const decide = (decision: RoundResult['decision']) => {
      decided = true;
      signal?.removeEventListener('abort', onAbort);
      resolve({ decision, votes, startMs, decidedMs: clock.now(), nodes: reports.slice() });
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

    const settle = (i: number, verdict: Verdict, latencyMs: number | null, runId?: string) => {
      if (settled[i]) return;
      settled[i] = true;
      pending--;
      timers.clearTimeout(handles[i]);
      spec.track(-1);
      if (decided) return;
      let outcome = verdict.outcome;
      let yes = verdict.yes;
      let error = verdict.error;
      if (runId !== undefined) {
        if (voters.has(runId)) {
          const first = nodes.find((s) => s.runId === runId && s.index !== nodes[i]!.index);
          outcome = 'duplicate';
          yes = false;
          error = new Error(
            `same server (run_id ${runId}) as node ${first?.index ?? '?'}: its second vote is ignored`,
          );
        } else {
          voters.add(runId);
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
      if (error !== undefined) report.error = error;
      reports[i] = report;
      check();
    };

    function onAbort() {
      if (decided) return;
      for (let i = 0; i < n; i++) {
        if (settled[i]) continue;
        settled[i] = true;
        pending--;
        timers.clearTimeout(handles[i]);
        spec.track(-1);
        reports[i] = { ...reports[i]!, outcome: 'aborted' };
      }
      decide('aborted');
    }
    if (signal?.aborted) {
      for (let i = 0; i < n; i++) reports[i] = { ...reports[i]!, outcome: 'aborted' };
      decided = true;
      resolve({ decision: 'aborted', votes: 0, startMs, decidedMs: startMs, nodes: reports.slice() });
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    for (let i = 0; i < n; i++) {
      const node = nodes[i]!;
      const withInfo = node.identity === 'unknown';
      const commands = withInfo ? [INFO, spec.command] : [spec.command];
      spec.track(1);
      handles[i] = timers.setTimeout(
        () => settle(i, { outcome: 'timeout', yes: false }, null),
        spec.timeoutMs,
      );
      let call: Promise<unknown[]>;
      try {
        call = node.client.exec(commands);
      } catch (error) {
        call = Promise.reject(error);
      }
      call.then(
        (replies) => {
          if (settled[i]) return;
          const latencyMs = clock.now() - startMs;
          if (withInfo) readInfo(node, replies[0], spec.onInfo);
          const reply = replies[commands.length - 1];
          let verdict: Verdict;
          if (reply instanceof Error) {
            verdict = { outcome: 'error', yes: false, error: reply };
          } else {
            try {
              verdict = spec.classify(reply);
            } catch (error) {
              verdict = { outcome: 'error', yes: false, error: toError(error) };
            }
          }
          // A server that answered is identified by its run_id; an error reply is still its answer.
          settle(i, verdict, latencyMs, node.runId);
        },
        (error: unknown) => {
          if (settled[i]) return;
          settle(i, { outcome: 'error', yes: false, error: toError(error) }, clock.now() - startMs);
        },
      );
    }
    check();
  });
}

function readInfo(node: NodeState, reply: unknown, onInfo: RoundSpec['onInfo']): void {
  if (node.identity !== 'unknown') return;
  if (typeof reply !== 'string') {
    node.identity = 'unavailable';
    return;
  }
  const runId = /^run_id:([0-9a-f]+)/m.exec(reply)?.[1];
  node.runId = runId;
  node.identity = runId ? 'known' : 'unavailable';
  onInfo(node, reply);
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
