import { createHash } from 'node:crypto';
import { type Command, type EvalCommand, type InfoCommand, isNoScriptError } from '../adapter.js';
import { infoField } from '../guards.js';
import {
  acquireScript,
  BATCHABLE,
  batchScript,
  extendScript,
  inspectScript,
  releaseScript,
  repairScript,
} from '../scripts/index.js';
import { evalArgs, replyOf, wire } from './shared.js';
import { groupBySlot, type SlotGroup } from './slots.js';

/**
 * A Redis Cluster as one node (docs/adr/016-cluster-key-layout.md). The cluster client routes
 * each command by its first key; this module makes sure every command it sends touches one slot
 * only: a script whose keys span slots runs once per slot group, and the groups' replies are
 * combined into the reply the script would have given on one server. The cluster is one vote.
 */
export interface ClusterTransport {
  /**
   * Send one command whose keys all lie in one slot. Resolve with the reply, or with an `Error`
   * for an error reply; reject only when the call failed.
   */
  call(name: string, args: string[]): Promise<unknown>;
  /** `INFO <sections>` of every master the client knows; rejects when it knows none. */
  infoOfMasters(sections: readonly string[]): Promise<unknown[]>;
}

/**
 * Run `commands` on a cluster, answering them in order. Scripts run one after the other, in the
 * order given (each as if alone); INFO runs after them, so that a failover that moved a script to
 * a new master shows in the INFO of the same call.
 */
export async function clusterExec(t: ClusterTransport, commands: readonly Command[]): Promise<unknown[]> {
  const replies: unknown[] = new Array(commands.length);
  for (let i = 0; i < commands.length; i++) {
    const command = commands[i]!;
    if (command.type === 'eval') replies[i] = await runEval(t, command);
  }
  for (let i = 0; i < commands.length; i++) {
    const command = commands[i]!;
    if (command.type === 'info') replies[i] = await mergedInfo(t, command);
  }
  return replies;
}

/** One command in one slot: its wire form (SET NX PX for a one-key acquire), EVAL on NOSCRIPT. */
async function single(t: ClusterTransport, command: EvalCommand): Promise<unknown> {
  const alone = [command];
  const [name, args] = wire(command, alone);
  const reply = await t.call(name, args);
  if (isNoScriptError(reply)) return t.call('EVAL', evalArgs(command));
  return replyOf(command, alone, reply);
}

function withKeys(command: EvalCommand, keys: readonly string[], args = command.args): EvalCommand {
  return { type: 'eval', script: command.script, keys, args };
}

async function runEval(t: ClusterTransport, command: EvalCommand): Promise<unknown> {
  if (command.script === batchScript) return runBatch(t, command);
  const groups = groupBySlot(command.keys);
  if (groups.length <= 1) return single(t, command);
  switch (command.script) {
    case acquireScript:
      return acquire(t, command);
    case releaseScript:
      return release(t, command, groups);
    case extendScript:
      return extend(t, command, groups);
    case repairScript:
      return repair(t, command, groups);
    case inspectScript:
      return inspect(t, command.keys, groups);
    default:
      return new Error(
        `${command.script.name}: its keys lie in ${groups.length} cluster slots and the script cannot be split by slot`,
      );
  }
}

/**
 * Acquire across slots, all or nothing for the node: the counter is read on its own, then each
 * slot group is acquired in ascending slot order, stopping at the first group held; the groups
 * already set are released before the node answers "held". A node answers "yes" only when every
 * group was set.
 */
