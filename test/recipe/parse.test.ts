import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { LineIndex, MAX_RECIPE_BYTES, checkRecipe, parseRecipe } from '../../server/src/engine/recipe';
import { VALID_RECIPE, edit, rangeOfText } from './fixtures';

const FILE = 'site.compose.yaml';

test('rangeOf gives the value, key and pair ranges of any path', () => {
  const { recipe, problems } = parseRecipe(VALID_RECIPE, FILE);
  assert.deepEqual(problems, []);
  assert.ok(recipe);
  assert.deepEqual(recipe.rangeOf(['weights', 'lambda']), rangeOfText(VALID_RECIPE, '0.05'));
  assert.deepEqual(recipe.rangeOf(['weights', 'lambda'], 'key'), rangeOfText(VALID_RECIPE, 'lambda'));
  assert.deepEqual(recipe.rangeOf(['weights', 'lambda'], 'pair'), rangeOfText(VALID_RECIPE, 'lambda: 0.05'));
  assert.deepEqual(recipe.rangeOf(['retrieve', 'exclude', 0]), rangeOfText(VALID_RECIPE, 'prostate-e]'.slice(0, -1), 2));
  assert.deepEqual(recipe.rangeOf(['evaluate', 'command', 2]), rangeOfText(VALID_RECIPE, '"{output}"'));
  assert.deepEqual(recipe.rangeOf(['merge']), rangeOfText(VALID_RECIPE, '{ method: svd, rank: 16, dtype: bf16, modules_to_save: refuse }'));
  // A block mapping's value ends at its last value, not after its trailing comment.
  assert.deepEqual(recipe.rangeOf(['target']), rangeOfText(VALID_RECIPE, 'samples: data/prostate-e/*.npy'));
  assert.equal(recipe.rangeOf(['weights', 'nope']), undefined);
  assert.equal(recipe.rangeOf(['weights', 'lambda', 'deeper']), undefined);
  // locationOf is 1-based.
  const at = rangeOfText(VALID_RECIPE, '0.05').start;
  assert.deepEqual(recipe.locationOf(['weights', 'lambda']), {
    file: FILE,
    line: at.line + 1,
    column: at.character + 1,
    endLine: at.line + 1,
    endColumn: at.character + 5,
  });
  // A path that does not exist points at its nearest existing ancestor's key.
  assert.deepEqual(recipe.problemRange(['weights', 'manual', 'x']), rangeOfText(VALID_RECIPE, 'weights'));
});

test('aliases are followed by rangeOf and expanded in the data', () => {
  const text = 'compose: 1\nbase: &b facebook/sam\nlibrary: lib\ntarget: { text: *b }\noutput: out\n';
  const { recipe } = parseRecipe(text, FILE);
  assert.equal((recipe!.data.target as { text: string }).text, 'facebook/sam');
  assert.deepEqual(recipe!.rangeOf(['target', 'text']), rangeOfText(text, 'facebook/sam'));
});

test('CRLF and lone CR line breaks count as LSP counts them', () => {
  const text = VALID_RECIPE.replace(/\n/g, '\r\n');
  const { recipe } = parseRecipe(text, FILE);
  assert.deepEqual(recipe!.rangeOf(['weights', 'lambda']), rangeOfText(VALID_RECIPE, '0.05'));
  const lines = new LineIndex('a\rb\r\nc\nd');
  assert.deepEqual([1, 2, 3, 5, 6, 7, 8].map((o) => lines.positionAt(o)), [
    { line: 0, character: 1 },
    { line: 1, character: 0 },
    { line: 1, character: 1 },
    { line: 2, character: 0 },
    { line: 2, character: 1 },
    { line: 3, character: 0 },
    { line: 3, character: 1 },
  ]);
  for (let o = 0; o <= 8; o++) if (o !== 4) assert.equal(lines.offsetAt(lines.positionAt(o)), o);
  assert.deepEqual(lines.positionAt(1e9), { line: 3, character: 1 });
  assert.deepEqual(lines.positionAt(-5), { line: 0, character: 0 });
});

test('a Docker Compose file is not a recipe: one information note', () => {
  const docker = 'services:\n  web:\n    image: nginx\n    ports: ["80:80"]\nvolumes:\n  data: {}\n';
  for (const r of [parseRecipe(docker, 'docker.compose.yaml'), checkRecipe(docker, 'docker.compose.yaml')]) {
    assert.equal(r.notARecipe, true);
    assert.equal(r.recipe, undefined);
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0].severity, 'information');
    assert.equal(r.problems[0].message, 'not an Adapter Composer recipe (no `compose:` key); skipped');
  }
  // Even a Docker Compose file with a syntax error is skipped, not diagnosed.
  assert.equal(checkRecipe('services:\n  web: [\n', 'docker.compose.yaml').notARecipe, true);
  // An empty file (a new recipe being written) is not one yet either.
  assert.equal(checkRecipe('', 'new.compose.yaml').notARecipe, true);
  assert.equal(checkRecipe('# just a comment\n', 'new.compose.yaml').notARecipe, true);
});

