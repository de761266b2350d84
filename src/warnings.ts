/**
 * Warnings about a node's configuration, each emitted once per process for what it is about (a
 * code and the server, by run_id or endpoint): a service that makes many Redlocks over the same
 * nodes is told once, not once per instance.
 */
const emitted = new Set<string>();

/** Emit `message` with `code` unless a warning with the same `key` was emitted in this process. */
export function warnOnce(key: string, code: string, message: string): void {
  if (emitted.has(key)) return;
  emitted.add(key);
  process.emitWarning(message, { code });
}

/** @internal For tests: forget which warnings were emitted, so each test sees its own. */
export function forgetWarnings(): void {
  emitted.clear();
}
