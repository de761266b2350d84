import { createHook } from 'node:async_hooks';
import { afterAll, beforeEach, expect } from 'vitest';
import { forgetWarnings } from '../../src/warnings.js';

/**
 * Hygiene for every test file: a timer, socket or child process created by this file's tests
 * and still alive after them is a leak, and fails the file (with where it was created).
 * Vitest's own timers are not counted. Unhandled rejections already fail the run
 * (`dangerouslyIgnoreUnhandledErrors: false` in vitest.config.ts).
 */
const WATCHED = new Set(['Timeout', 'TCPWRAP', 'TCPSERVERWRAP', 'PROCESSWRAP']);
const live = new Map<number, { type: string; stack: string }>();

const hook = createHook({
  init(asyncId, type) {
    if (!WATCHED.has(type)) return;
    const stack = new Error().stack ?? '';
    // Whoever called into Node to create it: Vitest's own timers (test and hook timeouts) are not ours.
    if (/node_modules[\\/](@vitest|vitest|tinypool)[\\/]/.test(creator(stack))) return;
    // node-redis 6 bounds each command with an `AbortSignal.timeout` (5 s unless turned off, as
    // test/support/clients.ts does); its cluster topology discovery turns it back on for its own
    // commands. That timer is unref'd, holds a weak signal, and only aborts a command that has
    // long been answered: not ours to wait for.
    if (stack.includes('setWeakAbortSignalTimeout') && /node_modules[\\/]@redis[\\/]/.test(creator(stack)))
      return;
    live.set(asyncId, { type, stack });
  },
  destroy(asyncId) {
    live.delete(asyncId);
  },
});
hook.enable();

// Node warnings are once per process (src/warnings.ts): each test starts with none emitted.
beforeEach(forgetWarnings);

/** The first stack frame outside Node's internals and this file. */
function creator(stack: string): string {
  return (
    stack
      .split('\n')
      .slice(1)
      .find((line) => !line.includes('node:') && !line.includes('setup.ts'))
      ?.trim() ?? '(unknown)'
  );
}

function describeLeaks(): string[] {
  return [...live.values()].map(({ type, stack }) => `${type} created ${creator(stack)}`);
}

afterAll(async () => {
  // Sockets and processes close over the next turns of the event loop: give them a bounded moment.
  // (setImmediate, not timers, so the wait itself creates nothing watched.)
  const until = performance.now() + 500;
  while (live.size > 0 && performance.now() < until) await new Promise((resolve) => setImmediate(resolve));
  const leaks = describeLeaks();
  hook.disable();
  expect(leaks, 'timers, sockets or processes left open by this test file').toEqual([]);
});
