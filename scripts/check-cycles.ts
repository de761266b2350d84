/**
 * `npm run check:cycles`: fails when the import graph of src/ has a circle, or when an entry
 * that must stay apart crosses its boundary: nothing outside src/client/ imports it (lock-only
 * users load none of it), and src/client/ reaches the core only through src/index.ts, the
 * public entry (docs/adr/011-entry-points.md), and src/check.ts, the argument checks. Every static import
 * and re-export counts, type-only ones included (a type circle still ties the modules together).
 * Imports are read with TypeScript's own pre-processor, so comments and strings are not mistaken
 * for imports.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const root = resolve(process.argv[2] ?? resolve(import.meta.dirname, '..', 'src'));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** The src/ files a file imports (relative specifiers only; `.js` names the `.ts` source). */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name.replace(/\.js$/, '.ts')))
    .map((path) => (path.endsWith('.ts') ? path : join(path, 'index.ts')));
}

const graph = new Map(files(root).map((file) => [file, importsOf(file)]));
const cycles: string[][] = [];
const state = new Map<string, 'open' | 'done'>();
const stack: string[] = [];

function visit(file: string): void {
  state.set(file, 'open');
  stack.push(file);
  for (const next of graph.get(file) ?? []) {
    if (!graph.has(next)) continue;
    if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
    else if (!state.has(next)) visit(next);
  }
  stack.pop();
  state.set(file, 'done');
}

for (const file of graph.keys()) if (!state.has(file)) visit(file);

const name = (file: string) => relative(resolve(root, '..'), file);

/** Entries kept apart: a folder whose files may import, outside it, only the listed files. */
const APART: ReadonlyArray<{ folder: string; mayImport: readonly string[] }> = [
  { folder: join(root, 'client'), mayImport: [join(root, 'index.ts'), join(root, 'check.ts')] },
];
const crossings: string[] = [];
for (const { folder, mayImport } of APART) {
  const inside = (file: string) => file.startsWith(folder + sep);
  for (const [file, imports] of graph) {
    for (const next of imports) {
      if (!inside(file) && inside(next)) crossings.push(`${name(file)} imports ${name(next)}`);
      if (inside(file) && !inside(next) && !mayImport.includes(next)) {
        crossings.push(`${name(file)} imports ${name(next)}; only ${mayImport.map(name).join(', ')} may be`);
      }
    }
  }
}
if (crossings.length > 0) {
  for (const crossing of crossings) console.error(`entry boundary crossed: ${crossing}`);
  console.error(`check:cycles: ${crossings.length} boundary crossing(s) in src/`);
  process.exit(1);
}

if (cycles.length > 0) {
  for (const cycle of cycles) console.error(`import circle: ${cycle.map(name).join(' → ')}`);
  console.error(`check:cycles: ${cycles.length} circle(s) among ${graph.size} files in src/`);
  process.exit(1);
}
console.log(`check:cycles: no import circle among ${graph.size} files in src/`);
