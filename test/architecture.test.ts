// The layering and the import graph, enforced instead of left to convention: the engine imports no
// editor, transport, service or CLI code; the language service imports no transport; the client and
// the webview reach the server only through the protocol and plain types; and no module imports
// itself through a circle (type-only imports count: a circle of types is still two files that must
// be read together).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const TREES = ['server/src', 'client/src', 'webview/src'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
export function specifiers(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'"]*?\sfrom\s+['"]([^'"]+)['"]|(?:^|[\s;])import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function resolveRelative(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

interface Graph {
  files: string[];
  /** file → resolved project files it imports */
  edges: Map<string, string[]>;
  /** file → bare (package) specifiers it imports */
  packages: Map<string, string[]>;
}

function importGraph(): Graph {
  const files = TREES.flatMap((t) => sources(join(ROOT, t)));
  const edges = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  for (const f of files) {
    const specs = specifiers(readFileSync(f, 'utf8'));
    edges.set(f, specs.filter((s) => s.startsWith('.')).map((s) => resolveRelative(f, s)).filter((x): x is string => x !== undefined));
    packages.set(f, specs.filter((s) => !s.startsWith('.')));
  }
  return { files, edges, packages };
}

/** Strongly connected components of more than one file, or a file importing itself (Tarjan). */
function circles(g: Graph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (g.edges.get(v) ?? []).includes(v)) found.push(scc.map((f) => relative(ROOT, f)).sort());
    }
  };
  for (const f of g.files) if (!idx.has(f)) visit(f);
  return found;
}

const rel = (f: string): string => relative(ROOT, f).split('\\').join('/');

function violations(g: Graph, from: RegExp, forbiddenFiles: RegExp | undefined, forbiddenPackages: RegExp | undefined): string[] {
  const out: string[] = [];
  for (const f of g.files) {
    if (!from.test(rel(f))) continue;
    for (const t of g.edges.get(f) ?? []) if (forbiddenFiles?.test(rel(t))) out.push(`${rel(f)} → ${rel(t)}`);
    for (const p of g.packages.get(f) ?? []) if (forbiddenPackages?.test(p)) out.push(`${rel(f)} → ${p}`);
  }
  return out;
}

const graph = importGraph();

test('the import scanner sees static, type-only, re-export, side-effect and dynamic imports', () => {
  const text = `import a from './a';\nimport type { B } from "./b";\nexport { c } from './c';\nexport * from './d';\nimport './e';\nconst f = await import('./f');\nimport {\n  g,\n} from './g';`;
  assert.deepEqual(specifiers(text), ['./a', './b', './c', './d', './e', './f', './g']);
});

test('the scan covers the whole tree (guards against a scanner that finds nothing)', () => {
  assert.ok(graph.files.some((f) => rel(f) === 'server/src/engine/planner/index.ts'));
  assert.ok(graph.files.some((f) => rel(f) === 'client/src/extension.ts'));
  const engineEdges = graph.files.filter((f) => rel(f).startsWith('server/src/engine/')).reduce((n, f) => n + graph.edges.get(f)!.length, 0);
  assert.ok(engineEdges > 100, `only ${engineEdges} engine imports resolved`);
});

test('the engine imports no editor, transport, service or CLI code', () => {
  assert.deepEqual(violations(graph, /^server\/src\/engine\//, /^(server\/src\/(lsp|service|cli)\/|client\/|webview\/)/, /^(vscode|vscode-languageserver|vscode-languageclient|vscode-jsonrpc)(\/|$)/), []);
});

test('the language service imports no transport (only the LSP types)', () => {
  assert.deepEqual(violations(graph, /^server\/src\/service\//, /^(server\/src\/(lsp|cli)\/|client\/|webview\/)/, /^(vscode|vscode-languageserver|vscode-languageserver\/node|vscode-jsonrpc|vscode-languageclient)(\/|$)/), []);
});

test('the client and the webview reach the server only through the protocol, plain types and leaf helpers', () => {
  // A leaf helper imports no package but node's own and no other project file (location.ts, the one
  // parser of user locations; nameTable.ts, own-property name tables), or only such leaves
  // (lsp/settings.ts, the one settings reader, over location.ts): safe to share with the client.
  const leaf = (file: string, depth = 1): boolean =>
    graph.edges.get(file)!.every((t) => depth > 0 && leaf(t, depth - 1)) && graph.packages.get(file)!.every((p) => p.startsWith('node:'));
  const allowed = (target: string): boolean => /^server\/src\/(protocol\.ts|engine\/types\.ts)$/.test(target) || leaf(resolve(ROOT, target));
  const out = [
    ...violations(graph, /^client\//, /^server\//, undefined),
    ...violations(graph, /^webview\//, /^(server|client)\//, /^(vscode|vscode-languageclient)(\/|$)/),
  ].filter((v) => !allowed(v.split(' → ')[1]));
  assert.deepEqual(out, []);
});

test('no import circles', () => {
  assert.deepEqual(circles(graph), []);
});
