import type { Equivalent } from './equivalent.js';

/** The equivalent survivors of the other core modules. */
export const OTHER_EQUIVALENTS: readonly Equivalent[] = [
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
    line: 58,
    mutator: 'ConditionalExpression',
    replacement: 'true',
    code: "proposal = 1 + Math.max(proposal, ...nodes.map((n) => (n.outcome === 'too-low' ? (n.counter ?? 0) : 0)));",
    reason:
      'only a too-low answer carries a counter above the proposal: a claimed one carries the proposal itself (the claim script returns {1, T}), an absent one null, the others none',
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
    file: 'src/handoff.ts',
    line: 27,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (queue.length === 0) this.#waiting.delete(id);',
    reason:
      'an empty queue left in the map behaves as no queue: released() finds no first waiter, and the next wait() appends to it; the delete only frees memory (one entry per resource ever waited on), which no test can observe',
  },
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
    file: 'src/keys.ts',
    line: 22,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text of a source line, not a template
    code: 'return `${nodesId}|${keys.length === 1 ? keys[0] : [...keys].sort().join(RESERVED)}`;',
    reason: 'sorting and joining a single key gives that key: the branch only saves an allocation',
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
    file: 'src/nodes.ts',
    line: 64,
    mutator: 'AssignmentOperator',
    replacement: 'this.#inFlight -= delta',
    code: 'this.#inFlight += delta;',
    reason:
      'the count is only compared with 0, and every call adds and later takes away the same delta: counted down, k calls in flight read -k instead of k',
  },
  {
    file: 'src/nodes.ts',
    line: 65,
    mutator: 'ConditionalExpression',
    replacement: 'true',
    code: 'if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {',
    reason: 'with no idle waiter the block swaps an empty list for another and calls no one',
  },
  {
    file: 'src/nodes.ts',
    line: 65,
    mutator: 'EqualityOperator',
    replacement: 'this.#idleWaiters.length >= 0',
    code: 'if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {',
    reason: 'with no idle waiter the block swaps an empty list for another and calls no one',
  },
  {
    file: 'src/nodes.ts',
    line: 283,
    mutator: 'StringLiteral',
    replacement: '""',
    code: "'PERSISTENCE',",
    reason:
      "the once-per-process key is a constant either way, and no other warning's key is empty (src/warnings.ts keys are a code word and the server or node)",
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
    file: 'src/redlock.ts',
    line: 136,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (!active(channels.acquire)) return this.#acquire(resource, ttl, options);',
    reason:
      'traced() (src/diagnostics.ts) starts with the same test and then calls #acquire directly; this copy only saves building the trace context on the untraced path',
  },
  {
    file: 'src/semaphore.ts',
    line: 121,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    code: 'if (count === undefined || count === 1) return this.#one;',
    reason:
      'semaphoreProtocol(permits, 1, quorum) makes a protocol equal to #one, which was made by the same call: the branch only saves making it again',
  },
];
