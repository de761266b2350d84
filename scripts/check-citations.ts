/**
 * Every citation in the repository must resolve inside it (`npm run check:citations`). Fails,
 * listing each problem as `file:line`, when:
 *
 * 1. a tracked file cites the planning documents the rules came from (their file names, the
 *    research's numbered sections, the folder or repository that held them). The one place
 *    allowed to name them is the origin note of docs/spec.md, between `<!-- origin -->` and
 *    `<!-- /origin -->`. The patterns below are written so that this file does not match itself.
 * 2. a relative link in a tracked Markdown file points to a file that does not exist, or to a
 *    heading (or `id`) that the target Markdown file does not have (GitHub's heading slugs);
 * 3. a test named in docs/spec.md or DESIGN.md, written `path` › "title" › "title", is not in
 *    that file any more ("…" in a title stands for a part that varies, such as `${how}`);
 * 4. a "row N" names a row that the fault matrix of docs/testing.md does not have.
 *
 * Exit status: 0 when everything resolves, 1 otherwise.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Citations of documents outside the repository, by what they look like. */
const OUTSIDE: readonly RegExp[] = [
  /\bresearch\s+§/i,
  /§\s*\d/,
  /\bSPEC\.md\b/,
  /\bpeers-(?:theory|node)\b/i,
  /\.\.\/shared\b/,
  /\bsteer(?:ing)\b/i,
];

/** Files that state test titles as `path` › "title". */
const TEST_REFERENCES = ['docs/spec.md', 'DESIGN.md'];
const FAULT_MATRIX = 'docs/testing.md';

interface Problem {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

const problems: Problem[] = [];
const report = (file: string, line: number, text: string) => problems.push({ file, line, text });

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '' && existsSync(join(ROOT, f)) && statSync(join(ROOT, f)).isFile());
}

/** The file's text, or undefined for a binary file. */
function readText(file: string): string | undefined {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return text.includes('\0') ? undefined : text;
}

/** Replace every character but newlines in [from, to) with spaces, keeping line numbers. */
function blank(text: string, from: number, to: number): string {
  return text.slice(0, from) + text.slice(from, to).replace(/[^\n]/g, ' ') + text.slice(to);
}

/** The origin note of docs/spec.md is the one place allowed to name the outside documents. */
function withoutOriginNote(text: string): string {
  const start = text.indexOf('<!-- origin -->');
  const end = text.indexOf('<!-- /origin -->');
  return start >= 0 && end > start ? blank(text, start, end) : text;
}

/** Markdown without its fenced code blocks and inline code (links there are not links). */
function proseOf(markdown: string): string {
  let text = markdown;
  for (const m of markdown.matchAll(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm)) {
    text = blank(text, m.index, m.index + m[0].length);
  }
  for (const m of text.matchAll(/`[^`\n]+`/g)) text = blank(text, m.index, m.index + m[0].length);
  return text;
}

const lineAt = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

const anchorCache = new Map<string, Set<string>>();

/** Every anchor a Markdown file offers: heading slugs (numbered when repeated) and `id`s. */
function anchorsOf(file: string): Set<string> {
  const cached = anchorCache.get(file);
  if (cached) return cached;
  const text = readFileSync(join(ROOT, file), 'utf8');
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutFences = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const m of withoutFences.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of text.matchAll(/\b(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  anchorCache.set(file, anchors);
  return anchors;
}

function checkOutsideCitations(file: string, text: string): void {
  const scanned = file === 'docs/spec.md' ? withoutOriginNote(text) : text;
  scanned.split('\n').forEach((line, i) => {
    for (const pattern of OUTSIDE) {
      const m = pattern.exec(line);
      if (m) report(file, i + 1, `cites a document outside the repository ("${m[0]}"): ${line.trim()}`);
    }
  });
}

function checkLinks(file: string, text: string): void {
  const prose = proseOf(text);
  for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: ...
    const [path = '', anchor] = target.split('#');
    const resolved = path === '' ? file : normalize(join(dirname(file), decodeURIComponent(path)));
    const line = lineAt(prose, m.index);
    if (relative(ROOT, join(ROOT, resolved)).startsWith('..') || !existsSync(join(ROOT, resolved))) {
      report(file, line, `link to a missing file: ${target}`);
      continue;
    }
    if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) {
      report(file, line, `link to a missing heading: ${target}`);
    }
  }
}

/** `test/x.test.ts` › "describe" › "it": each title (split at "…") must be in that file. */
function checkTestReferences(file: string, text: string): void {
  text.split('\n').forEach((line, i) => {
    let current: string | undefined;
    for (const m of line.matchAll(/`((?:test|bench|scripts|examples)\/[^`\s]+\.ts)`|"([^"]+)"/g)) {
      if (m[1] !== undefined) {
        current = existsSync(join(ROOT, m[1])) ? m[1] : undefined;
        if (current === undefined) report(file, i + 1, `names a test file that does not exist: ${m[1]}`);
        continue;
      }
      if (current === undefined) continue;
      const source = readFileSync(join(ROOT, current), 'utf8');
      for (const part of m[2]!.split('…').map((p) => p.trim())) {
        if (part !== '' && !source.includes(part)) {
          report(file, i + 1, `no test titled "${m[2]}" in ${current} (missing: "${part}")`);
          break;
        }
      }
    }
  });
}

/** The row numbers of the fault matrix in docs/testing.md. */
function matrixRows(): Set<number> {
  const text = readFileSync(join(ROOT, FAULT_MATRIX), 'utf8');
  const start = text.search(/^## The fault matrix\s*$/m);
  const rows = new Set<number>();
  if (start < 0) return rows;
  const section = text.slice(start).split(/^## /m)[1] ?? '';
  for (const m of section.matchAll(/^\|\s*(\d+)\s*\|/gm)) rows.add(Number(m[1]));
  return rows;
}

function checkRowReferences(file: string, text: string, rows: Set<number>): void {
  const pattern = /\brows?\s+(\d+(?:\s*(?:[-–,]|and)\s*\d+)*)/gi;
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(pattern)) {
      const numbers: number[] = [];
      for (const part of m[1]!.split(/\s*(?:,|and)\s*/)) {
        const range = /^(\d+)\s*[-–]\s*(\d+)$/.exec(part);
        if (range) for (let n = Number(range[1]); n <= Number(range[2]); n++) numbers.push(n);
        else numbers.push(Number(part));
      }
      const missing = numbers.filter((n) => !rows.has(n));
      if (missing.length > 0) {
        report(file, i + 1, `row ${missing.join(', ')} is not in the fault matrix of ${FAULT_MATRIX}`);
      }
    }
  });
}

function main(): void {
  const rows = matrixRows();
  if (rows.size === 0) report(FAULT_MATRIX, 1, 'no fault matrix found (a "## The fault matrix" table)');
  for (const file of trackedFiles()) {
    const text = readText(file);
    if (text === undefined) continue;
    checkOutsideCitations(file, text);
    if (file.endsWith('.md')) checkLinks(file, text);
    if (TEST_REFERENCES.includes(file)) checkTestReferences(file, text);
    if (/\.(md|ts)$/.test(file)) checkRowReferences(file, text, rows);
  }
  if (problems.length === 0) {
    console.log(`check:citations: every citation resolves (${rows.size} fault-matrix rows)`);
    return;
  }
  for (const p of problems) console.error(`${p.file}:${p.line}: ${p.text}`);
  console.error(`check:citations: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
  process.exitCode = 1;
}

main();
