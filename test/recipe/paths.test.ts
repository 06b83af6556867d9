import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { globSync } from 'tinyglobby';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { checkRecipe, lockPathFor, resolveRecipePaths } from '../../server/src/engine/recipe';
import { VALID_RECIPE, edit } from './fixtures';

test('paths resolve against the recipe folder; URIs stay as they are', () => {
  const file = '/ws/recipes/prostate-e.compose.yaml';
  const { recipe } = checkRecipe(VALID_RECIPE, file);
  const p = resolveRecipePaths(recipe!, file);
  assert.equal(p.recipeDir, '/ws/recipes');
  assert.equal(p.library, '/ws/library');
  assert.equal(p.libraryIsUri, false);
  assert.equal(p.output, '/ws/out/prostate-e');
  assert.equal(p.lock, '/ws/recipes/prostate-e.compose.lock');
  assert.deepEqual(p.target, { source: 'samples', patterns: ['data/prostate-e/*.npy'], globs: ['/ws/recipes/data/prostate-e/*.npy'] });

  const s3 = edit(edit(VALID_RECIPE, 'library: ../library', 'library: s3://bucket/prefix'), '  samples: data/prostate-e/*.npy', '  features: ./e.features.npy');
  const q = resolveRecipePaths(checkRecipe(s3, file).recipe!, file);
  assert.equal(q.library, 's3://bucket/prefix');
  assert.equal(q.libraryIsUri, true);
  assert.deepEqual(q.target, { source: 'features', file: '/ws/recipes/e.features.npy' });
});

test('lock path: the recipe name without .compose.yaml, next to it', () => {
  assert.equal(lockPathFor('/a/b/site.compose.yaml'), '/a/b/site.compose.lock');
  assert.equal(lockPathFor('/a/b/site.compose.yml'), '/a/b/site.compose.lock');
  assert.equal(lockPathFor('/a/b/site.yaml'), '/a/b/site.compose.lock');
  assert.equal(lockPathFor('rel/x.compose.yaml'), path.resolve('rel/x.compose.lock'));
});

test('sample globs find files even when the recipe folder has glob characters in its name', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'recipe-'));
  try {
    const dir = path.join(root, 'site [v2] (x)');
    mkdirSync(path.join(dir, 'data'), { recursive: true });
    for (const n of ['a.npy', 'b.npy', 'c.txt']) writeFileSync(path.join(dir, 'data', n), '');
    const file = path.join(dir, 'r.compose.yaml');
    const text = edit(VALID_RECIPE, 'data/prostate-e/*.npy', 'data/*.npy');
    const p = resolveRecipePaths(checkRecipe(text, file).recipe!, file);
    const found = globSync(p.target.globs!).map((f) => path.basename(f)).sort();
    assert.deepEqual(found, ['a.npy', 'b.npy']);
    const viaCwd = globSync(p.target.patterns!, { cwd: p.recipeDir }).sort();
    assert.deepEqual(viaCwd, ['data/a.npy', 'data/b.npy']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the glob prefix escapes exactly as tinyglobby does', async () => {
  const { convertPathToPattern } = await import('tinyglobby');
  const { pathToGlobPrefix } = await import('../../server/src/engine/recipe/paths');
  for (const p of ['/a/b', '/a/site [v2] (x)', '/x/{a,b}/*?', '/!neg/a+(b)', '/back\\slash', '/at@(x)|y']) {
    assert.equal(pathToGlobPrefix(p), convertPathToPattern(p), p);
  }
});
