import { diagnose, formatFindings, type NodeProbe, summary } from './doctor.js';
import { query } from './resp.js';

const USAGE = `usage: quorumlock doctor [host:port ...]
  Checks each node for what Redlock assumes: reachable independent masters, distinct servers,
  maxmemory-policy noeviction, persistence. Nodes come from the arguments (comma- or
  space-separated) or from QUORUMLOCK_NODES.
  Exit status: 0 when no check fails (warnings are listed), 1 when one fails, 2 on a usage error.
  Options: -h, --help   print this and exit 0`;

const HELP = new Set(['--help', '-h', 'help']);

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
  if (command !== undefined && HELP.has(command)) {
    console.log(USAGE);
    return 0;
  }
  if (command !== 'doctor') {
    // No command, or an unknown one, is a usage error: a script calling us should notice.
    console.error(command === undefined ? USAGE : `unknown command ${JSON.stringify(command)}\n${USAGE}`);
    return 2;
  }
  if (rest.some((a) => HELP.has(a))) {
    console.log(USAGE);
    return 0;
  }
  const option = rest.find((a) => a.startsWith('-'));
  if (option !== undefined) {
    console.error(`unknown option ${JSON.stringify(option)}\n${USAGE}`);
    return 2;
  }
  const addresses = (rest.length > 0 ? rest.join(',') : (process.env.QUORUMLOCK_NODES ?? ''))
    .split(/[\s,]+/)
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (addresses.length === 0) {
    console.error(USAGE);
    return 2;
  }
  const distinct = [...new Set(addresses)];
  const { findings, ok } = diagnose(
    await Promise.all(distinct.map(probe)),
    addresses.filter((a, i) => addresses.indexOf(a) !== i),
  );
  console.log(formatFindings(findings));
  console.log(`\n${summary(findings)}`);
  return ok ? 0 : 1;
}
