import { createHash } from 'node:crypto';
import type { Core } from './core.js';
import type { NodeReport } from './errors.js';
import { keysOf } from './keys.js';
import { releaseTimeoutMs } from './release.js';
import { inspectScript, parseInspectReply } from './scripts/index.js';

/** What `inspect` saw on each node. */
export interface InspectResult {
  readonly resources: readonly string[];
  readonly nodes: ReadonlyArray<
    NodeReport & {
      /** Per resource: who holds it (SHA-256 prefix of the value, or null) and its PTTL (-2 absent). */
      readonly keys: ReadonlyArray<{
        resource: string;
        holder: string | null;
        ttlMs: number;
        mine?: boolean;
      }>;
    }
  >;
}

/** Identifies a holder in diagnostics without revealing its lock value. */
export function holderHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 12);
}

/**
 * A diagnostic, never a substitute for the lock's local deadline (R12): each node's holder of
 * each resource (a SHA-256 prefix of the value, never the value) and remaining TTL. With
 * `value`, says which keys hold it. Answers can be stale by the time they are read.
 */
export async function inspect(
  core: Core,
  resources: readonly string[],
  value: string | undefined,
  signal: AbortSignal | undefined,
): Promise<InspectResult> {
  const keys = keysOf(core.options.keyPrefix, resources);
  const seen = new Map<number, InspectResult['nodes'][number]['keys']>();
  const round = await core.nodes.round(
    { type: 'eval', script: inspectScript, keys, args: [] },
    (reply, node) => {
      const entries = parseInspectReply(reply, keys.length).map((entry, i) => ({
        resource: resources[i]!,
        holder: entry.value === null ? null : holderHash(entry.value),
        ttlMs: entry.pttl,
        ...(value !== undefined ? { mine: entry.value === value } : {}),
      }));
      seen.set(node, entries);
      return { outcome: entries.some((e) => e.holder !== null) ? 'held' : 'not-held', yes: true };
    },
    releaseTimeoutMs(core.options, undefined),
    'all',
    signal,
  );
  if (round.decision === 'aborted') throw signal!.reason;
  return Object.freeze({
    resources,
    nodes: round.nodes.map((report) => ({ ...report, keys: seen.get(report.node) ?? [] })),
  });
}
