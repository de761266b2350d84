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
export function diagnose(probes: readonly NodeProbe[]): { findings: Finding[]; ok: boolean } {
  const findings: Finding[] = [];
  const add = (node: string, level: Finding['level'], check: string, detail: string) =>
    findings.push({ node, level, check, detail });
  const n = probes.length;
  if (n < 3) add('all', 'warn', 'count', `${n} node(s): Redlock tolerates no failure below 3`);
  else if (n % 2 === 0)
    add('all', 'warn', 'count', `${n} nodes: an even count tolerates no more failures than ${n - 1}`);
  else
    add(
      'all',
      'ok',
      'count',
      `${n} nodes, quorum ${Math.floor(n / 2) + 1}, tolerates ${n - Math.floor(n / 2) - 1} down`,
    );
  const runIds = new Map<string, string>();
  for (const probe of probes) {
    const node = probe.address;
    if (probe.info === undefined) {
      add(node, 'fail', 'reachable', probe.error ?? 'no answer');
      continue;
    }
    const field = (name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(probe.info!)?.[1];
    add(
      node,
      'ok',
      'reachable',
      `redis ${field('redis_version') ?? '?'}, up ${field('uptime_in_seconds') ?? '?'} s`,
    );
    const runId = field('run_id');
    if (runId !== undefined) {
      const other = runIds.get(runId);
      if (other)
        add(
          node,
          'fail',
          'independent',
          `same server as ${other} (run_id ${runId.slice(0, 8)}...): one vote, not two`,
        );
      else runIds.set(runId, node);
    }
    const role = field('role');
    if (role !== undefined && role !== 'master') {
      add(node, 'fail', 'independent', `role ${role}: Redlock needs independent masters, not replicas`);
    }
    const policy = field('maxmemory_policy');
    if (policy === 'noeviction') add(node, 'ok', 'eviction', 'maxmemory-policy noeviction');
    else
      add(
        node,
        'fail',
        'eviction',
        `maxmemory-policy ${policy ?? '?'}: lock keys can be evicted early; set noeviction`,
      );
    const aof = field('aof_enabled') === '1';
    if (aof && probe.appendfsync === 'always') add(node, 'ok', 'persistence', 'AOF with appendfsync always');
    else if (aof) {
      add(
        node,
        'warn',
        'persistence',
        `AOF with appendfsync ${probe.appendfsync ?? '(unknown: CONFIG refused)'}: a power loss can forget up to a second of locks; use always, or minNodeUptimeMs`,
      );
    } else {
      add(
        node,
        'warn',
        'persistence',
        'no AOF: a restart forgets every lock; use appendfsync always, or minNodeUptimeMs ≥ the longest TTL',
      );
    }
  }
  return { findings, ok: findings.every((f) => f.level !== 'fail') };
}

/** The findings as a table, one line each. */
export function formatFindings(findings: readonly Finding[]): string {
  const mark = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;
  const width = Math.max(...findings.map((f) => f.node.length), 4);
  return findings
    .map((f) => `${mark[f.level]}  ${f.node.padEnd(width)}  ${f.check.padEnd(11)}  ${f.detail}`)
    .join('\n');
}
