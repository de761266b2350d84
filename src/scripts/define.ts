import { createHash } from 'node:crypto';

/**
 * A Lua script with its SHA1, computed once. Scripts are data: this folder imports nothing from
 * the core, and the in-memory test node picks its implementation by `name`.
 */
export interface Script {
  /** Stable name, also used by the in-memory node to pick its implementation. */
  readonly name: string;
  readonly source: string;
  /** Lowercase hex SHA1 of `source`, as `SCRIPT LOAD` returns it. */
  readonly sha: string;
}

export function defineScript(name: string, source: string): Script {
  return Object.freeze({ name, source, sha: createHash('sha1').update(source).digest('hex') });
}

/** Read `{a, b, ...}` integer replies; anything else is a protocol surprise worth an error. */
export function integers(reply: unknown, script: Script, length: number): number[] {
  if (!Array.isArray(reply) || reply.length < length) {
    throw new TypeError(`unexpected reply to ${script.name}: ${JSON.stringify(reply)}`);
  }
  return reply.map(Number);
}
