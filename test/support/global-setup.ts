import type { TestProject } from 'vitest/node';
import { NodeSet } from '../../tools/nodes.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `host:port` of the 5 shared nodes of the integration project. */
    nodes: string[];
    /** True when the nodes come from QUORUMLOCK_NODES: tests that need process control skip. */
    externalNodes: boolean;
  }
}

/** Start 5 independent redis-server processes for the integration project, or use QUORUMLOCK_NODES. */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = NodeSet.fromEnv();
  if (external) {
    project.provide('nodes', external);
    project.provide('externalNodes', true);
    return undefined;
  }
  const set = await NodeSet.start(5);
  project.provide('nodes', set.addresses);
  project.provide('externalNodes', false);
  return () => set.dispose();
}
