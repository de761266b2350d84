import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Command, RedisClient } from '../../src/adapter.js';
import { Nodes } from '../../src/nodes.js';
import type { Verdict } from '../../src/quorum.js';
import { forgetWarnings } from '../../src/warnings.js';
import { refusal } from '../support/refusal.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';
import { warningsDuring } from '../support/warnings.js';

/**
 * src/nodes.ts on its own: the client list it accepts, the INFO probe each call carries, how a
 * node is vetted by what INFO answers (R17, R14), and the warnings about a node's configuration,
 * each with its code and text. The nodes are stubs whose INFO answer the test sets.
 */
const PING: Command = { type: 'info', sections: ['stats'] };
const classify = (): Verdict => ({ outcome: 'acquired', yes: true });

/** An INFO text: server section always, memory and persistence when given. */
function infoText(
  runId: string,
  uptimeSeconds: number,
  more: { policy?: string; aof?: boolean } = {},
): string {
  const lines = ['# Server', `run_id:${runId}`, `uptime_in_seconds:${uptimeSeconds}`];
  if (more.policy !== undefined) lines.push('# Memory', `maxmemory_policy:${more.policy}`);
  if (more.aof !== undefined) lines.push('# Persistence', `aof_enabled:${more.aof ? 1 : 0}`);
  return `${lines.join('\r\n')}\r\n`;
}

const SAFE = { policy: 'noeviction', aof: true };

function harness(
  n: number,
  options: { minNodeUptimeMs?: number; coalesce?: boolean; cluster?: boolean } = {},
) {
  const time = new VirtualTime();
  /** What each node's INFO answers; a function of the call count is allowed. */
  const info: unknown[] = Array.from({ length: n }, (_, i) =>
    infoText(`run${i}`.padEnd(40, '0'), 3_600, SAFE),
  );
  const sent: Command[][][] = Array.from({ length: n }, () => []);
  const clients: RedisClient[] = Array.from({ length: n }, (_, i) => ({
    endpoint: `node-${i}:6379`,
    ...(options.cluster ? { cluster: true } : {}),
    exec: async (commands: readonly Command[]) => {
      sent[i]!.push([...commands]);
      return commands.map((c) => (c.type === 'info' && c !== PING ? info[i] : 'OK'));
    },
  }));
  const nodes = new Nodes(
    clients,
    { coalesce: options.coalesce ?? false, minNodeUptimeMs: options.minNodeUptimeMs ?? 0 },
    virtualRuntime(time),
  );
  const round = () => time.run(nodes.round(PING, classify, 100, 'all', undefined));
  /** The INFO sections the last call to node i carried, or null when it carried none. */
  const probeOf = (i: number) => {
    const calls = sent[i]!;
    const last = calls[calls.length - 1]!;
    const probe = last.find((c) => c !== PING);
    return probe?.type === 'info' ? probe.sections : null;
  };
  return { time, nodes, info, sent, round, probeOf };
}

beforeEach(() => forgetWarnings());
afterEach(() => forgetWarnings());