async function acquire(t: ClusterTransport, command: EvalCommand): Promise<unknown> {
  const [value, ttl, nArg] = command.args as [string, string, string];
  const n = Number(nArg);
  const lockKeys = command.keys.slice(0, n);
  let counter = -1;
  if (command.keys.length > n) {
    const c = await t.call('GET', [command.keys[n]!]);
    if (c instanceof Error) return c;
    if (c !== null && c !== undefined) counter = Number(c);
  }
  const groups = groupBySlot(lockKeys);
  if (groups.length === 1) {
    const reply = await single(t, withKeys(command, lockKeys, [value, ttl, nArg]));
    return Array.isArray(reply) ? [reply[0], reply[1], counter] : reply;
  }
  const set: SlotGroup[] = [];
  let failure: unknown;
  for (const group of groups) {
    const sub = withKeys(command, group.keys, [value, ttl, String(group.keys.length)]);
    let reply: unknown;
    try {
      reply = await single(t, sub);
    } catch (error) {
      failure = error;
      break;
    }
    if (Array.isArray(reply) && Number(reply[0]) === 1) {
      set.push(group);
      continue;
    }
    failure = Array.isArray(reply) ? [0, group.indices[Number(reply[1]) - 1]! + 1, counter] : reply;
    break;
  }
  if (failure === undefined) return [1, 0, counter];
  try {
    for (const group of set) {
      const undo: EvalCommand = { type: 'eval', script: releaseScript, keys: group.keys, args: [value] };
      const undone = await single(t, undo);
      if (undone instanceof Error) throw undone;
    }
  } catch (error) {
    // Keys may be left set: an error is never a yes, and the core releases the node (R5).
    return new Error(`acquire across cluster slots failed and could not be undone: ${String(error)}`, {
      cause: error,
    });
  }
  if (Array.isArray(failure)) return failure;
  if (failure instanceof Error) return failure;
  throw failure;
}

async function release(t: ClusterTransport, command: EvalCommand, groups: SlotGroup[]): Promise<unknown> {
  let deleted = 0;
  let foreign = 0;
  for (const group of groups) {
    const reply = await single(t, withKeys(command, group.keys));
    if (!Array.isArray(reply)) return reply;
    deleted += Number(reply[0]);
    foreign += Number(reply[1]);
  }
  return [deleted, foreign];
}

/** Each key's value, read per slot group, in the order of `keys`; or the first error. */
async function values(
  t: ClusterTransport,
  keys: readonly string[],
  groups: SlotGroup[],
): Promise<Array<{ value: unknown; pttl: unknown }> | Error> {
  const out: Array<{ value: unknown; pttl: unknown }> = new Array(keys.length);
  for (const group of groups) {
    const reply = await single(t, { type: 'eval', script: inspectScript, keys: group.keys, args: [] });
    if (!Array.isArray(reply)) return reply instanceof Error ? reply : new Error(String(reply));
    group.indices.forEach((index, k) => {
      out[index] = { value: reply[2 * k], pttl: reply[2 * k + 1] };
    });
  }
  return out;
}

/**
 * Extend across slots: every key is read first, and nothing is extended unless every key holds
 * the value; then each group runs the strict extend. A key that expired between the two steps
 * makes that group (and the node's answer) a "no"; the groups extended before it held our value.
 */
async function extend(t: ClusterTransport, command: EvalCommand, groups: SlotGroup[]): Promise<unknown> {
  const read = await values(t, command.keys, groups);
  if (read instanceof Error) return read;
  const absent = read.filter((r) => typeof r.value !== 'string').length;
  const foreign = read.filter((r) => typeof r.value === 'string' && r.value !== command.args[0]).length;
  if (absent + foreign > 0) return [0, absent, foreign];
  for (const group of groups) {
    const reply = await single(t, withKeys(command, group.keys));
    if (!Array.isArray(reply) || Number(reply[0]) !== 1) return reply;
  }
  return [1, 0, 0];
}

/** Repair across slots: refused if any key is foreign (read first), else each group repaired. */
async function repair(t: ClusterTransport, command: EvalCommand, groups: SlotGroup[]): Promise<unknown> {
  const read = await values(t, command.keys, groups);
  if (read instanceof Error) return read;
  const foreign = read.findIndex((r) => typeof r.value === 'string' && r.value !== command.args[0]);
  if (foreign >= 0) return [0, foreign + 1];
  for (const group of groups) {
    const reply = await single(t, withKeys(command, group.keys));
    if (!Array.isArray(reply)) return reply;
    if (Number(reply[0]) !== 1) return [0, group.indices[Number(reply[1]) - 1]! + 1];
  }
  return [1, 0];
}

