/**
 * Behaviour the mutation review of engine/weights (docs/testing.md#mutation-testing) found untested:
 * each case is checked against an independent computation (KKT conditions written out in
 * test/weights/reference.ts, direct sums over the vectors), never against values the engine printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { solveWeights } from '../../server/src/engine/weights';
import { convexViolation, randomProblem, referenceCost, seededRandom, sum } from './reference';

test('convex: a target inside the hull of 160 prototypes in D = 150 (an optimum on > 100 candidates) is reached exactly', () => {
  // Wolfe's method adds one candidate per iteration: the optimum here needs more than 100 of them, so a
  // solver that stops after a fixed ~100 iterations leaves a positive residual and a descent direction.
  const random = seededRandom(1401);
  const k = 160;
  const dim = 150;
  const p = randomProblem(random, k, dim);
  // The target: a convex combination with every weight > 0, so the best residual is 0.
  const mix = Array.from({ length: k }, () => 0.5 + random());
  const total = sum(mix);
  p.target = Float64Array.from({ length: dim }, (_, d) => p.prototypes.reduce((s, proto, i) => s + (mix[i] / total) * proto[d], 0));
  const result = solveWeights(p, { strategy: 'convex' });
  const w = p.names.map((n) => result.weights[n]);
  const c = referenceCost(p.target, p.prototypes);
  assert.equal(convexViolation(c, w, 1e-8), '');
  let scale = 0;
  for (let i = 0; i < k; i++) scale = Math.max(scale, c[i][i]);
  assert.ok(result.residual <= 1e-6 * Math.sqrt(scale), `residual ${result.residual} (distances up to ${Math.sqrt(scale)})`);
  assert.ok(result.nonzero > 100, `${result.nonzero} candidates carry weight`);
});
