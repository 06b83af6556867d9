/**
 * The TextMate grammar of *.compose.yaml, tokenized with the same engine VS Code uses (vscode-textmate +
 * Oniguruma, taken from the code-server install; skipped without it — scripts/setup-editor-tests.sh installs it).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const vscodeModules = join(__dirname, '../../.tools/code-server/node_modules/code-server/lib/vscode/node_modules');
const skip = existsSync(join(vscodeModules, 'vscode-textmate')) ? false : 'vscode-textmate not installed (run scripts/setup-editor-tests.sh)';
const grammarFile = join(__dirname, '../../syntaxes/adapter-compose.tmLanguage.json');

const recipe = `# demo recipe
compose: 1
name: "code-14"
library: ../library
retrieve:
  k: 5
  exclude: [code-14, 'legal-03']
weights:
  strategy: sparse   # the default
  lambda: 0.05
merge: {method: svd, rank: 16}
evaluate:
  command: [python, eval.py, --adapter, "{output}"]
flag: true
`;

async function tokenize(): Promise<{ text: string; scopes: string[] }[][]> {
  /* eslint-disable @typescript-eslint/no-require-imports -- VS Code's own copies, found at run time */
  const textmate = require(join(vscodeModules, 'vscode-textmate'));
  const oniguruma = require(join(vscodeModules, 'vscode-oniguruma'));
  const wasm = readFileSync(join(vscodeModules, 'vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p), createOnigString: (s: string) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope: string) => (scope === 'source.adapter-compose' ? textmate.parseRawGrammar(readFileSync(grammarFile, 'utf8'), grammarFile) : null),
  });
  const grammar = await registry.loadGrammar('source.adapter-compose');
  let state = textmate.INITIAL;
  return recipe.split('\n').map((line) => {
    const result = grammar.tokenizeLine(line, state);
    state = result.ruleStack;
    return result.tokens.map((t: { startIndex: number; endIndex: number; scopes: string[] }) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

function scopeOf(lines: { text: string; scopes: string[] }[][], line: number, text: string): string {
  const token = lines[line].find((t) => t.text.trim() === text);
  assert.ok(token, `token "${text}" on line ${line + 1}: ${JSON.stringify(lines[line].map((t) => t.text))}`);
  return token.scopes.join(' ');
}

test('the grammar tokenizes a recipe like VS Code does', { skip }, async () => {
  const lines = await tokenize();
  assert.match(scopeOf(lines, 0, 'demo recipe'), /comment\.line/);
  assert.match(scopeOf(lines, 1, 'compose'), /keyword\.other\.section/);
  assert.match(scopeOf(lines, 1, '1'), /constant\.numeric/);
  assert.match(scopeOf(lines, 2, 'code-14'), /string\.quoted\.double/);
  assert.match(scopeOf(lines, 3, '../library'), /string\.unquoted/);
  assert.match(scopeOf(lines, 5, 'k'), /entity\.name\.tag/);
  assert.match(scopeOf(lines, 6, 'code-14'), /string\.unquoted/);
  assert.match(scopeOf(lines, 6, 'legal-03'), /string\.quoted\.single/);
  assert.match(scopeOf(lines, 8, 'sparse'), /support\.constant\.strategy/);
  assert.match(scopeOf(lines, 8, 'the default'), /comment\.line/);
  assert.match(scopeOf(lines, 9, '0.05'), /constant\.numeric/);
  assert.match(scopeOf(lines, 10, 'svd'), /support\.constant\.strategy/);
  assert.match(scopeOf(lines, 10, '16'), /constant\.numeric/);
  assert.match(scopeOf(lines, 12, '{output}'), /string\.quoted\.double/);
  assert.match(scopeOf(lines, 13, 'true'), /constant\.language\.boolean/);
});
