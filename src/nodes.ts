import { type Command, type InfoCommand, isRedisClient, type RedisClient, rawClientKind } from './adapter.js';
import type { Runtime } from './clock.js';
import type { CallWatcher } from './creates.js';
import { InvalidArgumentError } from './errors.js';
import {
  evictionRisk,
  type NodeInfo,
  oldEnough,
  parseInfo,
  persistenceRisk,
  refusedForGood,
  sameServer,
} from './guards.js';
import { NodePipe } from './pipe.js';
import { type RoundNode, type RoundResult, runRound, type Verdict, type Vetting } from './quorum.js';
import { quorumOf } from './validity.js';
import { warnOnce } from './warnings.js';

/** What the core knows about one node. */
export interface NodeState extends RoundNode {
  readonly client: RedisClient;
  /**
   * 'unknown' until an INFO reply has been read (every call probes again until then); 'known'
   * once one was; 'refused' when INFO itself is refused for good (ACL, renamed command).
   */
  identity: 'unknown' | 'known' | 'refused';
  runId: string | undefined;
  /** What the last INFO said, for `Redlock.nodeInfo()` and the guards. */
  info: NodeInfo | undefined;
  /** Monotonic time of the last INFO read (failover detection). */
  infoAtMs: number | undefined;
  /** After a failover seen here: the node does not vote before this monotonic time. */
  quarantinedUntilMs: number;
}

/** First contact: identity, eviction policy and persistence. */
const FIRST_INFO: InfoCommand = Object.freeze({
  type: 'info',
  sections: Object.freeze(['server', 'memory', 'persistence']),
});
/** Later calls, when every vote is vetted: the server section carries run_id and uptime. */
const SERVER_INFO: InfoCommand = Object.freeze({ type: 'info', sections: Object.freeze(['server']) });

export interface NodesOptions {
  readonly coalesce: boolean;
  readonly minNodeUptimeMs: number;
}

/**
 * The N nodes of a Redlock: their state, the guards read from their INFO (R1, R14), the rounds
 * sent to them, and every call in flight (so that `idle()` can wait for stragglers).
 */
