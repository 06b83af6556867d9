import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRecipe, setValueEdit, applyEdit, type Range } from '../../server/src/engine/recipe';
import { VALID_RECIPE } from './fixtures';
import { seededRandom } from '../../server/src/engine/random';

const rng = seededRandom;

const ALPHABET = ' \n\t:-{}[],#&*!|>\'"%@`?abcxyz0123456789.\u00e9\u{1F600}\r\u0000';

function mutate(text: string, random: () => number): string {
  let s = text;
  const edits = 1 + Math.floor(random() * 6);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (s.length + 1));
    const op = random();
    if (op < 0.4) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(random() * 8));
    else {
      const chars = Array.from(ALPHABET);
      let insert = '';
      for (let n = 1 + Math.floor(random() * 4); n > 0; n--) insert += chars[Math.floor(random() * chars.length)];
      s = s.slice(0, at) + insert + s.slice(at);
    }
  }
  return s;
}

/** Lines by LSP rules (\n, \r\n, lone \r), computed independently of LineIndex. */
function lineLengths(text: string): number[] {
  return text.split(/\r\n|\r|\n/).map((l) => l.length);
}

function inside(range: Range, lengths: number[]): boolean {
  const ok = (p: { line: number; character: number }) =>
    Number.isInteger(p.line) && Number.isInteger(p.character) && p.line >= 0 && p.line < lengths.length && p.character >= 0 && p.character <= lengths[p.line];
  const ordered = range.start.line < range.end.line || (range.start.line === range.end.line && range.start.character <= range.end.character);
  return ok(range.start) && ok(range.end) && ordered;
}

test('2000 random mutations of a valid recipe: checkRecipe never throws, every range is inside the document', () => {
  const random = rng(20240601);
  let withRecipe = 0;
  let withErrors = 0;
  for (let i = 0; i < 2000; i++) {
    const text = mutate(VALID_RECIPE, random);
    let result;
    try {
      result = checkRecipe(text, '/ws/r.compose.yaml', { workspaceRoot: '/ws' });
    } catch (e) {
      assert.fail(`threw on mutation ${i}: ${(e as Error).stack}\n---\n${JSON.stringify(text)}`);
    }
    const lengths = lineLengths(text);
    for (const p of result.problems) {
      assert.ok(inside(p.range, lengths), `mutation ${i}: ${JSON.stringify(p)} outside ${JSON.stringify(text)}`);
      assert.ok(['error', 'warning', 'information', 'hint'].includes(p.severity));
      assert.ok(p.message.length > 0 && !p.message.includes('\n'), JSON.stringify(p.message));
      assert.notEqual(p.code, 'internal', `mutation ${i}: ${p.message}\n${JSON.stringify(text)}`);
    }
    if (result.recipe) withRecipe++;
    if (result.problems.some((p) => p.severity === 'error')) withErrors++;
    // The language server's edits must not throw either.
    const e = i % 3 === 0 ? setValueEdit(text, ['weights', 'lambda'], 0.5) : undefined;
    if (e) {
      assert.ok(inside(e.range, lengths));
      applyEdit(text, e);
    }
  }
  // The mutations exercise both readable and broken recipes.
  assert.ok(withRecipe > 200, `only ${withRecipe} parsed`);
  assert.ok(withErrors > 200, `only ${withErrors} had errors`);
});
