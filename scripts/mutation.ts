/**
 * `npm run mutation`: Stryker over the `unit` Vitest project (stryker.config.mjs), one core
 * module at a time, each with its own incremental result file `reports/mutation/<module>.json`
 * (committed, so a rerun only tests the mutants whose code or tests changed). Not part of CI.
 *
 *   npm run mutation                                  # every core module, 240 minutes at most
 *   npm run mutation -- --files src/quorum.ts         # one module (a glob or a comma list works)
 *   npm run mutation -- --files 'src/re*.ts' --minutes 30 --concurrency 1
 *   npm run mutation -- --force --files src/keeper.ts # ignore the stored results of that module
 *   npm run mutation -- --no-checker                  # skip the TypeScript checker
 *   npm run mutation -- --summary                     # only print the scores of the stored results
 *
 * The wall-clock bound (`--minutes`) is checked before each module, and a module still running
 * when it passes is stopped; the modules finished before keep their results. After the runs it
 * prints, and writes to reports/mutation/summary.md and into docs/testing.md (between its
 * markers), the score of every core module measured so
 * far: detected (killed or timed out) over valid mutants (all but compile errors and ignored
 * ones; a mutant no test covers counts as a survivor), and every survivor, with its reason when
 * scripts/equivalents/ lists it as equivalent (by file, line, mutator, replacement
 * and the text of the line). Exits 1 when a survivor of a module in STRICT has no reason.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Equivalent } from './equivalents/equivalent.js';
import { OTHER_EQUIVALENTS } from './equivalents/other.js';
import { STATIC_SURVIVORS } from './equivalents/static.js';
import { STRICT_EQUIVALENTS } from './equivalents/strict.js';

const EQUIVALENT: readonly Equivalent[] = [...STRICT_EQUIVALENTS, ...OTHER_EQUIVALENTS, ...STATIC_SURVIVORS];

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const REPORTS = join(ROOT, 'reports', 'mutation');
const STRYKER = join(ROOT, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');

/** Modules where every survivor needs a written reason (issue 16). */
const STRICT = ['validity', 'quorum', 'renew', 'release', 'keeper', 'leader'].map((m) => `src/${m}.ts`);
/** The score every core module should reach. */
const TARGET = 85;

/** The entry point only re-exports; core.ts only declares a type: Stryker finds nothing to mutate. */
const NOT_CODE = ['index.ts', 'core.ts'];

/** The core: every module of src/ that has code. */
function coreFiles(): string[] {
  return readdirSync(join(ROOT, 'src'))
    .filter((f) => f.endsWith('.ts') && !NOT_CODE.includes(f))
    .map((f) => `src/${f}`)
    .sort();
}