export class Nodes {
  readonly list: readonly NodeState[];
  /** floor(N/2) + 1. */
  readonly quorum: number;
  /** Names this set of nodes (endpoints, sorted): local hand-off pairs Redlocks over the same servers. */
  readonly id: string;
  readonly #options: NodesOptions;
  readonly #runtime: Runtime;
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];
  readonly #track = (delta: 1 | -1) => {
    this.#inFlight += delta;
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  };
  readonly #vetting: Vetting<NodeState> = {
    probe: (node) => this.#probe(node),
    vet: (node, reply) => this.#vet(node, reply),
    serverOf: (node) => node.runId,
  };

  /** Validates the client list (R1): adapters only, no endpoint twice; warns on even N. */
  constructor(clients: readonly RedisClient[], options: NodesOptions, runtime: Runtime) {
    if (!Array.isArray(clients) || clients.length === 0) {
      throw new InvalidArgumentError('clients', 'a non-empty array of RedisClient adapters', clients);
    }
    this.#options = options;
    this.#runtime = runtime;
    const endpoints = new Map<string, number>();
    this.list = clients.map((client: unknown, index) => {
      if (!isRedisClient(client)) {
        const raw = rawClientKind(client);
        const hint = raw
          ? `wrap a raw ${raw} client with ${{ ioredis: 'ioredisAdapter(client)', 'node-redis': 'nodeRedisAdapter(client)', glide: 'glideAdapter(client, { endpoint })' }[raw]}`
          : 'an adapter has `endpoint: string` and `exec(commands)`';
        throw new InvalidArgumentError(`clients[${index}]`, 'a RedisClient adapter', client, hint);
      }
      const previous = endpoints.get(client.endpoint);
      if (previous !== undefined) {
        throw new InvalidArgumentError(
          `clients[${index}]`,
          'a node not already in the list',
          client.endpoint,
          `same endpoint as clients[${previous}]; Redlock needs N independent masters`,
        );
      }
      endpoints.set(client.endpoint, index);
      // A cluster node gets no batch script: its keys may lie in different slots (ADR 016).
      const send: NodeState['send'] =
        options.coalesce && client.cluster !== true
          ? sendVia(new NodePipe(client))
          : (commands) => client.exec(commands);
      return {
        index,
        client,
        endpoint: client.endpoint,
        send,
        identity: 'unknown',
        runId: undefined,
        info: undefined,
        infoAtMs: undefined,
        quarantinedUntilMs: 0,
      };
    });
    this.quorum = quorumOf(clients.length);
    this.id = this.list
      .map((n) => n.endpoint)
      .sort()
      .join(',');
    if (clients.length % 2 === 0) {
      process.emitWarning(
        `Redlock over ${clients.length} nodes needs ${this.quorum} votes and tolerates no more failures than ${clients.length - 1} nodes would; use an odd number`,
        { code: 'QUORUMLOCK_EVEN_N' },
      );
    }
  }

  get size(): number {
    return this.list.length;
  }

  /** One round of `command` on every node (or on `subset`): see runRound. */
  round(
    command: Command,
    classify: (reply: unknown, node: number) => Verdict,
    timeoutMs: number,
    mode: 'vote' | 'all',
    signal: AbortSignal | undefined,
    subset: readonly NodeState[] = this.list,
    quorum: number = this.quorum,
    watcher?: CallWatcher,
  ): Promise<RoundResult> {
    return runRound({
      watcher,
      nodes: subset,
      command,
      classify,
      timeoutMs,
      quorum,
      mode,
      signal,
      runtime: this.#runtime,
      vetting: this.#vetting,
      track: this.#track,
    });
  }

  /**
   * Count a piece of work as in flight until the returned function is called (once; later calls
   * do nothing), so that `idle()` waits for it as for a call.
   */
  hold(): () => void {
    this.#track(1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#track(-1);
    };
  }

  /** Resolves once every call sent to a node has answered or timed out. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Each node as its last INFO described it (undefined before first contact): a diagnostic. */
  info(): ReadonlyArray<{
    readonly node: number;
    readonly endpoint: string;
    readonly info: NodeInfo | undefined;
  }> {
    return this.list.map((n) => ({ node: n.index, endpoint: n.endpoint, info: n.info }));
  }

  /**
   * INFO goes with every call to a node not yet vetted, and with every call when the uptime
   * guard is on (each vote is vetted by the uptime answered in the same round trip).
   */
  #probe(node: NodeState): InfoCommand | undefined {
    if (node.identity === 'known') return this.#options.minNodeUptimeMs > 0 ? SERVER_INFO : undefined;
    if (node.identity === 'refused' && this.#options.minNodeUptimeMs === 0) return undefined;
    return FIRST_INFO;
  }

  /**
   * A node whose INFO has not been read is not vetted (R17): an error this time (BUSY, LOADING)
   * is no vote, and the next call probes again. INFO refused for good is reported once; the vote
   * then counts unless the uptime guard needs INFO, which fails closed.
   */
  #vet(node: NodeState, reply: unknown): Verdict | undefined {
    const info = typeof reply === 'string' ? parseInfo(reply, node.info) : undefined;
    if (info === undefined) {
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
        this.#warnRefused(node, error);
      }
      if (this.#options.minNodeUptimeMs === 0) return undefined;
      return {
        outcome: 'quarantined',
        yes: false,
        error: new Error(`INFO refused, so minNodeUptimeMs cannot vet this node: ${error.message}`, {
          cause: error,
        }),
      };
    }
    const first = node.identity !== 'known';
    const now = this.#runtime.clock.now();
    if (!first && info.runId !== node.runId && failedOver(info, now - (node.infoAtMs ?? now))) {
      this.#failover(node, info, now);
    }
    node.runId = info.runId;
    node.identity = 'known';
    node.info = info;
    node.infoAtMs = now;
    if (first) this.#warnFirst(node, info);
    return oldEnough(info, this.#options.minNodeUptimeMs) && now >= node.quarantinedUntilMs
      ? undefined
      : { outcome: 'quarantined', yes: false };
  }

  /**
   * Another server, already running before our previous contact, now answers for this node: a
   * failover (Sentinel, or inside a cluster). Replication is asynchronous, so the promoted master
   * may lack lock keys it acknowledged: treated like a restart without persistence, its votes do
   * not count for `minNodeUptimeMs` from now (docs/operations.md, "Failover").
   */
  #failover(node: NodeState, info: NodeInfo, now: number): void {
    const min = this.#options.minNodeUptimeMs;
    node.quarantinedUntilMs = now + min;
    process.emitWarning(
      `node ${node.index} (${node.endpoint}) now answers from another server (run_id ${info.runId.slice(0, 8)}..., was ${node.runId?.slice(0, 8)}...): a failover, which may have lost lock keys; ` +
        (min > 0
          ? `its votes do not count for minNodeUptimeMs (${min} ms)`
          : 'set minNodeUptimeMs to the longest TTL so that its votes wait until every lock it lost has expired'),
      { code: 'QUORUMLOCK_FAILOVER' },
    );
  }

  /** On first contact: the same server as another node, eviction, persistence (R1, R14). */
  #warnFirst(node: NodeState, info: NodeInfo): void {
    const name = `node ${node.index} (${node.endpoint})`;
    for (const other of this.list) {
      if (other !== node && other.runId === info.runId) {
        warnOnce(
          `DUPLICATE|${info.runId}|${node.endpoint}`,
          'QUORUMLOCK_DUPLICATE_NODE',
          `${name}: ${sameServer(info.runId, `node ${other.index} (${other.endpoint})`)}`,
        );
      }
    }
    const eviction = info.maxmemoryPolicy === undefined ? undefined : evictionRisk(info);
    if (eviction) warnOnce(`EVICTION|${info.runId}`, 'QUORUMLOCK_EVICTION_POLICY', `${name} has ${eviction}`);
    const persistence = persistenceRisk(info, this.#options.minNodeUptimeMs);
    if (persistence) {
      // Typically every node of a set runs the same configuration: one warning per process, not
      // one per node or per Redlock; nodeInfo() shows each node's AOF state.
      warnOnce(
        'PERSISTENCE',
        'QUORUMLOCK_PERSISTENCE',
        `${name} runs ${persistence} (warned once per process; redlock.nodeInfo() shows every node's aofEnabled)`,
      );
    }
  }

  #warnRefused(node: NodeState, error: Error): void {
    warnOnce(
      `INFO_REFUSED|${node.endpoint}`,
      'QUORUMLOCK_INFO_REFUSED',
      `node ${node.index} (${node.endpoint}) refuses INFO (${error.message}): it cannot be checked for being the same server as another node, nor for eviction and persistence` +
        (this.#options.minNodeUptimeMs > 0
          ? '; its votes do not count, because minNodeUptimeMs needs its uptime'
          : ''),
    );
  }
}

/**
 * A new run_id from a server whose uptime began before our previous INFO (`sinceMs` ago) is
 * not this node restarted (the uptime guard covers that) but another server: a failover.
 * `uptime_in_seconds` can read up to 1 s ahead, so one second less is counted.
 */
function failedOver(info: NodeInfo, sinceMs: number): boolean {
  return info.uptimeSeconds === undefined || (info.uptimeSeconds - 1) * 1000 > sinceMs;
}

function sendVia(pipe: NodePipe): NodeState['send'] {
  return (commands) => pipe.send(commands);
}
