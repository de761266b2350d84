import type { Command, EvalCommand } from '../adapter.js';

/** EVALSHA arguments: sha, numkeys, keys..., args... */
export function evalshaArgs(command: EvalCommand): string[] {
  return [command.script.sha, String(command.keys.length), ...command.keys, ...command.args];
}

/** EVAL arguments: source, numkeys, keys..., args... */
export function evalArgs(command: EvalCommand): string[] {
  return [command.script.source, String(command.keys.length), ...command.keys, ...command.args];
}

/** The wire form of a command, EVALSHA for scripts. */
export function wire(command: Command): [name: string, args: string[]] {
  return command.type === 'eval' ? ['EVALSHA', evalshaArgs(command)] : ['INFO', [...command.sections]];
}

export function endpointOf(host: unknown, port: unknown, db: unknown, path?: unknown): string {
  if (typeof path === 'string' && path) return `${path}/${db ?? 0}`;
  return `${typeof host === 'string' && host ? host : 'localhost'}:${port ?? 6379}/${db ?? 0}`;
}
