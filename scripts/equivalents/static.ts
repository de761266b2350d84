import type { Equivalent } from './equivalent.js';

/**
 * Survivors in module-level constants, which Stryker's run cannot activate (see `kind` in
 * ./equivalent.ts), each with the test that fails when the mutant is applied by hand.
 */
export const STATIC_SURVIVORS: readonly Equivalent[] = [
  {
    file: 'src/diagnostics.ts',
    line: 59,
    mutator: 'StringLiteral',
    replacement: '""',
    code: "export const lostChannel: PlainChannel = channel('quorumlock:lost');",
    reason:
      'the channel\'s name, asserted by test/unit/diagnostics.test.ts ("publishes a lost lock on the plain channel")',
    kind: 'static',
  },
  {
    file: 'src/nodes.ts',
    line: 39,
    mutator: 'StringLiteral',
    replacement: '""',
    code: "sections: Object.freeze(['server', 'memory', 'persistence']),",
    reason:
      'the first probe\'s sections, asserted by test/unit/nodes.test.ts ("asks for server, memory and persistence until a node is known")',
    kind: 'static',
  },
  {
    file: 'src/nodes.ts',
    line: 42,
    mutator: 'ArrayDeclaration',
    replacement: '[]',
    code: "const SERVER_INFO: InfoCommand = Object.freeze({ type: 'info', sections: Object.freeze(['server']) });",
    reason:
      'the later probe\'s section, asserted by test/unit/nodes.test.ts ("asks for the server section on every call when the uptime guard is on")',
    kind: 'static',
  },
  {
    file: 'src/nodes.ts',
    line: 42,
    mutator: 'StringLiteral',
    replacement: '""',
    code: "const SERVER_INFO: InfoCommand = Object.freeze({ type: 'info', sections: Object.freeze(['server']) });",
    reason:
      'the later probe\'s section, asserted by test/unit/nodes.test.ts ("asks for the server section on every call when the uptime guard is on")',
    kind: 'static',
  },
  {
    file: 'src/primitive.ts',
    line: 27,
    mutator: 'StringLiteral',
    replacement: '""',
    code: "const STRATEGY = 'a function (attempt, context) => number | null';",
    reason:
      'what a retryStrategy must be, asserted by test/unit/primitive.test.ts ("acquire names a retryStrategy that is not a function, and a bad signal")',
    kind: 'static',
  },
];
