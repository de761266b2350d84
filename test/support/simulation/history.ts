import type { Command } from '../../../src/adapter.js';
import { operationsOf } from './operations.js';

/** One line of a simulation's history: who did what, when (true virtual ms). */
export interface HistoryEntry {
  readonly at: number;
  /** `c0`… for clients, `n0`… for nodes, `world` for the fault schedule. */
  readonly actor: string;
  /** The event; a function is formatted only when the history is printed (messages are many). */
  readonly text: string | (() => string);
}

/**
 * The record of one simulated run, kept as plain lines so a failure can print exactly who sent
 * what to which node when, and what each node's clock read when it executed.
 */
export class History {
  readonly entries: HistoryEntry[] = [];
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Record an event now. A lazy `text` must capture any changing state (a clock) eagerly. */
  add(actor: string, text: string | (() => string)): void {
    this.entries.push({ at: this.#now(), actor, text });
  }

  /** The last `limit` lines, one per entry. */
  format(limit = 400): string {
    const shown = this.entries.slice(-limit);
    const skipped = this.entries.length - shown.length;
    const lines = shown.map(
      (e) =>
        `${e.at.toFixed(1).padStart(9)}  ${e.actor.padEnd(5)} ${typeof e.text === 'string' ? e.text : e.text()}`,
    );
    return (skipped > 0 ? [`  … ${skipped} earlier entries`] : []).concat(lines).join('\n');
  }
}

/** A short, readable account of a command: script, keys, value prefix, ttl. */
export function describeCommand(command: Command): string {
  if (command.type === 'info') return 'INFO';
  const ops = operationsOf(command).map((op) => {
    const name = op.script.replace(/^quorumlock:/, '');
    const [value, ttl] = op.args;
    return `${name} ${op.keys.join(',')} v=${shortValue(value)}${ttl !== undefined && name !== 'release' ? ` ttl=${ttl}` : ''}`;
  });
  return command.script.name === 'quorumlock:batch' ? `batch[${ops.join('; ')}]` : ops.join('; ');
}

export function describeReply(reply: unknown): string {
  if (reply instanceof Error) return `ERR(${reply.message.slice(0, 40)})`;
  if (typeof reply === 'string') return reply.startsWith('# Server') ? 'info' : JSON.stringify(reply);
  return JSON.stringify(reply);
}

export function shortValue(value: string | null | undefined): string {
  return value == null ? '∅' : value.slice(0, 6);
}
