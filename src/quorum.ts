import type { Command, InfoCommand, RedisClient } from './client.js';
import type { Runtime } from './clock.js';
import type { NodeOutcome, NodeReport } from './errors.js';

/** What the core knows about one node. */
export interface NodeState {
  readonly index: number;
  readonly client: RedisClient;
  /** Sends to the node, coalescing calls of the same turn (or straight to the client when off). */
  readonly send: (commands: readonly Command[]) => Promise<unknown[]>;
  readonly endpoint: string;
  /**
   * 'unknown' until an INFO reply has been read (every call probes again until then); 'known'
   * once one was; 'refused' when INFO itself is refused for good (ACL, renamed command).
   */
  identity: 'unknown' | 'known' | 'refused';
  runId: string | undefined;
  /** What the last INFO said, for `Redlock.nodeInfo()` and the guards. */
  info: NodeInfo | undefined;
}

/** A node as its last INFO described it. */
export interface NodeInfo {
  readonly runId: string;
  readonly redisVersion: string | undefined;
  /** `uptime_in_seconds` when the INFO was read. */
  readonly uptimeSeconds: number | undefined;
  readonly maxmemoryPolicy: string | undefined;
  /** `aof_enabled` (from the first contact's persistence section). */
  readonly aofEnabled: boolean | undefined;
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
  /** Reads node `node`'s reply; may throw, which reports the node as an error. */
  readonly classify: (reply: unknown, node: number) => Verdict;
  readonly timeoutMs: number;
  readonly quorum: number;
  /** 'vote': decide as soon as quorum is won or lost. 'all': wait for every node (release). */
  readonly mode: 'vote' | 'all';
  readonly signal: AbortSignal | undefined;
  readonly runtime: Runtime;
  /**
   * Send INFO with every call, not only until the node is identified: the uptime guard needs
   * each vote vetted by the INFO answered in the same batch, and a node whose INFO cannot be
   * read then never votes.
   */
  readonly infoEveryCall: boolean;
  /** Called with each INFO a node answers; false means this node's answer must not count. */
  readonly onInfo: (node: NodeState, info: NodeInfo, first: boolean) => boolean;
  /** Called once when a node refuses INFO for good. */
  readonly onInfoRefused: (node: NodeState, error: Error) => void;
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

/** First contact: identity, eviction policy and persistence. */
const FIRST_INFO: InfoCommand = Object.freeze({
  type: 'info',
  sections: Object.freeze(['server', 'memory', 'persistence']),
});
/** Later calls, when every vote is vetted: the server section carries run_id and uptime. */
const SERVER_INFO: InfoCommand = Object.freeze({ type: 'info', sections: Object.freeze(['server']) });

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
  // One timer for the whole round: every call starts together, so they share the deadline.
  let timer: unknown;
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
      if (pending === 0) timers.clearTimeout(timer);
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

    for (let i = 0; i < n; i++) {
      const node = nodes[i]!;
      const first = node.identity !== 'known';
      const withInfo = node.identity === 'unknown' || spec.infoEveryCall;
      const commands = withInfo ? [first ? FIRST_INFO : SERVER_INFO, spec.command] : [spec.command];
      spec.track(1);
      let call: Promise<unknown[]>;
      try {
        call = node.send(commands);
      } catch (error) {
        call = Promise.reject(error);
      }
      call.then(
        (replies) => {
          if (settled[i]) return;
          const latencyMs = clock.now() - startMs;
          // First contact is decided when the reply lands: two calls may have carried the probe.
          const vetting = withInfo ? readInfo(node, replies[0], spec) : undefined;
          const reply = replies[commands.length - 1];
          let verdict: Verdict;
          if (vetting) {
            verdict = vetting;
          } else if (reply instanceof Error) {
            verdict = { outcome: 'error', yes: false, error: reply };
          } else {
            try {
              verdict = spec.classify(reply, node.index);
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

/**
 * Read a node's INFO reply into its state. Returns nothing when the node's answer may count,
 * or the verdict that replaces it: quarantined (the uptime guard refuses it, or cannot vet it
 * because INFO is refused), or an error when INFO failed this time (BUSY, LOADING...): a node
 * whose INFO has not been read is not vetted, so it does not vote, and the next call probes again.
 */
function readInfo(node: NodeState, reply: unknown, spec: RoundSpec): Verdict | undefined {
  const first = node.identity !== 'known';
  const runId = typeof reply === 'string' ? field(reply, 'run_id') : undefined;
  if (runId === undefined) {
    const error = reply instanceof Error ? reply : new Error('INFO reply without run_id');
    if (!refusedForGood(reply)) {
      return {
        outcome: 'error',
        yes: false,
        error: new Error(`INFO failed, node not vetted: ${error.message}`, { cause: error }),
      };
    }
    if (node.identity === 'unknown') {
      node.identity = 'refused';
      spec.onInfoRefused(node, error);
    }
    // Refused for good: the vote counts unless a guard needs INFO, which then fails closed.
    if (!spec.infoEveryCall) return undefined;
    return {
      outcome: 'quarantined',
      yes: false,
      error: new Error(`INFO refused, so minNodeUptimeMs cannot vet this node: ${error.message}`, {
        cause: error,
      }),
    };
  }
  const uptime = field(reply as string, 'uptime_in_seconds');
  const aof = field(reply as string, 'aof_enabled');
  const info: NodeInfo = {
    runId,
    redisVersion: field(reply as string, 'redis_version'),
    uptimeSeconds: uptime === undefined ? undefined : Number(uptime),
    maxmemoryPolicy: field(reply as string, 'maxmemory_policy') ?? node.info?.maxmemoryPolicy,
    aofEnabled: aof === undefined ? node.info?.aofEnabled : aof === '1',
  };
  node.runId = runId;
  node.identity = 'known';
  node.info = info;
  return spec.onInfo(node, info, first) ? undefined : { outcome: 'quarantined', yes: false };
}

function field(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];
}

/**
 * INFO denied by an ACL (NOPERM), renamed away (unknown command), or answered without a run_id
 * (not a Redis server we can identify): asking again will not help. Anything else (BUSY,
 * LOADING, a failed call) is worth another probe.
 */
function refusedForGood(reply: unknown): boolean {
  if (typeof reply === 'string') return true;
  return reply instanceof Error && /^(NOPERM|ERR unknown command)/.test(reply.message);
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
