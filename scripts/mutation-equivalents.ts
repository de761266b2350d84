/**
 * Surviving mutants that no test can kill, each with the reason (docs/testing.md lists them).
 * A survivor is matched by its file, line, mutator, replacement and the trimmed text of that
 * line: when the code moves or changes, the entry stops matching and `npm run mutation` reports
 * the survivor again (NO REASON) until someone re-examines it and updates the entry.
 */
export interface Equivalent {
  readonly file: string;
  /** The line where the mutant starts. */
  readonly line: number;
  readonly mutator: string;
  readonly replacement: string;
  /** The trimmed text of that line. */
  readonly code: string;
  readonly reason: string;
}

export const EQUIVALENT: readonly Equivalent[] = [
  {
    file: 'src/inspect.ts',
    line: 43,
    mutator: 'ArrayDeclaration',
    replacement: '["Stryker was here"]',
    code: "{ type: 'eval', script: inspectScript, keys, args: [] },",
    reason: 'the inspect script reads no ARGV, so an argument changes nothing it returns',
  },
  {
    file: 'src/inspect.ts',
    line: 52,
    mutator: 'BooleanLiteral',
    replacement: 'false',
    code: "return { outcome: entries.some((e) => e.holder !== null) ? 'held' : 'not-held', yes: true };",
    reason:
      "an inspect round runs in 'all' mode, where votes decide nothing, and the result reads outcomes and keys only",
  },
  {
    file: 'src/handoff.ts',
    line: 27,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (queue.length === 0) this.#waiting.delete(id);',
    reason:
      'an empty queue left in the map behaves as no queue: released() finds no first waiter, and the next wait() appends to it; the delete only frees memory (one entry per resource ever waited on), which no test can observe',
  },
  {
    file: 'src/lease.ts',
    line: 49,
    mutator: 'UpdateOperator',
    replacement: 'this.#inFlight--',
    code: 'this.#inFlight++;',
    reason:
      'the in-flight count only decides when the list of bounds is emptied; a bound is only ever applied to a renew numbered before it, so keeping the list longer changes no deadline',
  },
  {
    file: 'src/lease.ts',
    line: 58,
    mutator: 'EqualityOperator',
    replacement: 's.bound <= deadline',
    code: 'for (const s of this.#sent) if (s.seq > seq && s.bound < deadline) deadline = s.bound;',
    reason: 'a bound equal to the deadline leaves it the same',
  },
  {
    file: 'src/lease.ts',
    line: 61,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (--this.#inFlight === 0) this.#sent = [];',
    reason:
      'as for line 49: emptying the list of bounds is bookkeeping; a later renew has a higher number than every bound left in it',
  },
  {
    file: 'src/lease.ts',
    line: 61,
    mutator: 'UpdateOperator',
    replacement: '++this.#inFlight',
    code: 'if (--this.#inFlight === 0) this.#sent = [];',
    reason: 'as for line 49',
  },
  {
    file: 'src/keys.ts',
    line: 22,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text of a source line, not a template
    code: 'return `${nodesId}|${keys.length === 1 ? keys[0] : [...keys].sort().join(RESERVED)}`;',
    reason: 'sorting and joining a single key gives that key: the branch only saves an allocation',
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
    file: 'src/primitive.ts',
    line: 72,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (!active(channels.acquire)) return run();',
    reason:
      'traced() (src/diagnostics.ts) starts with the same test and then calls run directly; this copy only saves building the trace context on the untraced path',
  },
  {
    file: 'src/primitive.ts',
    line: 106,
    mutator: 'StringLiteral',
    replacement: '""',
    code: "requireValue('value', value);",
    reason:
      "renewValue's only caller, Semaphore.renew, has already checked the value under the same name (requirePermitValue), so this check never refuses",
  },
  {
    file: 'src/primitive.ts',
    line: 121,
    mutator: 'StringLiteral',
    replacement: '""',
    code: "requireValue('value', value);",
    reason:
      "releaseValue's only caller, Semaphore.release, has already checked the value under the same name (requirePermitValue), so this check never refuses",
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
    file: 'src/validity.ts',
    line: 40,
    mutator: 'ArithmeticOperator',
    replacement: 'MIN_VALIDITY_MS - 2',
    code: 'let low = MIN_VALIDITY_MS + 2;',
    reason:
      'no TTL below 12 leaves 10 ms (drift is at least 2 ms), so a lower start fails the shortcut and the search, over a range whose bottom leaves too little either way, finds the same least TTL in more steps',
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
    file: 'src/acquire.ts',
    line: 215,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: "if (failure !== 'unavailable' || !cappedByValidity) return failure;",
    reason:
      "the operand `failure !== 'unavailable'` made false: a contended round has no timeout (the round's one timer adds only timeouts, so refusals that make quorum impossible decide the vote before it fires), and without a timeout the function returns the failure anyway",
  },
  {
    file: 'src/acquire.ts',
    line: 216,
    mutator: 'ConditionalExpression',
    replacement: 'true',
    code: "const timedOut = reports.some((n) => n.outcome === 'timeout');",
    reason:
      'differs only for a lost, unavailable round without a timeout whose nodes all said acquired, held or pending, and there is none: those nodes number at least the quorum when the refusals are too few for contended, so the vote could not have been lost',
  },
  {
    file: 'src/clock.ts',
    line: 83,
    mutator: 'EqualityOperator',
    replacement: 'target.length >= POOL_SIZE',
    code: 'if (target.length > POOL_SIZE) {',
    reason:
      "differs only for a target of exactly the pool's size, which gets the bytes of a fresh CSPRNG call either way; the mutant merely keeps the unused rest of the pool for later values, each byte still handed out once",
  },
  {
    file: 'src/fencing.ts',
    line: 83,
    mutator: 'BooleanLiteral',
    replacement: 'false',
    code: "return { outcome: r.created ? 'claimed' : 'too-low', yes: true, counter: r.value };",
    reason:
      "initFencing's round runs in 'all' mode, where votes decide nothing; ready and highest are read from the counters",
  },
  {
    file: 'src/pipe.ts',
    line: 123,
    mutator: 'ArrayDeclaration',
    replacement: '["Stryker was here"]',
    code: 'let fromScripts: (replies: Reply[]) => Reply[] = () => [];',
    reason:
      'kept only when the merged entries carry no script, and then every reply comes from a command slot: the list is never read',
  },
  {
    file: 'src/pipe.ts',
    line: 127,
    mutator: 'EqualityOperator',
    replacement: 'scripts.length >= 1',
    code: '} else if (scripts.length > 1) {',
    reason:
      'reached only when the count is not 1 (the branch before takes it), and for 0 or more than 1 the two tests agree',
  },
  {
    file: 'src/fencing.ts',
    line: 58,
    mutator: 'ConditionalExpression',
    replacement: 'true',
    code: "proposal = 1 + Math.max(proposal, ...nodes.map((n) => (n.outcome === 'too-low' ? (n.counter ?? 0) : 0)));",
    reason:
      'only a too-low answer carries a counter above the proposal: a claimed one carries the proposal itself (the claim script returns {1, T}), an absent one null, the others none',
  },
];
