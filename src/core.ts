import type { Runtime } from './clock.js';
import type { Handoff } from './handoff.js';
import type { Nodes } from './nodes.js';
import type { ResolvedOptions } from './options.js';

/** What every operation module needs from its Redlock: the nodes, the options, the runtime. */
export interface Core {
  readonly nodes: Nodes;
  readonly options: ResolvedOptions;
  readonly runtime: Runtime;
  /** Local hand-off between the Redlocks of this process (ADR 010). */
  readonly handoff: Handoff;
}
