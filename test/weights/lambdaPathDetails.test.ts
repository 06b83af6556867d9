/**
 * The constrained λ-path (engine/weights/lambdaPath.ts) where a candidate that reaches the boundary
 * must not join after all (its direction points back to 0): prototypes with an exact affine
 * dependency, where such joins happen (the mutation review found them untested). Every breakpoint and
 * points between them are checked against the KKT conditions and the enumerated optimum
 * (test/weights/reference.ts). And paths with more than 100 breakpoints (k = 120, 160), for both forms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lambdaPath, sparseAt } from '../../server/src/engine/weights';
import { closeObjective, l1, quadratic, randomProblem, referenceCost, referenceSparse, seededRandom, sparseViolation } from './reference';

test('λ-path with affinely dependent prototypes: every breakpoint and the points between are optimal', () => {
  const random = seededRandom(31);
  let checked = 0;
  for (let trial = 0; trial < 600; trial++) {
    const k = 3 + (trial % 6);
    const kind = trial % 4;
    // the same sequence of problems as the search that found the joins that must be undone
    const p = randomProblem(random, k, kind === 0 ? 1 + (trial % 3) : 3 + (trial % 5), { duplicates: kind === 1 ? 1 : 0, affineMixes: kind === 2 ? 1 : 0, offset: kind === 3 ? 2 : 0 });
    if (kind !== 2 || k > 7) continue;
    const c = referenceCost(p.target, p.prototypes);
    const path = lambdaPath(p);
    const points = path.breakpoints;
    const lambdas = [...points.map((q) => q.lambda), ...points.slice(1).map((q, b) => (q.lambda + points[b].lambda) / 2)];
    for (const lambda of lambdas) {
      const w = sparseAt(path, lambda);
      assert.equal(sparseViolation(c, w, lambda), '', `trial ${trial} (k=${k}) λ=${lambda}: ${w}`);
      const reference = referenceSparse(c, lambda);
      assert.ok(closeObjective(quadratic(c, w) + lambda * l1(w), reference.objective, c, w), `trial ${trial} λ=${lambda}: objective ${quadratic(c, w) + lambda * l1(w)} vs ${reference.objective}`);
      checked++;
    }
  }
  assert.ok(checked >= 300, `${checked} points checked`);
});

test('long paths: k = 120 and 160 candidates give more than 100 breakpoints, each optimal (both forms)', () => {
  const random = seededRandom(32);
  for (const [k, dim] of [[120, 150], [160, 80]]) {
    const p = randomProblem(random, k, dim);
    const c = referenceCost(p.target, p.prototypes);
    const path = lambdaPath(p);
    assert.ok(path.breakpoints.length > 100, `k=${k}: ${path.breakpoints.length} breakpoints`);
    for (const [b, point] of path.breakpoints.entries()) {
      // λ strictly increasing, except the jump at λ = 0 from lin (k > D + 1: lin is not unique)
      if (b > 0) assert.ok(point.lambda > path.breakpoints[b - 1].lambda || (b === 1 && point.lambda === 0), `k=${k} breakpoint ${b}: λ ${path.breakpoints[b - 1].lambda} then ${point.lambda}`);
      assert.equal(sparseViolation(c, point.weights, point.lambda, 1e-8), '', `k=${k} breakpoint ${b} λ=${point.lambda}`);
    }
    const lasso = lambdaPath(p, 'lasso');
    // (the lasso path of the first is shorter: 72 breakpoints)
    if (k === 160) assert.ok(lasso.breakpoints.length > 100, `k=${k}: ${lasso.breakpoints.length} lasso breakpoints`);
    // the non-negative Lasso's KKT: pᵢ·(t − Σwⱼpⱼ) = λ where wᵢ > 0, ≤ λ where wᵢ = 0
    const dots = p.prototypes.map((a) => p.prototypes.map((q) => a.reduce((s, x, d) => s + x * q[d], 0)));
    const b = p.prototypes.map((a) => a.reduce((s, x, d) => s + x * p.target[d], 0));
    const scale = Math.max(...dots.map((r, i) => r[i]), ...b.map(Math.abs));
    for (const point of lasso.breakpoints) {
      point.weights.forEach((wi, i) => {
        const corr = b[i] - dots[i].reduce((s, g, j) => s + g * point.weights[j], 0);
        assert.ok(wi >= 0);
        if (wi > 0) assert.ok(Math.abs(corr - point.lambda) <= 1e-8 * scale, `k=${k} lasso λ=${point.lambda}: active ${i} correlation ${corr}`);
        else assert.ok(corr <= point.lambda + 1e-8 * scale, `k=${k} lasso λ=${point.lambda}: inactive ${i} correlation ${corr}`);
      });
    }
  }
});
