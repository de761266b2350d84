import { type Command, type EvalCommand, isNoScriptError, type Reply } from '../adapter.js';
import { acquireScript } from '../scripts/acquire.js';

/** EVALSHA arguments: sha, numkeys, keys..., args... */
export function evalshaArgs(command: EvalCommand): string[] {
  return [command.script.sha, String(command.keys.length), ...command.keys, ...command.args];
}

/** EVAL arguments: source, numkeys, keys..., args... */
export function evalArgs(command: EvalCommand): string[] {
  return [command.script.source, String(command.keys.length), ...command.keys, ...command.args];
}

/**
 * True for an acquire of one key without a fencing counter, alone among the call's scripts: the
 * acquire script then runs exactly `SET key value NX PX ttl`, so it goes on the wire as that
 * command (ADR 015): one command for the server instead of a script call and the SET inside it,
 * and no NOSCRIPT detour. Only alone: a script before it that met NOSCRIPT runs again after the
 * call, and must not find a SET overtook it.
 */
export function isPlainSet(command: Command, commands: readonly Command[]): boolean {
  if (
    command.type !== 'eval' ||
    command.script !== acquireScript ||
    command.keys.length !== 1 ||
    command.args[2] !== '1'
  ) {
    return false;
  }
  let scripts = 0;
  for (const other of commands) if (other.type === 'eval') scripts++;
  return scripts === 1;
}

/**
 * The wire form of `command`, one of the call's `commands`: EVALSHA for scripts, SET NX PX for a
 * plain acquire, INFO.
 */
export function wire(command: Command, commands: readonly Command[]): [name: string, args: string[]] {
  if (command.type === 'info') return ['INFO', [...command.sections]];
  if (isPlainSet(command, commands)) {
    return ['SET', [command.keys[0]!, command.args[0]!, 'NX', 'PX', command.args[1]!]];
  }
  return ['EVALSHA', evalshaArgs(command)];
}

/** The acquire script's replies for one key and no counter: `{1, 0, -1}` set, `{0, 1, -1}` held. */
const SET_REPLY = Object.freeze([1, 0, -1]);
const HELD_REPLY = Object.freeze([0, 1, -1]);

/**
 * A reply read back as the command's own: the reply of a plain SET (ADR 015) becomes the acquire
 * script's (`OK` set, nil held); an error reply, and every other command's reply, as it came.
 */
export function replyOf(command: Command, commands: readonly Command[], reply: unknown): unknown {
  if (reply instanceof Error || !isPlainSet(command, commands)) return reply;
  if (reply === 'OK') return SET_REPLY;
  if (reply === null) return HELD_REPLY;
  return new TypeError(`unexpected reply to SET NX PX: ${JSON.stringify(reply)}`);
}

export function endpointOf(host: unknown, port: unknown, db: unknown, path?: unknown): string {
  if (typeof path === 'string' && path) return `${path}/${db ?? 0}`;
  return `${typeof host === 'string' && host ? host : 'localhost'}:${port ?? 6379}/${db ?? 0}`;
}

/**
 * node-redis error replies are `ErrorReply` instances (v5: `SimpleError extends ErrorReply`): keep
 * them as the command's answer. Checked by class name along the prototype chain, so the adapter
 * imports nothing from the client. Anything else is a failed call, thrown again.
 */
export function errorReplyOrThrow(error: unknown): Error {
  for (
    let proto = error instanceof Error ? Object.getPrototypeOf(error) : null;
    proto;
    proto = Object.getPrototypeOf(proto)
  ) {
    if (proto.constructor?.name === 'ErrorReply') return error as Error;
  }
  throw error;
}

/**
 * `exec` for a client that sends one command at a time (node-redis, GLIDE): every command is
 * issued at once, in order, each as EVALSHA with EVAL on NOSCRIPT (or as its wire form). An error
 * reply, as `replyOrThrow` recognises it, stays in its command's slot; any other failure (closed,
 * refused) fails the whole call.
 */
export async function execEach(
  commands: readonly Command[],
  send: (args: string[]) => Promise<unknown>,
  replyOrThrow: (error: unknown) => Error,
): Promise<Reply[]> {
  const run = async (command: Command): Promise<unknown> => {
    const [name, args] = wire(command, commands);
    try {
      return replyOf(command, commands, await send([name, ...args]));
    } catch (error) {
      if (command.type === 'eval' && isNoScriptError(error)) {
        try {
          return await send(['EVAL', ...evalArgs(command)]);
        } catch (again) {
          return replyOrThrow(again);
        }
      }
      return replyOrThrow(error);
    }
  };
  const replies = await Promise.allSettled(commands.map(run));
  const failed = replies.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return replies.map((r) => (r as PromiseFulfilledResult<unknown>).value);
}
