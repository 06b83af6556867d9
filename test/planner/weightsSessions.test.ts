/**
 * The planner keeps each problem's weights session (cost matrix, lin, convex, both λ-paths, the
 * candidates' distances) across plans: a re-plan that changes only the weights' parameters reuses it,
 * and what it answers is what a fresh planner computes from nothing. A changed target or library
 * makes a new session.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDemoWorkspace } from '../../server/src/engine/demo/buildDemo';
import { CachingPlanner } from '../../server/src/engine/planner/plan';

let root: string;
let recipe: string;
let text: string;

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-weights-sessions-'));
  await buildDemoWorkspace(path.join(root, 'ws'));
  recipe = path.join(root, 'ws', 'recipes', 'code-14.compose.yaml');
  text = fs.readFileSync(recipe, 'utf8');
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

/** The recipe with its weights block replaced (the demo's recipes end their weights block at merge:). */
function withWeights(weights: string): string {
  const block = /weights:[\s\S]*?(?=\nmerge:)/;
  assert.match(text, block, 'the recipe has a weights block to replace');
  return text.replace(block, `weights:\n${weights}`);
}

async function fresh(source: string) {
  const planner = new CachingPlanner();
  try {
    const outcome = await planner.plan(source, recipe, { provider: 'cpu' });
    assert.ok(outcome.plan, outcome.problems.map((p) => p.message).join('; '));
    return outcome.plan;
  } finally {
    await planner.dispose();
  }
}

test('re-plans that change ρ, the strategy, the form or τ reuse the session and answer what a fresh planner does', async () => {
  const planner = new CachingPlanner();
  try {
    const edits = [
      '  strategy: sparse\n  rho: 0.5',
      '  strategy: sparse\n  rho: 0.2',
      '  strategy: sparse\n  form: lasso\n  rho: 0.7',
      '  strategy: sim\n  temperature: 3',
      '  strategy: lin',
    ];
    for (const [i, weights] of edits.entries()) {
      const source = withWeights(weights);
      const outcome = await planner.plan(source, recipe, { provider: 'cpu' });
      assert.ok(outcome.plan, outcome.problems.map((p) => p.message).join('; '));
      assert.equal(planner.weightsSessions.hits, i, `plan ${i + 1}: ${i} reuses before it`);
      const expected = await fresh(source);
      assert.deepEqual(outcome.plan.strategies, expected.strategies, weights);
      assert.deepEqual(outcome.plan.lambda_paths, expected.lambda_paths);
      assert.deepEqual(outcome.plan.lambda_path, expected.lambda_path);
      assert.deepEqual(outcome.plan.candidate_distances, expected.candidate_distances);
    }
  } finally {
    await planner.dispose();
  }
});

test('another target (other samples) is another problem: no reuse', async () => {
  const planner = new CachingPlanner();
  try {
    const first = await planner.plan(text, recipe, { provider: 'cpu' });
    assert.ok(first.plan);
    // Another recipe of the demo has other samples, hence another target prototype.
    const otherFile = fs.readdirSync(path.dirname(recipe)).find((f) => f.endsWith('.compose.yaml') && f !== path.basename(recipe))!;
    const other = path.join(path.dirname(recipe), otherFile);
    const second = await planner.plan(fs.readFileSync(other, 'utf8'), other, { provider: 'cpu' });
    assert.ok(second.plan, second.problems.map((p) => p.message).join('; '));
    assert.notEqual(second.plan.target.sha256, first.plan.target.sha256);
    assert.equal(planner.weightsSessions.hits, 0);
    // Back to the first: its session is still kept.
    await planner.plan(text, recipe, { provider: 'cpu' });
    assert.equal(planner.weightsSessions.hits, 1);
  } finally {
    await planner.dispose();
  }
});
