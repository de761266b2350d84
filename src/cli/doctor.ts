import { evictionRisk, failoverRisk, parseInfo, persistenceRisk, roleRisk, sameServer } from '../guards.js';
import { quorumOf } from '../validity.js';

/** What `quorumlock doctor` learned from one node. */
export interface NodeProbe {
  readonly address: string;
  /** The INFO text (server, memory, persistence, replication), when the node answered. */
  readonly info?: string;
  /** `CONFIG GET appendfsync`, when CONFIG is allowed. */
  readonly appendfsync?: string;
  readonly error?: string;
}

export interface Finding {
  readonly node: string;
  readonly level: 'ok' | 'warn' | 'fail';
  readonly check: string;
  readonly detail: string;
}

/**
 * Check a set of nodes against what Redlock assumes (R1, R14): reachable independent masters,
 * distinct servers, no eviction, and persistence that survives a crash (or a delayed restart).
 * Pure: the command does the I/O.
 */
export function diagnose(
  probes: readonly NodeProbe[],
  repeated: readonly string[] = [],
): { findings: Finding[]; ok: boolean } {
  const findings: Finding[] = [];
  const add = (node: string, level: Finding['level'], check: string, detail: string) =>
    findings.push({ node, level, check, detail });
  // The count is of distinct addresses: an address given twice is one node (and a mistake).
  const n = probes.length;
  const quorum = quorumOf(n);
  for (const address of new Set(repeated)) {
    add(address, 'fail', 'independent', 'listed more than once: Redlock refuses the same node twice');
  }
  if (n < 3)
    add(
      'all',
      'warn',
      'count',
      `${n} node${n === 1 ? '' : 's'}: Redlock needs at least 3 independent masters to survive one failure`,
    );
  else if (n % 2 === 0)
    add('all', 'warn', 'count', `${n} nodes: an even count tolerates no more failures than ${n - 1}`);
  else add('all', 'ok', 'count', `${n} nodes, quorum ${quorum}, tolerates ${n - quorum} down`);
  const runIds = new Map<string, string>();
  for (const probe of probes) {
    const node = probe.address;
    if (probe.info === undefined) {
      add(node, 'fail', 'reachable', probe.error ?? 'no answer');
      continue;
    }
    const info = parseInfo(probe.info);
    if (info === undefined) {
      add(node, 'fail', 'reachable', 'INFO without run_id: not a Redis server quorumlock can identify');
      continue;
    }
    add(node, 'ok', 'reachable', `redis ${info.redisVersion ?? '?'}, up ${info.uptimeSeconds ?? '?'} s`);
    const other = runIds.get(info.runId);
    if (other) add(node, 'fail', 'independent', sameServer(info.runId, other));
    else runIds.set(info.runId, node);
    const role = roleRisk(info);
    if (role) add(node, 'fail', 'independent', role);
    const failover = failoverRisk(info);
    if (failover) add(node, 'warn', 'failover', failover);
    const eviction = evictionRisk(info);
    if (eviction) add(node, 'fail', 'eviction', eviction);
    else add(node, 'ok', 'eviction', 'maxmemory-policy noeviction');
    const persistence = persistenceRisk(
      info,
      0,
      probe.appendfsync ?? (info.aofEnabled ? 'unknown (CONFIG refused)' : undefined),
    );
    if (persistence) add(node, 'warn', 'persistence', persistence);
    else add(node, 'ok', 'persistence', 'AOF with appendfsync always');
  }
  return { findings, ok: findings.every((f) => f.level !== 'fail') };
}

/** The last line: failures, else warnings, else all clear. */
export function summary(findings: readonly Finding[]): string {
  const fails = findings.filter((f) => f.level === 'fail').length;
  const warns = findings.filter((f) => f.level === 'warn').length;
  const plural = (k: number, word: string) => `${k} ${word}${k === 1 ? '' : 's'}`;
  if (fails > 0)
    return `${plural(fails, 'check')} failed${warns > 0 ? `, ${plural(warns, 'warning')}` : ''}: see FAIL above.`;
  if (warns > 0) return `No failed checks, but ${plural(warns, 'warning')}: see WARN above.`;
  return 'No failed checks.';
}

/** The findings as a table, one line each. */
export function formatFindings(findings: readonly Finding[]): string {
  const mark = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;
  const width = Math.max(...findings.map((f) => f.node.length), 4);
  return findings
    .map((f) => `${mark[f.level]}  ${f.node.padEnd(width)}  ${f.check.padEnd(11)}  ${f.detail}`)
    .join('\n');
}
