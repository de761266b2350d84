import type { Command, EvalCommand, RedisClient, Reply } from './adapter.js';
import { BATCHABLE, batchScript } from './scripts/batch.js';

interface Entry {
  readonly commands: readonly Command[];
  readonly resolve: (replies: Reply[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The way to one node. A call with nothing in flight and nothing queued goes out at once. Other
 * calls issued in the same turn of the event loop (the same cascade of promise callbacks) are sent
 * together at its end, as one call whose scripts are merged into a single batch script call
 * (ADR 009). Nothing ever waits for a reply before being sent, so a slow or hung node delays no
 * other call.
 *
 * Under load this batches by itself: the operations of one batch complete together (one reply
 * carries them all), so their callers' next operations are issued in the same turn again.
 */
export class NodePipe {
  readonly #client: RedisClient;
  #queue: Entry[] = [];
  /** Calls sent and not answered yet. */
  #inFlight = 0;
  readonly #flush = () => this.#send();

  constructor(client: RedisClient) {
    this.#client = client;
  }

  send(commands: readonly Command[]): Promise<Reply[]> {
    // Nothing in flight and nothing queued: no one to share the call with, so send it now, with
    // no entry and no promise of our own around the client's.
    if (this.#inFlight === 0 && this.#queue.length === 0) return this.#direct(commands);
    return new Promise((resolve, reject) => {
      if (this.#queue.push({ commands, resolve, reject }) === 1) process.nextTick(this.#flush);
    });
  }

  #direct(commands: readonly Command[]): Promise<Reply[]> {
    this.#inFlight++;
    let call: Promise<Reply[]>;
    try {
      call = this.#client.exec(commands);
    } catch (error) {
      call = Promise.reject(error);
    }
    return call.then(this.#answered, this.#failed);
  }

  readonly #answered = (replies: Reply[]): Reply[] => {
    this.#inFlight--;
    return replies;
  };

  readonly #failed = (error: unknown): never => {
    this.#inFlight--;
    throw error;
  };

  #send(): void {
    const entries = this.#queue;
    this.#queue = [];
    this.#dispatch(entries);
  }

  #dispatch(entries: Entry[]): void {
    this.#inFlight++;
    const done = () => {
      this.#inFlight--;
    };
    const plan = entries.length === 1 ? undefined : merge(entries);
    let call: Promise<Reply[]>;
    try {
      call = this.#client.exec(plan ? plan.commands : entries[0]!.commands);
    } catch (error) {
      call = Promise.reject(error);
    }
    call.finally(done).catch(() => {});
    call.then(
      (replies) => {
        if (!plan) {
          entries[0]!.resolve(replies);
          return;
        }
        let split: Reply[][];
        try {
          split = plan.split(replies);
        } catch (error) {
          for (const e of entries) e.reject(error);
          return;
        }
        entries.forEach((e, i) => {
          e.resolve(split[i]!);
        });
      },
      (error: unknown) => {
        for (const e of entries) e.reject(error);
      },
    );
  }
}

/**
 * One call for several entries: INFO commands as they are, every batchable script call merged
 * into one batch script call at the end; `split` hands each entry its replies in its own order.
 */
function merge(entries: readonly Entry[]): { commands: Command[]; split: (replies: Reply[]) => Reply[][] } {
  const commands: Command[] = [];
  const scripts: EvalCommand[] = [];
  // Where each entry's replies come from: a command slot, or an index into the batch.
  const sources = entries.map((entry) =>
    entry.commands.map((command) => {
      if (command.type === 'eval' && batchable(command)) {
        scripts.push(command);
        return { batch: scripts.length - 1 };
      }
      commands.push(command);
      return { slot: commands.length - 1 };
    }),
  );
  // Every script in one batch call; a lone script needs no batch wrapper.
  let fromScripts: (replies: Reply[]) => Reply[] = () => [];
  if (scripts.length === 1) {
    const slot = commands.push(scripts[0]!) - 1;
    fromScripts = (replies) => [replies[slot]];
  } else if (scripts.length > 1) {
    const slot = commands.push(encodeBatch(scripts)) - 1;
    fromScripts = (replies) => batchReplies(replies[slot], scripts.length);
  }
  return {
    commands,
    split(replies) {
      const batch = fromScripts(replies);
      return sources.map((entry) => entry.map((s) => ('slot' in s ? replies[s.slot] : batch[s.batch])));
    },
  };
}

/** The batch call's reply, or its error repeated for every operation it carried. */
function batchReplies(reply: Reply, count: number): Reply[] {
  if (reply instanceof Error) return new Array(count).fill(reply);
  return decodeBatch(reply, count);
}

/** 1-based index of each batchable script in the batch script's table, by SHA1. */
const INDEX = new Map(BATCHABLE.map((script, i) => [script.sha, i + 1]));

/** Whether this command can travel inside a batch call. */
export function batchable(command: EvalCommand): boolean {
  return INDEX.has(command.script.sha);
}

/** One batch call carrying `commands` (all batchable), in order: the layout batchScript reads. */
export function encodeBatch(commands: readonly EvalCommand[]): EvalCommand {
  const keys: string[] = [];
  const args: string[] = [String(commands.length)];
  for (const command of commands) {
    args.push(
      String(INDEX.get(command.script.sha)),
      String(command.keys.length),
      String(command.args.length),
    );
    for (const key of command.keys) keys.push(key);
    for (const arg of command.args) args.push(arg);
  }
  return { type: 'eval', script: batchScript, keys, args };
}

/** Split a batch reply into one reply (or Error) per operation. */
export function decodeBatch(reply: unknown, count: number): unknown[] {
  if (!Array.isArray(reply) || reply.length !== count) {
    throw new TypeError(`unexpected reply to ${batchScript.name}: ${JSON.stringify(reply)}`);
  }
  return reply.map((entry) => {
    if (!Array.isArray(entry)) return new TypeError(`unexpected entry in ${batchScript.name} reply`);
    return Number(entry[0]) === 1 ? entry[1] : new Error(String(entry[1]));
  });
}
