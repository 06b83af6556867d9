import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdit, checkRecipe, parseRecipe, setValueEdit, type EditValue } from '../../server/src/engine/recipe';
import { VALID_RECIPE, edit } from './fixtures';

const FILE = 'r.compose.yaml';

/** Every comment of the original still appears, in the same order. */
function commentsOf(text: string): string[] {
  return text.split('\n').flatMap((l) => (l.includes('#') ? [l.slice(l.indexOf('#')).trim()] : []));
}

function roundTrip(text: string, path: string[], value: EditValue): string {
  const e = setValueEdit(text, path, value);
  assert.ok(e, `no edit for ${path.join('.')}`);
  const out = applyEdit(text, e);
  const { recipe, problems } = parseRecipe(out, FILE);
  assert.ok(recipe, JSON.stringify(problems));
  let here: unknown = recipe.data;
  for (const seg of path) here = (here as Record<string, unknown>)[seg];
  assert.deepEqual(here, value);
  // Comments survive and nothing before the edit moved.
  for (const c of commentsOf(text)) assert.ok(out.includes(c), `lost comment ${c}`);
  const startOffset = text.split('\n').slice(0, e.range.start.line).join('\n').length + (e.range.start.line > 0 ? 1 : 0) + e.range.start.character;
  assert.equal(out.slice(0, startOffset), text.slice(0, startOffset));
  return out;
}

test('setting λ replaces just the number', () => {
  const e = setValueEdit(VALID_RECIPE, ['weights', 'lambda'], 0.125)!;
  assert.equal(e.newText, '0.125');
  assert.equal(e.range.end.character - e.range.start.character, '0.05'.length);
  const out = roundTrip(VALID_RECIPE, ['weights', 'lambda'], 0.125);
  assert.equal(out, VALID_RECIPE.replace('lambda: 0.05', 'lambda: 0.125'));
});

test('pinning manual weights adds a block mapping after the last weights key', () => {
  const out = roundTrip(VALID_RECIPE, ['weights', 'manual'], { 'prostate-b': 0.625, 'prostate-f': 0.375 });
  assert.ok(out.includes('  lambda: 0.05\n  manual:\n    prostate-b: 0.625\n    prostate-f: 0.375\nmerge:'), out);
  // Then switching the strategy keeps the recipe valid.
  const manual = roundTrip(out, ['weights', 'strategy'], 'manual');
  const r = checkRecipe(manual, FILE);
  assert.deepEqual(r.problems.map((p) => p.code), ['unused-parameter']);
});

test('replacing an existing block mapping keeps the keys around it', () => {
  const text = edit(VALID_RECIPE, '  lambda: 0.05', '  manual:   # pinned\n    a: 0.5\n    b: 0.5\n  lambda: 0.05  # after');
  const out = roundTrip(text, ['weights', 'manual'], { c: 0.25, 'name with: colon': 0.75 });
  assert.ok(out.includes('  manual:   # pinned\n    c: 0.25\n    "name with: colon": 0.75\n  lambda: 0.05  # after'), out);
});

test('a key with an empty value gets its value after the colon, keeping its comment', () => {
  const text = edit(VALID_RECIPE, '  lambda: 0.05', '  lambda:   # set me');
  const out = roundTrip(text, ['weights', 'lambda'], 0.5);
  assert.ok(out.includes('  lambda: 0.5   # set me'), out);
  const text2 = edit(VALID_RECIPE, '  lambda: 0.05', '  manual:  # fill\n  lambda: 0.05');
  const out2 = roundTrip(text2, ['weights', 'manual'], { a: 1 });
  assert.ok(out2.includes('  manual:  # fill\n    a: 1\n  lambda: 0.05'), out2);
});

test('flow mappings get flow insertions; missing sections are created', () => {
  const out = roundTrip(VALID_RECIPE, ['merge', 'rank'], 8);
  assert.ok(out.includes('merge: { method: svd, rank: 8, dtype: bf16'), out);
  const out2 = roundTrip(VALID_RECIPE, ['retrieve', 'adapters'], ['a', 'b']);
  assert.ok(out2.includes(`where: "array_has(tags, 'prostate')", adapters: [a, b] }`), out2);
  const noWeights = edit(VALID_RECIPE, 'weights:\n  strategy: sparse\n  lambda: 0.05\n', '');
  const out3 = roundTrip(noWeights, ['weights', 'lambda'], 0.01);
  assert.ok(out3.endsWith('timeout: 600 }\nweights:\n  lambda: 0.01\n'), out3);
  const out4 = roundTrip('', ['weights', 'lambda'], 1);
  assert.equal(out4, 'weights:\n  lambda: 1\n');
});

test('strings that need quotes are quoted; four-space documents keep four spaces', () => {
  roundTrip(VALID_RECIPE, ['name'], 'a: b # c');
  roundTrip(VALID_RECIPE, ['name'], 'yes');
  roundTrip(VALID_RECIPE, ['name'], '0.5');
  roundTrip(VALID_RECIPE, ['description'], 'line\nbreak "quoted"');
  const four = 'compose: 1\nweights:\n    strategy: sparse\n';
  const out = roundTrip(four, ['weights', 'manual'], { a: 1 });
  assert.equal(out, 'compose: 1\nweights:\n    strategy: sparse\n    manual:\n        a: 1\n');
});

test('no edit for unreadable YAML or a path through a list', () => {
  assert.equal(setValueEdit('a: [', ['a'], 1), undefined);
  assert.equal(setValueEdit(VALID_RECIPE, ['evaluate', 'command', 'x'], 1), undefined);
  assert.equal(setValueEdit(VALID_RECIPE, [], 1), undefined);
});
