// One contract between client, server and webviews (server/src/protocol.ts), enforced: no custom
// method, command or notification name is written anywhere else in client/src, server/src or
// webview/src, and custom messages are sent and received only through the typed helpers
// (client/src/serverCommands.ts, server/src/lsp/typedConnection.ts). String literals are read with the
// TypeScript scanner, so comments and docs may still name methods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { ClientCommands, CompareRequest, LibraryRequests, PlanNotification, ServerCommands, StatusNotification } from '../server/src/protocol';

const ROOT = resolve(__dirname, '..');
const TREES = ['server/src', 'client/src', 'webview/src'];
const PROTOCOL = 'server/src/protocol.ts';
/** The only files that may pass a custom method to sendRequest / onRequest / sendNotification / onNotification. */
const TYPED_HELPERS = ['client/src/serverCommands.ts', 'server/src/lsp/typedConnection.ts'];

const NAMES = new Set<string>([
  ...Object.values(ClientCommands),
  ...Object.values(ServerCommands),
  ...Object.values(LibraryRequests),
  CompareRequest,
  PlanNotification,
  StatusNotification,
]);
/** What a custom method or server command looks like, declared or not. */
const METHOD_LIKE = /^adapterCompose(\/|\.server\.)/;

const rel = (f: string): string => relative(ROOT, f).split('\\').join('/');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

interface Finding {
  file: string;
  line: number;
  text: string;
}

/** String literals (and template heads) that name a method, and custom sends/listens outside the helpers. */
export function contractViolations(file: string, text: string): { names: Finding[]; calls: Finding[] } {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const names: Finding[] = [];
  const calls: Finding[] = [];
  const at = (node: ts.Node, what: string): Finding => ({ file, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, text: what });
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node)) {
      if (NAMES.has(node.text) || METHOD_LIKE.test(node.text)) names.push(at(node, node.text));
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      const first = node.arguments[0];
      // Standard LSP messages go by their `.type` objects (ExecuteCommandRequest.type, …); anything
      // else sent or listened for is a custom method and belongs in the typed helpers.
      const standard = first !== undefined && ts.isPropertyAccessExpression(first) && first.name.text === 'type';
      if (/^(sendRequest|onRequest|sendNotification|onNotification)$/.test(method) && first !== undefined && !standard) calls.push(at(node, node.getText(source).split('\n')[0]));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { names, calls };
}

const files = TREES.flatMap((t) => sources(join(ROOT, t)));

test('the contract scanner finds method names in literals and custom sends, not in comments', () => {
  const sample = [
    `// adapterCompose/plan in a comment is fine`,
    `const a = 'adapterCompose/libraryPage';`,
    'const b = `adapterCompose/compose/${1}`;',
    `client.sendRequest(LibraryRequests.page, {});`,
    `client.sendRequest(ExecuteCommandRequest.type, {});`,
    `connection.onNotification(StatusNotification, () => 0);`,
    `run('${ServerCommands.plan}');`,
  ].join('\n');
  const found = contractViolations('sample.ts', sample);
  assert.deepEqual(found.names.map((f) => f.line), [2, 3, 7]);
  assert.deepEqual(found.calls.map((f) => f.line), [4, 6]);
});

test('the scan covers client, server and webview sources', () => {
  for (const f of ['client/src/extension.ts', 'server/src/lsp/server.ts', 'webview/src/main.ts', PROTOCOL]) assert.ok(files.some((x) => rel(x) === f), f);
  // protocol.ts itself is where every name is: the scanner must see them there.
  const own = contractViolations(PROTOCOL, readFileSync(join(ROOT, PROTOCOL), 'utf8')).names.map((f) => f.text);
  assert.deepEqual(new Set(own), NAMES, 'protocol.ts declares every name once');
});

test('no custom method, command or notification name outside server/src/protocol.ts', () => {
  const out = files
    .filter((f) => rel(f) !== PROTOCOL)
    .flatMap((f) => contractViolations(rel(f), readFileSync(f, 'utf8')).names)
    .map((f) => `${f.file}:${f.line} '${f.text}'`);
  assert.deepEqual(out, []);
});

test('custom requests and notifications go only through the typed helpers', () => {
  const out = files
    .filter((f) => !TYPED_HELPERS.includes(rel(f)))
    .flatMap((f) => contractViolations(rel(f), readFileSync(f, 'utf8')).calls)
    .map((f) => `${f.file}:${f.line} ${f.text}`);
  assert.deepEqual(out, []);
});
