/**
 * What a node's INFO says, and the operational rules read from it (R1, R14): one server, one
 * vote; no eviction; persistence that survives a crash, or the delayed restart. Pure: used by
 * the core on every node's first contact (and each call when the uptime guard is on) and by
 * `quorumlock doctor`, so both say the same thing in the same words.
 */

/** A node as its last INFO described it. */
export interface NodeInfo {
  readonly runId: string;
  readonly redisVersion: string | undefined;
  /** `uptime_in_seconds` when the INFO was read. */
  readonly uptimeSeconds: number | undefined;
  readonly maxmemoryPolicy: string | undefined;
  /** `aof_enabled` (from the first contact's persistence section). */
  readonly aofEnabled: boolean | undefined;
  /** `role` (from the replication section, when asked for): Redlock wants masters. */
  readonly role?: string | undefined;
  /**
   * From the replication section, when asked for: this master was a replica promoted since it
   * started (`second_repl_offset` is not -1), as a Sentinel or cluster failover leaves it.
   */
  readonly promoted?: boolean | undefined;
}

/** One `name:value` field of an INFO text. */
export function infoField(text: string, name: string): string | undefined {
  return new RegExp(`^${name}:(\\S+)`, 'm').exec(text)?.[1];
}

/**
 * Read an INFO text. Sections it does not carry keep what `previous` knew (later calls ask only
 * for the server section). Undefined when there is no `run_id`: not a server we can identify.
 */
export function parseInfo(text: string, previous?: NodeInfo): NodeInfo | undefined {
  const runId = infoField(text, 'run_id');
  if (runId === undefined) return undefined;
  const uptime = infoField(text, 'uptime_in_seconds');
  const aof = infoField(text, 'aof_enabled');
  return {
    runId,
    redisVersion: infoField(text, 'redis_version'),
    uptimeSeconds: uptime === undefined ? undefined : Number(uptime),
    maxmemoryPolicy: infoField(text, 'maxmemory_policy') ?? previous?.maxmemoryPolicy,
    aofEnabled: aof === undefined ? previous?.aofEnabled : aof === '1',
    role: infoField(text, 'role') ?? previous?.role,
    promoted: promotedFrom(text) ?? previous?.promoted,
  };
}

function promotedFrom(text: string): boolean | undefined {
  const offset = infoField(text, 'second_repl_offset');
  return offset === undefined ? undefined : offset !== '-1';
}

/**
 * INFO denied by an ACL (NOPERM), renamed away (unknown command), or answered without a run_id
 * (not a Redis server we can identify): asking again will not help. Anything else (BUSY,
 * LOADING, a failed call) is worth another probe.
 */
export function refusedForGood(reply: unknown): boolean {
  if (typeof reply === 'string') return parseInfo(reply) === undefined;
  return reply instanceof Error && /^(NOPERM|ERR unknown command)/.test(reply.message);
}

/**
 * The uptime guard: a node up for less than `minUptimeMs` may have lost keys in a restart, so
 * its vote does not count. `uptime_in_seconds` is a difference of truncated Unix seconds and can
 * read up to 1 s ahead of the real uptime, so one second less is counted.
 */
export function oldEnough(info: NodeInfo, minUptimeMs: number): boolean {
  return (
    minUptimeMs === 0 || info.uptimeSeconds === undefined || (info.uptimeSeconds - 1) * 1000 >= minUptimeMs
  );
}

/** Why a node may delete lock keys early, or undefined when it will not. */
export function evictionRisk(info: Pick<NodeInfo, 'maxmemoryPolicy'>): string | undefined {
  const policy = info.maxmemoryPolicy;
  if (policy === 'noeviction') return undefined;
  return `maxmemory-policy ${policy ?? 'unknown'}: eviction can delete lock keys early and break mutual exclusion; set noeviction`;
}

/**
 * Why a restart may forget locks, or undefined when it cannot: AOF with `appendfsync always`, or
 * the uptime guard covering the longest TTL. `appendfsync` is known only where CONFIG is allowed.
 */
export function persistenceRisk(
  info: Pick<NodeInfo, 'aofEnabled'>,
  minNodeUptimeMs: number,
  appendfsync?: string,
): string | undefined {
  if (minNodeUptimeMs > 0) return undefined;
  if (info.aofEnabled === false) {
    return 'without AOF: a crash and restart forgets its locks; use appendonly yes with appendfsync always, or set minNodeUptimeMs to the longest TTL (delayed restart)';
  }
  if (info.aofEnabled === true && appendfsync !== undefined && appendfsync !== 'always') {
    return `with AOF and appendfsync ${appendfsync}: a power loss can forget up to a second of locks; use appendfsync always, or minNodeUptimeMs`;
  }
  return undefined;
}

/** Why a node is no independent master, or undefined. */
export function roleRisk(info: Pick<NodeInfo, 'role'>): string | undefined {
  if (info.role === undefined || info.role === 'master') return undefined;
  return `role ${info.role}: Redlock needs independent masters, not replicas`;
}

/**
 * Why a promoted master may have lost locks, or undefined. Its uptime says nothing about the
 * promotion, so the uptime guard covers it only in a process that saw the failover happen.
 */
export function failoverRisk(info: Pick<NodeInfo, 'promoted' | 'role'>): string | undefined {
  if (info.promoted !== true || info.role === 'slave') return undefined;
  return 'a replica promoted to master (a failover): asynchronous replication may have lost lock keys it acknowledged; a Redlock that saw the failover quarantines it for minNodeUptimeMs, a process started after it cannot tell (docs/operations.md, "Failover")';
}

/** The one-vote-per-server rule, as both the core and doctor word it. */
export function sameServer(runId: string, other: string): string {
  return `same server as ${other} (run_id ${runId.slice(0, 8)}...): only one of their votes counts`;
}
