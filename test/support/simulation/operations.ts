import type { Command, EvalCommand, Script } from '../../../src/adapter.js';
import * as scripts from '../../../src/scripts/index.js';

/** One script operation a call carries: its script's name, its keys and its arguments. */
export interface Operation {
  readonly script: string;
  readonly keys: readonly string[];
  readonly args: readonly string[];
}

const BATCH = 'quorumlock:batch';

/**
 * The scripts a batch call can carry, by 1-based index, when the core batches (coalesced calls
 * to one node travel as one batch script call, ADR 009); undefined in a core without batching.
 */
function batchTable(): readonly Script[] | undefined {
  return (scripts as Record<string, unknown>).BATCHABLE as readonly Script[] | undefined;
}

/**
 * The operations in a command: the command itself, or each operation of a batch call
 * (ARGV[1] = count, then per operation: script index, number of keys, number of args, args).
 */
export function operationsOf(command: Command): Operation[] {
  if (command.type !== 'eval') return [];
  if (command.script.name !== BATCH)
    return [{ script: command.script.name, keys: command.keys, args: command.args }];
  const table = batchTable();
  if (!table) throw new Error(`${BATCH} call without a batch table in src/scripts`);
  const ops: Operation[] = [];
  let k = 0;
  let a = 1;
  for (let op = 0; op < Number(command.args[0]); op++) {
    const [id, nk, na] = [Number(command.args[a]), Number(command.args[a + 1]), Number(command.args[a + 2])];
    a += 3;
    ops.push({
      script: table[id - 1]?.name ?? `unknown#${id}`,
      keys: command.keys.slice(k, k + nk),
      args: command.args.slice(a, a + na),
    });
    k += nk;
    a += na;
  }
  return ops;
}

/** `command` with every operation's arguments passed through `rewrite` (same shape, same order). */
export function rewriteOperations(
  command: EvalCommand,
  rewrite: (op: Operation) => readonly string[],
): EvalCommand {
  if (command.script.name !== BATCH) {
    return {
      ...command,
      args: rewrite({ script: command.script.name, keys: command.keys, args: command.args }),
    };
  }
  const args = [command.args[0]!];
  let a = 1;
  for (const op of operationsOf(command)) {
    const header = command.args.slice(a, a + 3);
    const replaced = rewrite(op);
    if (replaced.length !== op.args.length)
      throw new Error('rewriteOperations: the argument count must not change');
    args.push(...header, ...replaced);
    a += 3 + op.args.length;
  }
  return { ...command, args };
}

/** The lock value an operation carries (ARGV[1] of acquire, release, extend and repair). */
export function lockValueOf(op: Operation): string {
  return op.args[0] ?? '';
}

export function isLockOperation(op: Operation): boolean {
  return ['quorumlock:acquire', 'quorumlock:release', 'quorumlock:extend', 'quorumlock:repair'].includes(
    op.script,
  );
}

/**
 * The reply of each operation in a command, given the command's reply: the reply itself, or
 * each entry of a batch reply ({1, reply} or {0, error message} per operation).
 */
export function operationReplies(command: Command, reply: unknown): unknown[] {
  if (command.type !== 'eval') return [];
  if (command.script.name !== BATCH) return [reply];
  const count = Number(command.args[0]);
  if (!Array.isArray(reply)) return new Array(count).fill(reply);
  return reply.map((entry: unknown) =>
    Array.isArray(entry) && Number(entry[0]) === 1 ? entry[1] : new Error(String((entry as unknown[])?.[1])),
  );
}