interface Args {
  files: string[];
  minutes: number;
  concurrency: number;
  force: boolean;
  checker: boolean;
  summaryOnly: boolean;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*/g, '\0')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]')
    .replace(/\0/g, '.*');
  return new RegExp(`^${body}$`);
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    files: [],
    minutes: 240,
    concurrency: 1,
    force: false,
    checker: true,
    summaryOnly: false,
  };
  const value = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
    return v;
  };
  let globs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--files') globs = globs.concat(value(i++, arg).split(','));
    else if (arg === '--minutes') args.minutes = Number(value(i++, arg));
    else if (arg === '--concurrency') args.concurrency = Number(value(i++, arg));
    else if (arg === '--force') args.force = true;
    else if (arg === '--no-checker') args.checker = false;
    else if (arg === '--summary') args.summaryOnly = true;
    else throw new Error(`unknown argument ${arg} (see the comment at the top of scripts/mutation.ts)`);
  }
  if (!(args.minutes > 0)) throw new Error('--minutes must be a positive number');
  if (!Number.isInteger(args.concurrency) || args.concurrency < 1)
    throw new Error('--concurrency must be ≥ 1');
  const core = coreFiles();
  if (globs.length === 0) args.files = core;
  else {
    const patterns = globs.map((g) => globToRegExp(g.trim().replace(/^\.\//, '')));
    args.files = core.filter((f) => patterns.some((p) => p.test(f)));
    if (args.files.length === 0) throw new Error(`--files ${globs.join(',')} matches no core module`);
  }
  return args;
}

const reportOf = (file: string) => join(REPORTS, `${basename(file, '.ts')}.json`);

/** Run Stryker on one module; resolves with its exit code, or 'timeout' when stopped at the deadline. */
function runStryker(file: string, args: Args, deadline: number): Promise<number | 'timeout'> {
  const argv = [
    STRYKER,
    'run',
    'stryker.config.mjs',
    '--mutate',
    file,
    '--incrementalFile',
    reportOf(file),
    '--concurrency',
    String(args.concurrency),
  ];
  if (args.force) argv.push('--force');
  if (!args.checker) argv.push('--checkers', '');
  console.log(`\n=== ${file} (${Math.round((deadline - Date.now()) / 60_000)} min left)`);
  // Its own process group, so stopping it at the deadline stops its workers too, and nothing else.
  const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: 'inherit', detached: true });
  return new Promise((resolve, reject) => {
    let stopped = false;
    const stop = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(
      () => {
        stopped = true;
        console.log(
          `\n=== ${file}: the --minutes bound passed; stopping this module (its results are not kept)`,
        );
        stop('SIGTERM');
        setTimeout(() => stop('SIGKILL'), 10_000).unref();
      },
      Math.max(0, deadline - Date.now()),
    );
    const onInterrupt = () => stop('SIGTERM');
    process.once('SIGINT', onInterrupt);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      process.off('SIGINT', onInterrupt);
      resolve(stopped ? 'timeout' : (code ?? 1));
    });
  });
}

/** The parts of a mutation-testing-report-schema result this script reads. */
interface Mutant {
  readonly id: string;
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly status: string;
  readonly location: { readonly start: { readonly line: number; readonly column: number } };
}
interface Report {
  readonly files: Record<string, { readonly source: string; readonly mutants: readonly Mutant[] }>;
}

interface Row {
  readonly file: string;
  readonly counts: Record<string, number>;
  readonly valid: number;
  readonly detected: number;
  readonly equivalent: number;
  readonly survivors: ReadonlyArray<{ mutant: Mutant; code: string; reason: Equivalent | undefined }>;
}

const equivalentFor = (file: string, m: Mutant, code: string) =>
  EQUIVALENT.find(
    (e) =>
      e.file === file &&
      e.line === m.location.start.line &&
      e.mutator === m.mutatorName &&
      e.replacement === (m.replacement ?? '') &&
      e.code === code,
  );

