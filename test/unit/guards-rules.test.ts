import { describe, expect, it } from 'vitest';
import {
  evictionRisk,
  failoverRisk,
  infoField,
  type NodeInfo,
  oldEnough,
  parseInfo,
  persistenceRisk,
  refusedForGood,
  roleRisk,
  sameServer,
} from '../../src/guards.js';

/**
 * The pure rules of src/guards.ts (R1, R14) on INFO texts written here: what is read from them,
 * and when each risk is named, in the words the core and `quorumlock doctor` share.
 */
const RUN_ID = 'a'.repeat(40);
const FIRST =
  `# Server\r\nredis_version:7.2.4\r\nrun_id:${RUN_ID}\r\nuptime_in_seconds:120\r\n` +
  '# Memory\r\nmaxmemory_policy:noeviction\r\n# Persistence\r\naof_enabled:1\r\n' +
  '# Replication\r\nrole:master\r\nsecond_repl_offset:-1\r\n';

describe('parseInfo', () => {
  it('reads every field of a first contact', () => {
    expect(parseInfo(FIRST)).toEqual({
      runId: RUN_ID,
      redisVersion: '7.2.4',
      uptimeSeconds: 120,
      maxmemoryPolicy: 'noeviction',
      aofEnabled: true,
      role: 'master',
      promoted: false,
    });
  });

  it('keeps what a previous INFO knew when a later one carries only the server section', () => {
    const previous = parseInfo(FIRST)!;
    expect(parseInfo(`run_id:${'b'.repeat(40)}\r\nuptime_in_seconds:3\r\n`, previous)).toEqual({
      runId: 'b'.repeat(40),
      redisVersion: undefined,
      uptimeSeconds: 3,
      maxmemoryPolicy: 'noeviction',
      aofEnabled: true,
      role: 'master',
      promoted: false,
    });
    expect(parseInfo(`run_id:x\r\n`)).toEqual({
      runId: 'x',
      redisVersion: undefined,
      uptimeSeconds: undefined,
      maxmemoryPolicy: undefined,
      aofEnabled: undefined,
      role: undefined,
      promoted: undefined,
    });
  });

  it('reads aof_enabled:0 as off, a second replication offset as a promotion, and new sections over old', () => {
    const previous = parseInfo(FIRST)!;
    const later = parseInfo(
      'run_id:x\r\naof_enabled:0\r\nrole:slave\r\nsecond_repl_offset:1234\r\nmaxmemory_policy:allkeys-lru\r\n',
      previous,
    )!;
    expect(later).toMatchObject({
      aofEnabled: false,
      role: 'slave',
      promoted: true,
      maxmemoryPolicy: 'allkeys-lru',
    });
  });

  it('is undefined without a run_id, and reads a field only at the start of a line', () => {
    expect(parseInfo('redis_version:7.2.4\r\n')).toBeUndefined();
    expect(parseInfo('# Server\r\nmaster_run_id:abc\r\n')).toBeUndefined();
    expect(infoField('a:1\r\nb:2 3\r\n', 'b')).toBe('2');
    expect(infoField('xa:1\r\n', 'a')).toBeUndefined();
  });
});

describe('refusedForGood', () => {
  it('INFO without a run_id, denied by an ACL or renamed away: asking again will not help', () => {
    expect(refusedForGood('redis_version:7\r\n')).toBe(true);
    expect(refusedForGood(new Error("NOPERM this user has no permissions to run the 'info' command"))).toBe(
      true,
    );
    expect(refusedForGood(new Error("ERR unknown command 'INFO'"))).toBe(true);
  });

  it('an identified server, a transient error or a failed call is worth another probe', () => {
    expect(refusedForGood(FIRST)).toBe(false);
    expect(refusedForGood(new Error('LOADING Redis is loading the dataset in memory'))).toBe(false);
    expect(refusedForGood(new Error('BUSY Redis is busy running a script'))).toBe(false);
    expect(refusedForGood(new Error('connection closed: ERR unknown command'))).toBe(false);
    expect(refusedForGood(undefined)).toBe(false);
    expect(refusedForGood(42)).toBe(false);
  });
});

describe('the risks a node is named for', () => {
  const info = (uptimeSeconds: number | undefined): NodeInfo => ({ ...parseInfo(FIRST)!, uptimeSeconds });

  it('oldEnough: one second less than INFO says is counted, and no guard or no uptime passes', () => {
    expect(oldEnough(info(11), 10_000)).toBe(true);
    expect(oldEnough(info(10), 10_000)).toBe(false);
    expect(oldEnough(info(0), 0)).toBe(true);
    expect(oldEnough(info(undefined), 10_000)).toBe(true);
  });

  it('evictionRisk: any policy but noeviction, an unknown one included', () => {
    expect(evictionRisk({ maxmemoryPolicy: 'noeviction' })).toBeUndefined();
    expect(evictionRisk({ maxmemoryPolicy: 'volatile-lru' })).toBe(
      'maxmemory-policy volatile-lru: eviction can delete lock keys early and break mutual exclusion; set noeviction',
    );
    expect(evictionRisk({ maxmemoryPolicy: undefined })).toMatch(/^maxmemory-policy unknown: /);
  });

  it('persistenceRisk: no AOF, or AOF without appendfsync always, unless the uptime guard covers it', () => {
    expect(persistenceRisk({ aofEnabled: false }, 0)).toMatch(
      /^without AOF: a crash and restart forgets its locks/,
    );
    expect(persistenceRisk({ aofEnabled: false }, 1)).toBeUndefined();
    expect(persistenceRisk({ aofEnabled: true }, 0, 'everysec')).toBe(
      'with AOF and appendfsync everysec: a power loss can forget up to a second of locks; use appendfsync always, or minNodeUptimeMs',
    );
    expect(persistenceRisk({ aofEnabled: true }, 0, 'always')).toBeUndefined();
    expect(persistenceRisk({ aofEnabled: true }, 0)).toBeUndefined();
    expect(persistenceRisk({ aofEnabled: undefined }, 0, 'no')).toBeUndefined();
  });

  it('roleRisk: a replica, not a master or an unknown role', () => {
    expect(roleRisk({ role: 'slave' })).toBe('role slave: Redlock needs independent masters, not replicas');
    expect(roleRisk({ role: 'master' })).toBeUndefined();
    expect(roleRisk({ role: undefined })).toBeUndefined();
  });

  it('failoverRisk: a promoted master, not a replica or one never promoted', () => {
    expect(failoverRisk({ promoted: true, role: 'master' })).toMatch(
      /^a replica promoted to master \(a failover\)/,
    );
    expect(failoverRisk({ promoted: true, role: undefined })).toMatch(/^a replica promoted/);
    expect(failoverRisk({ promoted: true, role: 'slave' })).toBeUndefined();
    expect(failoverRisk({ promoted: false, role: 'master' })).toBeUndefined();
    expect(failoverRisk({ promoted: undefined, role: 'master' })).toBeUndefined();
  });

  it('sameServer names the other node and the first 8 characters of the run_id', () => {
    expect(sameServer('0123456789abcdef', 'node 2 (c:1)')).toBe(
      'same server as node 2 (c:1) (run_id 01234567...): only one of their votes counts',
    );
  });
});