async function inspect(t: ClusterTransport, keys: readonly string[], groups: SlotGroup[]): Promise<unknown> {
  const read = await values(t, keys, groups);
  if (read instanceof Error) return read;
  return read.flatMap((r) => [r.value, r.pttl]);
}

/**
 * A batch script call (src/pipe.ts merges them; src/nodes.ts does not for a cluster node, but a
 * caller may still send one): each operation runs on its own, in order, and the replies take the
 * batch script's shape, `{1, reply}` or `{0, message}`.
 */
async function runBatch(t: ClusterTransport, command: EvalCommand): Promise<unknown> {
  const out: unknown[] = [];
  const args = command.args;
  let a = 1;
  let k = 0;
  for (let op = 0; op < Number(args[0]); op++) {
    const script = BATCHABLE[Number(args[a]) - 1];
    const nk = Number(args[a + 1]);
    const na = Number(args[a + 2]);
    a += 3;
    const opArgs = args.slice(a, a + na);
    a += na;
    const keys = command.keys.slice(k, k + nk);
    k += nk;
    if (script === undefined) return new Error(`${batchScript.name}: unknown script index`);
    const reply = await runEval(t, { type: 'eval', script, keys, args: opArgs });
    out.push(reply instanceof Error ? [0, reply.message] : [1, reply]);
  }
  return out;
}

/**
 * One INFO for the whole cluster, read from every master: the node is as weak as its weakest
 * master. `run_id` names the set of master run_ids (a failover or restart inside the cluster
 * changes it), `uptime_in_seconds` is the smallest, `aof_enabled` is 1 only if every master's
 * is, `maxmemory_policy` is the first that is not noeviction, `role` master only if all are.
 */
async function mergedInfo(t: ClusterTransport, command: InfoCommand): Promise<unknown> {
  let texts: unknown[];
  try {
    texts = await t.infoOfMasters(command.sections);
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  const failed = texts.find((text) => typeof text !== 'string');
  if (failed !== undefined) return failed instanceof Error ? failed : new Error('INFO of a master failed');
  return mergeInfo(texts as string[]);
}

/** The merged INFO text of a cluster's masters (see {@link mergedInfo}). */
export function mergeInfo(texts: readonly string[]): string {
  const field = (name: string) => texts.map((text) => infoField(text, name));
  const runIds = field('run_id');
  if (runIds.some((id) => id === undefined)) return texts.find((_, i) => runIds[i] === undefined)!;
  const runId = createHash('sha1')
    .update([...(runIds as string[])].sort().join(','))
    .digest('hex');
  const lines = [`# Server`, `run_id:${runId}`, `cluster_masters:${texts.length}`];
  const version = field('redis_version')[0];
  if (version !== undefined) lines.push(`redis_version:${version}`);
  const uptimes = field('uptime_in_seconds').filter((u) => u !== undefined);
  if (uptimes.length === texts.length) lines.push(`uptime_in_seconds:${Math.min(...uptimes.map(Number))}`);
  const policies = field('maxmemory_policy');
  if (policies.every((p) => p !== undefined)) {
    lines.push(`maxmemory_policy:${policies.find((p) => p !== 'noeviction') ?? 'noeviction'}`);
  }
  const aof = field('aof_enabled');
  if (aof.every((x) => x !== undefined)) lines.push(`aof_enabled:${aof.every((x) => x === '1') ? 1 : 0}`);
  const roles = field('role');
  if (roles.every((r) => r !== undefined)) {
    lines.push(`role:${roles.find((r) => r !== 'master') ?? 'master'}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}