describe('Nodes: the client list', () => {
  it('names a raw client and the adapter that wraps it, or what an adapter has', () => {
    const ioredisLike = { defineCommand: () => {}, pipeline: () => {} };
    const raw = refusal(
      () =>
        new Nodes(
          [ioredisLike as never],
          { coalesce: false, minNodeUptimeMs: 0 },
          virtualRuntime(new VirtualTime()),
        ),
    );
    expect([raw.argument, raw.expected]).toEqual(['clients[0]', 'a RedisClient adapter']);
    expect(raw.message).toContain('wrap a raw ioredis client with ioredisAdapter(client)');
    const other = refusal(
      () =>
        new Nodes([{} as never], { coalesce: false, minNodeUptimeMs: 0 }, virtualRuntime(new VirtualTime())),
    );
    expect(other.message).toContain('an adapter has `endpoint: string` and `exec(commands)`');
    const glideLike = { customCommand: async () => null, exec: async () => null };
    const glide = refusal(
      () =>
        new Nodes(
          [glideLike as never],
          { coalesce: false, minNodeUptimeMs: 0 },
          virtualRuntime(new VirtualTime()),
        ),
    );
    expect(glide.message).toContain('wrap a raw glide client with glideAdapter(client, { endpoint })');
  });

  it('names the set by its endpoints, sorted: the same servers in any order are the same set', () => {
    const set = (endpoints: string[]) =>
      new Nodes(
        endpoints.map((endpoint) => ({ endpoint, exec: async () => [] })),
        { coalesce: false, minNodeUptimeMs: 0 },
        virtualRuntime(new VirtualTime()),
      ).id;
    expect(set(['b:2', 'c:3', 'a:1'])).toBe('a:1,b:2,c:3');
    expect(set(['c:3', 'a:1', 'b:2'])).toBe(set(['a:1', 'b:2', 'c:3']));
  });

  it('refuses an endpoint twice, naming the first', () => {
    const client = { endpoint: 'a:1', exec: async () => [] };
    const twice = refusal(
      () =>
        new Nodes(
          [client, { ...client }],
          { coalesce: false, minNodeUptimeMs: 0 },
          virtualRuntime(new VirtualTime()),
        ),
    );
    expect([twice.argument, twice.expected]).toEqual(['clients[1]', 'a node not already in the list']);
    expect(twice.message).toContain('same endpoint as clients[0]; Redlock needs N independent masters');
  });

  it('warns that an even N tolerates no more failures than N − 1', async () => {
    const warnings = await warningsDuring(async () => harness(4));
    expect(warnings).toEqual([
      'QUORUMLOCK_EVEN_N: Redlock over 4 nodes needs 3 votes and tolerates no more failures than 3 nodes would; use an odd number',
    ]);
    expect(await warningsDuring(async () => harness(3))).toEqual([]);
  });

  it('merges concurrent calls to a node through its pipe, except on a cluster node', async () => {
    for (const [cluster, calls] of [
      [false, 2],
      [true, 3],
    ] as const) {
      const h = harness(1, { coalesce: true, cluster });
      // Three rounds at once: the first goes out alone, the two queued behind it share a call.
      await h.time.run(
        Promise.all([1, 2, 3].map(() => h.nodes.round(PING, classify, 100, 'all', undefined))),
      );
      expect(h.sent[0]!.length).toBe(calls);
    }
  });
});

describe('Nodes: the INFO probe', () => {
  it('asks for server, memory and persistence until a node is known, then nothing', async () => {
    const h = harness(1);
    await h.round();
    expect(h.probeOf(0)).toEqual(['server', 'memory', 'persistence']);
    await h.round();
    expect(h.probeOf(0)).toBeNull();
  });

  it('asks for the server section on every call when the uptime guard is on', async () => {
    const h = harness(1, { minNodeUptimeMs: 1_000 });
    await h.round();
    await h.round();
    expect(h.probeOf(0)).toEqual(['server']);
  });

  it('stops asking a node that refuses INFO for good, unless the uptime guard needs it', async () => {
    for (const [min, probe] of [
      [0, null],
      [1_000, ['server', 'memory', 'persistence']],
    ] as const) {
      const h = harness(1, { minNodeUptimeMs: min });
      h.info[0] = new Error('NOPERM this user has no permissions to run the info command');
      await h.round();
      await h.round();
      expect(h.probeOf(0)).toEqual(probe);
    }
  });

  it('a known node that later refuses INFO stays known: the guard still asks for the server section', async () => {
    const h = harness(1, { minNodeUptimeMs: 1_000 });
    await h.round();
    h.info[0] = new Error('NOPERM no permissions');
    const refused = await h.round();
    expect(refused.nodes[0]!.outcome).toBe('quarantined');
    await h.round();
    expect(h.probeOf(0)).toEqual(['server']);
  });
});

