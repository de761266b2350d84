import { diagnose, formatFindings, type NodeProbe } from './doctor.js';
import { query } from './resp.js';

const USAGE = `usage: quorumlock doctor [host:port ...]
  Checks each node for what Redlock assumes: reachable independent masters, distinct servers,
  maxmemory-policy noeviction, persistence. Nodes come from the arguments (comma- or
  space-separated) or from QUORUMLOCK_NODES. Exit status 1 when a check fails.`;

const TIMEOUT_MS = 2_000;

async function probe(address: string): Promise<NodeProbe> {
  const match = /^(.+):(\d+)$/.exec(address);
  if (!match) return { address, error: 'not host:port' };
  const target = { host: match[1]!, port: Number(match[2]) };
  try {
    const [info, config] = await query(
      target,
      [
        ['INFO', 'server', 'memory', 'persistence', 'replication'],
        ['CONFIG', 'GET', 'appendfsync'],
      ],
      TIMEOUT_MS,
    );
    if (info instanceof Error) return { address, error: info.message };
    const appendfsync = Array.isArray(config) && typeof config[1] === 'string' ? config[1] : undefined;
    return { address, info: String(info), ...(appendfsync ? { appendfsync } : {}) };
  } catch (error) {
    return { address, error: (error as Error).message };
  }
}

/** Run the command line; resolves with the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'doctor') {
    console.error(USAGE);
    return command === undefined || command === '--help' || command === '-h' ? 0 : 2;
  }
  const addresses = (rest.length > 0 ? rest.join(',') : (process.env.QUORUMLOCK_NODES ?? ''))
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (addresses.length === 0) {
    console.error(USAGE);
    return 2;
  }
  const { findings, ok } = diagnose(await Promise.all(addresses.map(probe)));
  console.log(formatFindings(findings));
  console.log(ok ? '\nNo failed checks.' : '\nSome checks failed: see FAIL above.');
  return ok ? 0 : 1;
}
