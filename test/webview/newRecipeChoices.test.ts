/**
 * "New Composition Recipe…"'s choices (client/src/newRecipeChoices.ts): found in code-server, where the strategy
 * pick's placeholder said sparse is the default while Enter chose avg (the first item), and the save dialog
 * turned the offered `grammar-02.compose.yaml` into `grammar-02.compose.yaml.compose.yaml`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recipeFilePath, strategyItems } from '../../client/src/newRecipeChoices';
import { STRATEGIES } from '../../server/src/engine/types';

test('the strategy pick offers the default first (Enter takes it), every strategy once, each explained', () => {
  const items = strategyItems();
  assert.equal(items[0].label, 'sparse');
  assert.match(items[0].description, /^\(default\)/);
  assert.deepEqual([...items.map((i) => i.label)].sort(), [...STRATEGIES].sort());
  for (const i of items) assert.ok(i.description.length > 5, `${i.label} is explained`);
  assert.equal(items.filter((i) => i.description.includes('(default)')).length, 1);
});

test('the recipe file gets exactly one .compose.yaml, whatever the save dialog appended', () => {
  assert.equal(recipeFilePath('/ws/grammar-02.compose.yaml.compose.yaml'), '/ws/grammar-02.compose.yaml');
  assert.equal(recipeFilePath('/ws/grammar-02.compose.yaml.yaml'), '/ws/grammar-02.compose.yaml');
  assert.equal(recipeFilePath('/ws/grammar-02.compose.yaml'), '/ws/grammar-02.compose.yaml');
  assert.equal(recipeFilePath('/ws/grammar-02.compose.yml'), '/ws/grammar-02.compose.yml');
  assert.equal(recipeFilePath('/ws/mix'), '/ws/mix.compose.yaml');
  assert.equal(recipeFilePath('/ws/mix.yaml'), '/ws/mix.compose.yaml');
  // a dotted name keeps its dots
  assert.equal(recipeFilePath('/ws/llama-3.1-mix'), '/ws/llama-3.1-mix.compose.yaml');
});
