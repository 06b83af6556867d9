/**
 * The editor's "Run leave-one-out" job (engine/eval/recipeEvaluation.ts): the library's protocol with the
 * recipe's settings (the same numbers as `eval <recipe> --leave-one-out`), each strategy's composite
 * scored by the recipe's evaluator, progress that only goes forward, and a cancel that leaves no files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluateLibrary } from '../../server/src/engine/eval/evaluateLibrary';
import { evaluateRecipe, recipeEvalDefaults } from '../../server/src/engine/eval/recipeEvaluation';
import { createPlanner } from '../../server/src/engine/planner';
import { isComposerError } from '../../server/src/engine/errors';
import { GOOD_RECIPE, buildFixture, removeFixture, type Fixture } from '../lsp/fixture';

let fixture: Fixture;
let recipe: string;

before(async () => {
  fixture = await buildFixture('ac-recipe-eval-');
  // The evaluator reports the composite it was given: how many adapters it merges and their weight sum.
  const script = path.join(fixture.root, 'inputs.js');
  fs.writeFileSync(script, `const c = JSON.parse(require('fs').readFileSync(require('path').join(process.argv[2], 'composition.json'), 'utf8'));
console.log(JSON.stringify({ inputs: c.inputs.length, weight_sum: c.inputs.reduce((s, i) => s + i.weight, 0) }));`);
  recipe = path.join(fixture.recipes, 'scored.compose.yaml');
  fs.writeFileSync(recipe, `${GOOD_RECIPE}evaluate: { command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(script)}, '{output}'], timeout: 60 }\n`);
});

after(() => removeFixture(fixture));

test('the recipe\'s settings give the same leave-one-out as the library evaluated with them', async () => {
  const defaults = recipeEvalDefaults(recipe, fixture.recipes)!;
  assert.equal(defaults.library, fixture.library);
  assert.equal(defaults.k, 4);
  assert.equal(defaults.lambda, 0.05);
  const job = await evaluateRecipe(recipe, { allowExec: true, workspaceRoot: fixture.root });
  const direct = await evaluateLibrary(fixture.library, { k: 4, lambda: 0.05, base: defaults.base });
  assert.deepEqual(job.leaveOneOut.targets.map((t) => t.target), direct.targets.map((t) => t.target));
  for (const t of direct.targets) {
    const got = job.leaveOneOut.targets.find((x) => x.target === t.target)!;
    for (const s of direct.strategies) assert.equal(got.strategies[s]!.delta_rel_error, t.strategies[s]!.delta_rel_error, `${t.target} ${s}`);
  }
});

test('each strategy\'s composite of the recipe is what its evaluator scores', async () => {
  const job = await evaluateRecipe(recipe, { allowExec: true, workspaceRoot: fixture.root });
  const planner = createPlanner();
  const plan = (await planner.plan(fs.readFileSync(recipe, 'utf8'), recipe, { workspaceRoot: fixture.root })).plan!;
  await planner.dispose();
  const scored = job.metrics!.targets[0].strategies;
  const strategies = Object.keys(plan.strategies).filter((s) => s !== 'manual');
  assert.deepEqual(Object.keys(scored).sort(), strategies.sort());
  for (const s of strategies) {
    const weights = Object.values(plan.strategies[s as keyof typeof plan.strategies]!.weights).filter((w) => w !== 0);
    assert.equal(scored[s as keyof typeof scored]!.metrics.inputs, weights.length, s);
    assert.ok(Math.abs(scored[s as keyof typeof scored]!.metrics.weight_sum - weights.reduce((a, b) => a + b, 0)) < 1e-9, s);
  }
});

test('without an evaluator that may run, the job says why and scores nothing', async () => {
  const job = await evaluateRecipe(recipe, { allowExec: false, workspaceRoot: fixture.root });
  assert.equal(job.metrics, undefined);
  assert.match(job.metricsNote ?? '', /external command .* trusted workspace/);
  const plain = await evaluateRecipe(fixture.goodRecipe, { workspaceRoot: fixture.root });
  assert.match(plain.metricsNote ?? '', /no `evaluate:` block/);
});

test('progress only goes forward to the end; a cancel between composites stops it and removes its files', async () => {
  const fractions: number[] = [];
  await evaluateRecipe(recipe, { allowExec: true, workspaceRoot: fixture.root, onProgress: (_m, f) => { if (f !== undefined) fractions.push(f); } });
  assert.ok(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]), `monotone: ${fractions}`);
  assert.equal(fractions.at(-1), 1);

  const scratch = path.join(fixture.root, 'scratch');
  const controller = new AbortController();
  const error = await evaluateRecipe(recipe, {
    allowExec: true, workspaceRoot: fixture.root, scratchDir: scratch, signal: controller.signal,
    onProgress: (message) => { if (message.startsWith('evaluator:')) controller.abort(); },
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(isComposerError(error) && error.code === 'cancelled', String(error));
  assert.deepEqual(fs.readdirSync(scratch), [], 'the composites merged so far are gone');
});

test('a recipe without `library:` is evaluated on the editor\'s default library, relative to the workspace', async () => {
  const file = path.join(fixture.recipes, 'default-library.compose.yaml');
  fs.writeFileSync(file, fs.readFileSync(recipe, 'utf8').replace('library: ../library\n', ''));
  const job = await evaluateRecipe(file, { allowExec: true, workspaceRoot: fixture.root, libraryUri: 'library' });
  const named = await evaluateRecipe(recipe, { allowExec: true, workspaceRoot: fixture.root });
  assert.equal(job.leaveOneOut.library.uri, fixture.library);
  assert.deepEqual(job.leaveOneOut.summary, named.leaveOneOut.summary);
  assert.deepEqual(Object.keys(job.metrics!.targets[0].strategies).sort(), Object.keys(named.metrics!.targets[0].strategies).sort());
});
