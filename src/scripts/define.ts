import { createHash } from 'node:crypto';
import type { Script } from '../client.js';

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
