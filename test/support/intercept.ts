import type { Command, RedisClient, Reply } from '../../src/adapter.js';

/** What an interceptor does with one call: pass its replies on (possibly rewritten), or lose them. */
export type Interception = { readonly replies: Reply[] } | 'drop-reply';

/**
 * Wrap adapters so a test can rewrite or lose the replies of chosen calls. The node executes
 * every call as usual; `decide` sees the node's index, the call number on that node (1-based),
 * the commands and their replies.
 */
export function intercept(
  clients: readonly RedisClient[],
  decide: (node: number, call: number, commands: readonly Command[], replies: Reply[]) => Interception,
): RedisClient[] {
  return clients.map((client, node) => {
    let calls = 0;
    return {
      endpoint: client.endpoint,
      async exec(commands) {
        const call = ++calls;
        const replies = await client.exec(commands);
        const outcome = decide(node, call, commands, replies);
        if (outcome === 'drop-reply') return new Promise<never>(() => {});
        return outcome.replies;
      },
    };
  });
}

/** Whether a call carries a script of this name (unbatched, as a lone operation sends it). */
export function carries(commands: readonly Command[], scriptName: string): boolean {
  return commands.some((c) => c.type === 'eval' && c.script.name === scriptName);
}