function rowOf(file: string): Row | undefined {
  if (!existsSync(reportOf(file))) return undefined;
  const report = JSON.parse(readFileSync(reportOf(file), 'utf8')) as Report;
  const entry = report.files[file];
  if (!entry) return undefined;
  const lines = entry.source.split('\n');
  const counts: Record<string, number> = {};
  for (const m of entry.mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
  const invalid = (counts.CompileError ?? 0) + (counts.RuntimeError ?? 0) + (counts.Ignored ?? 0);
  const survivors = entry.mutants
    .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
    .map((mutant) => {
      const code = (lines[mutant.location.start.line - 1] ?? '').trim();
      return { mutant, code, reason: equivalentFor(file, mutant, code) };
    })
    .sort((a, b) => a.mutant.location.start.line - b.mutant.location.start.line);
  return {
    file,
    counts,
    valid: entry.mutants.length - invalid,
    detected: (counts.Killed ?? 0) + (counts.Timeout ?? 0),
    equivalent: survivors.filter((s) => s.reason && s.reason.kind !== 'static').length,
    survivors,
  };
}

const pct = (n: number, d: number) => (d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(1)}%`);

function summarise(files: readonly string[]): boolean {
  const rows = files.map(rowOf).filter((r): r is Row => r !== undefined);
  const out: string[] = [
    '| File | Valid | Killed | Timeout | Survived | No coverage | Compile errors | Equivalent | Score | Without equivalents |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  let ok = true;
  const totals = { valid: 0, detected: 0, equivalent: 0 };
  for (const r of rows) {
    const c = (k: string) => r.counts[k] ?? 0;
    out.push(
      `| ${r.file} | ${r.valid} | ${c('Killed')} | ${c('Timeout')} | ${c('Survived')} | ${c('NoCoverage')} | ` +
        `${c('CompileError')} | ${r.equivalent} | ${pct(r.detected, r.valid)} | ${pct(r.detected, r.valid - r.equivalent)} |`,
    );
    totals.valid += r.valid;
    totals.detected += r.detected;
    totals.equivalent += r.equivalent;
  }
  out.push(
    `| all measured | ${totals.valid} | | | | | | ${totals.equivalent} | ${pct(totals.detected, totals.valid)} | ` +
      `${pct(totals.detected, totals.valid - totals.equivalent)} |`,
  );
  const missing = files.filter((f) => !rows.some((r) => r.file === f));
  if (missing.length > 0) out.push('', `Not measured yet: ${missing.join(', ')}.`);
  out.push('', '## Survivors', '');
  for (const r of rows) {
    const below = (100 * r.detected) / Math.max(1, r.valid) < TARGET;
    if (r.survivors.length === 0) continue;
    out.push(`### ${r.file}${below ? ` (below ${TARGET}%)` : ''}`, '');
    for (const s of r.survivors) {
      const where = `${s.mutant.location.start.line}:${s.mutant.location.start.column}`;
      const what = `${s.mutant.status} ${s.mutant.mutatorName} \`${oneLine(s.mutant.replacement ?? '')}\``;
      const why = s.reason ? `${s.reason.kind ?? 'equivalent'}: ${s.reason.reason}` : 'NO REASON';
      if (!s.reason && STRICT.includes(r.file)) ok = false;
      out.push(`- ${where} ${what} in \`${oneLine(s.code)}\`: ${why}`);
    }
    out.push('');
  }
  const body = out.join('\n').trimEnd();
  const text = `${SUMMARY_HEAD}\n\n${body}\n`;
  mkdirSync(REPORTS, { recursive: true });
  writeFileSync(join(REPORTS, 'summary.md'), text);
  writeIntoDocs(body.replace(/^## Survivors$/m, '#### Survivors').replace(/^### /gm, '##### '));
  console.log(`\n${text}`);
  if (!ok) console.log(`A survivor in ${STRICT.join(', ')} has no reason: kill it or explain it.`);
  return ok;
}

const SUMMARY_HEAD = [
  '# Mutation scores',
  '',
  'Written by `npm run mutation` (scripts/mutation.ts) from the results in this folder. Score:',
  'killed or timed out over valid mutants (compile errors excluded; no coverage counts as a survivor).',
  '"Without equivalents" leaves out the survivors scripts/equivalents/ explains.',
].join('\n');

/** docs/testing.md carries the same table and survivors between these markers, rewritten by every run. */
const DOCS = join(ROOT, 'docs', 'testing.md');
const BEGIN = '<!-- mutation-scores:begin (written by scripts/mutation.ts) -->';
const END = '<!-- mutation-scores:end -->';

function writeIntoDocs(body: string): void {
  const docs = readFileSync(DOCS, 'utf8');
  const from = docs.indexOf(BEGIN);
  const to = docs.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${DOCS} lacks the markers ${BEGIN} … ${END}`);
  writeFileSync(DOCS, `${docs.slice(0, from + BEGIN.length)}\n\n${body}\n\n${docs.slice(to)}`);
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').replace(/`/g, "'").slice(0, 100);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.summaryOnly) {
    const deadline = Date.now() + args.minutes * 60_000;
    for (const file of args.files) {
      if (Date.now() >= deadline) {
        console.log(`\n=== the --minutes bound passed before ${file}; not run`);
        break;
      }
      const result = await runStryker(file, args, deadline);
      if (result === 'timeout') break;
      if (result !== 0) console.log(`=== ${file}: stryker exited with ${result}`);
    }
  }
  process.exitCode = summarise(coreFiles()) ? 0 : 1;
}

await main();
