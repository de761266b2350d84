/**
 * Every relative link in a Markdown file of the npm package must resolve to a file of the package
 * (`npm run check:package-links`): a user reading docs/ from node_modules or the registry has no
 * src/, test/ or bench/. The file list is what `npm pack --dry-run` would publish.
 *
 * Exit status: 0 when every link resolves, 1 otherwise (each broken link listed as `file:line`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const packed = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' }),
) as Array<{ files: Array<{ path: string }> }>;
const files = new Set(packed[0]!.files.map((f) => f.path));
const dirs = new Set(
  [...files].flatMap((f) =>
    f
      .split('/')
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
  ),
);

const LINK = /\]\(([^)\s]+)\)/g;
const problems: string[] = [];
for (const file of [...files].filter((f) => f.endsWith('.md')).sort()) {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  lines.forEach((line, i) => {
    for (const match of line.matchAll(LINK)) {
      const target = match[1]!;
      if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
      const path = normalize(join(dirname(file), target.split('#')[0]!)).replace(/\/$/, '');
      if (!files.has(path) && !dirs.has(path))
        problems.push(`${file}:${i + 1}: ${target} is not in the npm package`);
    }
  });
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exitCode = 1;
} else {
  console.log(
    `check:package-links: every relative link in ${[...files].filter((f) => f.endsWith('.md')).length} packaged Markdown files resolves inside the package`,
  );
}