test('a recipe that forgot `compose:` is diagnosed, not skipped', () => {
  const text = edit(VALID_RECIPE, 'compose: 1\n', '');
  const r = checkRecipe(text, FILE);
  assert.equal(r.notARecipe, undefined);
  const p = r.problems.filter((x) => x.code === 'missing-key');
  assert.equal(p.length, 1);
  assert.match(p[0].message, /missing `compose: 1`/);
  assert.deepEqual(p[0].range, rangeOfText(text, 'base'));
});

test('billion laughs: stops quickly with an error and bounded memory', () => {
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  const names = 'abcdefghij';
  for (let i = 1; i < 10; i++) levels.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(',')}]`);
  const text = `compose: 1\nbase: x\n${levels.join('\n')}\n`;
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const r = checkRecipe(text, FILE);
  const ms = performance.now() - t0;
  const grown = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(ms < 2000, `took ${ms} ms`);
  assert.ok(grown < 200 * 1024 * 1024, `heap grew ${grown} bytes`);
  assert.equal(r.recipe, undefined);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0].code, 'alias-limit');
  assert.equal(r.problems[0].range.start.line, 3, 'points at the first alias');
});

test('a 5 MB document is one error, fast', () => {
  const text = VALID_RECIPE + `description: "${'x'.repeat(5 * 1024 * 1024)}"\n`;
  const t0 = performance.now();
  const r = checkRecipe(text, FILE);
  assert.ok(performance.now() - t0 < 1000);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0].code, 'too-large');
  assert.match(r.problems[0].message, /^the recipe is 5\.0 MB; a recipe may be at most 1 MB$/);
  // Just under the cap is read normally.
  const under = VALID_RECIPE + `description: ${'x'.repeat(MAX_RECIPE_BYTES - VALID_RECIPE.length - 100)}\n`;
  const t1 = performance.now();
  assert.deepEqual(checkRecipe(under, FILE).problems, []);
  assert.ok(performance.now() - t1 < 2000);
});

test('binary junk is one error; a stray control character is located', () => {
  const junk = randomBytes(20000).toString('latin1');
  const r = checkRecipe(junk, FILE);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0].severity, 'error');
  assert.ok(['binary', 'yaml-syntax'].includes(r.problems[0].code), r.problems[0].code);
  const withNul = checkRecipe('compose: 1\u0000\n', FILE);
  assert.equal(withNul.problems[0].code, 'binary');
  const text = edit(VALID_RECIPE, 'name: prostate-e', 'name: prost\u0007ate-e');
  const bell = checkRecipe(text, FILE).problems;
  assert.equal(bell.length, 1);
  assert.match(bell[0].message, /U\+0007/);
  assert.deepEqual(bell[0].range, rangeOfText(text, '\u0007'));
});

test('10k levels of nesting never throw and give one located error', () => {
  const inputs = [
    `compose: 1\ntarget: ${'['.repeat(10000)}${']'.repeat(10000)}\n`,
    `compose: 1\ntarget: ${'{a: '.repeat(10000)}1${'}'.repeat(10000)}\n`,
    `compose: 1\ntarget:\n  ${'- '.repeat(10000)}x\n`,
  ];
  for (const text of inputs) {
    const t0 = performance.now();
    const r = checkRecipe(text, FILE);
    assert.ok(performance.now() - t0 < 5000);
    assert.equal(r.recipe, undefined);
    assert.ok(r.problems.length >= 1);
    assert.ok(r.problems.every((p) => p.severity === 'error'));
    assert.ok(r.problems.some((p) => p.code === 'too-deep' || p.code === 'yaml-syntax'), JSON.stringify(r.problems[0]));
  }
  // 64 levels is fine structurally (the schema then rejects the shape).
  const ok = checkRecipe(`compose: 1\ntarget: ${'['.repeat(30)}${']'.repeat(30)}\n`, FILE);
  assert.ok(ok.recipe);
});

test('a top-level sequence or scalar is not a recipe', () => {
  assert.equal(checkRecipe('- compose: 1\n', FILE).notARecipe, true);
  assert.equal(checkRecipe('just text', FILE).notARecipe, true);
});

test('parseRecipe never throws on odd values', () => {
  for (const text of [undefined, null, 42, {}] as unknown as string[]) {
    const r = parseRecipe(text, FILE);
    assert.ok(Array.isArray(r.problems));
  }
});