describe('Nodes: vetting by INFO', () => {
  it('a failed INFO is no vote, says why, and is asked again', async () => {
    const h = harness(1);
    const loading = new Error('LOADING Redis is loading the dataset in memory');
    h.info[0] = loading;
    const result = await h.round();
    const report = result.nodes[0]!;
    expect(report.outcome).toBe('error');
    expect(report.error!.message).toBe(`INFO failed, node not vetted: ${loading.message}`);
    expect(report.error!.cause).toBe(loading);
    h.info[0] = 42;
    const odd = await h.round();
    expect(odd.nodes[0]!.error!.message).toBe('INFO failed, node not vetted: INFO reply without run_id');
    expect(h.probeOf(0)).toEqual(['server', 'memory', 'persistence']);
  });

  it('INFO without a run_id is refused for good: warned once, the vote counts without the uptime guard', async () => {
    const h = harness(1);
    h.info[0] = '# Server\r\nredis_version:7.0.0\r\n';
    const warnings = await warningsDuring(async () => {
      expect((await h.round()).nodes[0]!.outcome).toBe('acquired');
      await h.round();
    });
    expect(warnings).toEqual([
      'QUORUMLOCK_INFO_REFUSED: node 0 (node-0:6379) refuses INFO (INFO reply without run_id): it cannot be checked for being the same server as another node, nor for eviction and persistence',
    ]);
  });

  it('INFO refused under the uptime guard: quarantined, with the refusal as its cause, and said in the warning', async () => {
    const h = harness(1, { minNodeUptimeMs: 1_000 });
    const noperm = new Error('NOPERM no permissions');
    h.info[0] = noperm;
    let report: { outcome: string; error?: Error } | undefined;
    const warnings = await warningsDuring(async () => {
      report = (await h.round()).nodes[0];
    });
    expect(report!.outcome).toBe('quarantined');
    expect(report!.error!.message).toBe(
      `INFO refused, so minNodeUptimeMs cannot vet this node: ${noperm.message}`,
    );
    expect(report!.error!.cause).toBe(noperm);
    expect(warnings).toEqual([
      'QUORUMLOCK_INFO_REFUSED: node 0 (node-0:6379) refuses INFO (NOPERM no permissions): it cannot be checked for being the same server as another node, nor for eviction and persistence; its votes do not count, because minNodeUptimeMs needs its uptime',
    ]);
  });

  it('warns of each node that refuses INFO', async () => {
    const h = harness(3);
    h.info[0] = new Error('NOPERM no permissions');
    h.info[2] = new Error('NOPERM no permissions');
    const warnings = await warningsDuring(() => h.round());
    expect(warnings.map((w) => w.slice(0, w.indexOf(' refuses')))).toEqual([
      'QUORUMLOCK_INFO_REFUSED: node 0 (node-0:6379)',
      'QUORUMLOCK_INFO_REFUSED: node 2 (node-2:6379)',
    ]);
  });
});

describe('Nodes: failover (another server behind the endpoint)', () => {
  /** Node 0 is known at t0; `afterMs` later a server with another run_id and this uptime answers. */
  async function newServer(uptimeSeconds: number | undefined, afterMs: number, minNodeUptimeMs = 0) {
    const h = harness(1, { minNodeUptimeMs });
    await h.round();
    h.time.jump(afterMs);
    h.info[0] =
      uptimeSeconds === undefined
        ? '# Server\r\nrun_id:ffffffff00000000000000000000000000000000\r\n'
        : infoText('ffffffff'.padEnd(40, '0'), uptimeSeconds, SAFE);
    let outcome: string | undefined;
    const warnings = await warningsDuring(async () => {
      outcome = (await h.round()).nodes[0]!.outcome;
    });
    return { warnings: warnings.filter((w) => w.startsWith('QUORUMLOCK_FAILOVER')), outcome };
  }

  it('a server up since before the previous contact is a failover; one up for less is a restart', async () => {
    // (uptime − 1) s against the 5 s since the previous INFO: 5 s is not more, 6 s is.
    const restart = await newServer(6, 5_000, 1_000);
    expect([restart.warnings, restart.outcome]).toEqual([[], 'acquired']);
    const failover = await newServer(7, 5_000, 1_000);
    expect(failover.outcome).toBe('quarantined');
    expect(failover.warnings).toEqual([
      'QUORUMLOCK_FAILOVER: node 0 (node-0:6379) now answers from another server (run_id ffffffff..., was run00000...): a failover, which may have lost lock keys; its votes do not count for minNodeUptimeMs (1000 ms)',
    ]);
    // No uptime at all: counted as a failover.
    expect((await newServer(undefined, 5_000, 1_000)).warnings).toHaveLength(1);
  });

  it('without the uptime guard, a failover seen between two probing calls says to set it', async () => {
    // Only calls to a node not yet known carry INFO then: two calls sent before the first answer.
    const h = harness(1);
    const warnings = await warningsDuring(async () => {
      const before = h.nodes.round(PING, classify, 100, 'all', undefined);
      h.info[0] = infoText('ffffffff'.padEnd(40, '0'), 3_600, SAFE);
      const after = h.nodes.round(PING, classify, 100, 'all', undefined);
      await h.time.run(Promise.all([before, after]));
    });
    expect(warnings).toEqual([
      'QUORUMLOCK_FAILOVER: node 0 (node-0:6379) now answers from another server (run_id ffffffff..., was run00000...): a failover, which may have lost lock keys; set minNodeUptimeMs to the longest TTL so that its votes wait until every lock it lost has expired',
    ]);
  });
});

