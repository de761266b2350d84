import type { Equivalent } from './equivalent.js';

/** The equivalent survivors of the modules where every survivor needs a reason (STRICT in scripts/mutation.ts). */
export const STRICT_EQUIVALENTS: readonly Equivalent[] = [
  {
    file: 'src/keeper.ts',
    line: 114,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (this.#stopped) return;',
    reason:
      'in #arm: every caller (the constructor on a live lease, #after, #retrySoon) has just checked that the keeper is not stopped',
  },
  {
    file: 'src/keeper.ts',
    line: 123,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (this.#stopped) return;',
    reason:
      'in #armWatchdog: called from #arm after its own check, or by the lease, which forgets the watcher when the keeper stops or loses',
  },
  {
    file: 'src/keeper.ts',
    line: 138,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (this.#stopped || this.#inFlight) return;',
    reason:
      "in #renew: its timer is cleared on stop and loss, and armed again only from the settled renew's handler, whose timer cannot fire before the .finally that clears #inFlight",
  },
  {
    file: 'src/keeper.ts',
    line: 138,
    mutator: 'LogicalOperator',
    replacement: 'this.#stopped && this.#inFlight',
    code: 'if (this.#stopped || this.#inFlight) return;',
    reason: 'as above: neither condition can hold when the renew timer fires',
  },
  {
    file: 'src/keeper.ts',
    line: 172,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (this.#stopped) return;',
    reason:
      'in #retrySoon: #arm, which it calls, returns on a stopped keeper after clearing the (already cleared) timers',
  },
  {
    file: 'src/keeper.ts',
    line: 177,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (this.#stopped) return;',
    reason:
      'in #lose: its callers cannot run once stopped (the watcher is forgotten, the watchdog cleared, #after checks first)',
  },
  {
    file: 'src/leader.ts',
    line: 161,
    mutator: 'ObjectLiteral',
    replacement: '{}',
    code: "signal.addEventListener('abort', onStop, { once: true });",
    reason:
      'the listener is removed right after the race, whichever side won, and the stop signal aborts once',
  },
  {
    file: 'src/leader.ts',
    line: 161,
    mutator: 'BooleanLiteral',
    replacement: 'false',
    code: "signal.addEventListener('abort', onStop, { once: true });",
    reason:
      'the listener is removed right after the race, whichever side won, and the stop signal aborts once',
  },
  {
    file: 'src/quorum.ts',
    line: 83,
    mutator: 'ArrayDeclaration',
    replacement: 'new Array()',
    code: 'const settled: boolean[] = new Array(n).fill(false);',
    reason: 'an empty array reads undefined at every index, as falsy as the false it was filled with',
  },
  {
    file: 'src/quorum.ts',
    line: 100,
    mutator: 'MethodExpression',
    replacement: 'reports',
    code: 'const nodes = reports.slice();',
    reason:
      'in decide(): once decided, settle() writes only `outcomes` (the stragglers of a lost vote) and onAbort returns, so nothing writes to reports: the copy equals the array',
  },
  {
    file: 'src/quorum.ts',
    line: 113,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (decided) return;',
    reason:
      'in check(): settle() returns before it once decided; the check after the sends follows a decision only if a send aborted the signal, and then every node is settled with no vote, so deciding again resolves a settled promise (a no-op) with no `final`',
  },
  {
    file: 'src/quorum.ts',
    line: 123,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (settled[i]) return;',
    reason:
      'in settle(): each of its three callers (the timer, the reply and the rejection handlers) has just checked that the node is unsettled',
  },
  {
    file: 'src/quorum.ts',
    line: 167,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (decided) return;',
    reason:
      'in onAbort: decide() removes this listener, and the already-aborted path never adds it, so it never runs after the decision',
  },
  {
    file: 'src/quorum.ts',
    line: 171,
    mutator: 'UpdateOperator',
    replacement: 'pending++',
    code: 'pending--;',
    reason:
      "in onAbort: every node is settled and the round decided 'aborted' right after; decide() reads pending only for a 'lost' decision, and settle never runs again",
  },
  {
    file: 'src/quorum.ts',
    line: 180,
    mutator: 'BooleanLiteral',
    replacement: 'false',
    code: 'decided = true;',
    reason:
      'in the already-aborted path: it returns at once, before any send, timer or listener that could read decided',
  },
  {
    file: 'src/quorum.ts',
    line: 181,
    mutator: 'MethodExpression',
    replacement: 'reports',
    code: "resolve({ decision: 'aborted', votes: 0, startMs, decidedMs: startMs, nodes: reports.slice() });",
    reason: 'nothing is sent and nothing armed on this path, so nothing writes to reports afterwards',
  },
  {
    file: 'src/quorum.ts',
    line: 184,
    mutator: 'ObjectLiteral',
    replacement: '{}',
    code: "signal?.addEventListener('abort', onAbort, { once: true });",
    reason: 'decide() removes the listener whichever way the round ends, and an AbortSignal fires once',
  },
  {
    file: 'src/quorum.ts',
    line: 184,
    mutator: 'BooleanLiteral',
    replacement: 'false',
    code: "signal?.addEventListener('abort', onAbort, { once: true });",
    reason: 'decide() removes the listener whichever way the round ends, and an AbortSignal fires once',
  },
  {
    file: 'src/quorum.ts',
    line: 186,
    mutator: 'ConditionalExpression',
    replacement: 'true',
    code: "for (let i = 0; i < n; i++) if (!settled[i]) settle(i, { outcome: 'timeout', yes: false }, null);",
    reason: 'settle() itself returns for a node already settled',
  },
  {
    file: 'src/quorum.ts',
    line: 234,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (settled[i]) return;',
    reason:
      'in the rejection handler, after the watcher is told: settle() itself returns for a node already settled, and reading the clock or wrapping the error has no effect',
  },
  {
    file: 'src/release.ts',
    line: 44,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (!active(channels.release))',
    reason:
      'traced() (src/diagnostics.ts) starts with the same test and then calls releaseRound directly; this copy only saves building the trace context on the untraced path',
  },
  {
    file: 'src/renew.ts',
    line: 44,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (!active(channels.renew)) return renewRound(core, resources, value, ttl, held, signal, protocol);',
    reason:
      'traced() (src/diagnostics.ts) starts with the same test and then calls renewRound directly; this copy only saves building the trace context on the untraced path',
  },
  {
    file: 'src/renew.ts',
    line: 137,
    mutator: 'BlockStatement',
    replacement: '{}',
    code: '} finally {',
    reason:
      "a failed renew's own bound was applied when it was sent; settling it only lowers the in-flight count that empties the list of bounds, and every bound left in that list has a lower sequence number than any later renew, so it never bounds one (the list only grows)",
  },
  {
    file: 'src/validity.ts',
    line: 40,
    mutator: 'ArithmeticOperator',
    replacement: 'MIN_VALIDITY_MS - 2',
    code: 'let low = MIN_VALIDITY_MS + 2;',
    reason:
      'no TTL below 12 leaves 10 ms (drift is at least 2 ms), so a lower start fails the shortcut and the search, over a range whose bottom leaves too little either way, finds the same least TTL in more steps',
  },
];