describe('Nodes: warnings on first contact', () => {
  it('names a node that is the same server as another, once, however many calls follow', async () => {
    const h = harness(3);
    h.info[1] = h.info[0];
    const warnings = await warningsDuring(async () => {
      await h.round();
      await h.round();
    });
    expect(warnings).toEqual([
      'QUORUMLOCK_DUPLICATE_NODE: node 1 (node-1:6379): same server as node 0 (node-0:6379) (run_id run00000...): only one of their votes counts',
    ]);
  });

  it('names each pair of nodes that are the same server', async () => {
    const h = harness(5);
    h.info[1] = h.info[0];
    h.info[3] = h.info[2];
    const warnings = await warningsDuring(() => h.round());
    expect(warnings).toEqual([
      'QUORUMLOCK_DUPLICATE_NODE: node 1 (node-1:6379): same server as node 0 (node-0:6379) (run_id run00000...): only one of their votes counts',
      'QUORUMLOCK_DUPLICATE_NODE: node 3 (node-3:6379): same server as node 2 (node-2:6379) (run_id run20000...): only one of their votes counts',
    ]);
  });

  it('reads the configuration on first contact only: later INFO serves failover and uptime', async () => {
    const h = harness(1, { minNodeUptimeMs: 1_000 });
    await h.round();
    h.time.jump(5_000);
    // A server up for an hour now answers, with an evicting policy: a failover, nothing more.
    h.info[0] = infoText('f'.repeat(40), 3_600, { policy: 'allkeys-lru', aof: true });
    const warnings = await warningsDuring(() => h.round());
    expect(warnings.map((w) => w.slice(0, w.indexOf(':')))).toEqual(['QUORUMLOCK_FAILOVER']);
  });

  it('warns of each server with an evicting policy, and of none whose INFO has no memory section', async () => {
    const h = harness(3);
    h.info[0] = infoText('a'.repeat(40), 3_600, { policy: 'allkeys-lru', aof: true });
    h.info[1] = infoText('b'.repeat(40), 3_600, { policy: 'volatile-lru', aof: true });
    h.info[2] = infoText('c'.repeat(40), 3_600, { aof: true });
    const warnings = await warningsDuring(() => h.round());
    expect(warnings).toEqual([
      'QUORUMLOCK_EVICTION_POLICY: node 0 (node-0:6379) has maxmemory-policy allkeys-lru: eviction can delete lock keys early and break mutual exclusion; set noeviction',
      'QUORUMLOCK_EVICTION_POLICY: node 1 (node-1:6379) has maxmemory-policy volatile-lru: eviction can delete lock keys early and break mutual exclusion; set noeviction',
    ]);
  });

  it('warns once per process of a node without AOF', async () => {
    const h = harness(3);
    for (const i of [0, 1, 2])
      h.info[i] = infoText(`${i}`.repeat(40), 3_600, { policy: 'noeviction', aof: false });
    const warnings = await warningsDuring(() => h.round());
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^QUORUMLOCK_PERSISTENCE: node 0 \(node-0:6379\) runs without AOF: .* \(warned once per process; redlock.nodeInfo\(\) shows every node's aofEnabled\)$/,
    );
  });
});
