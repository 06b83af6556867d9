/**
 * Behaviour the mutation review of engine/weights (docs/testing.md#mutation-testing) found untested:
 * each case is checked against an independent computation (KKT conditions written out in
 * test/weights/reference.ts, direct sums over the vectors), never against values the engine printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { costMatrix, lambdaPath, solveWeights } from '../../server/src/engine/weights';
import { minimumNormOnFace } from '../../server/src/engine/weights/minimumNorm';
import { convexViolation, randomProblem, referenceCost, referenceMinimumNormHull, seededRandom, sum, type Problem } from './reference';

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

const scaledProblem = (p: Problem, s: number, shift = 0): Problem => ({
  names: p.names,
  target: p.target.map((x) => x * s + shift),
  prototypes: p.prototypes.map((q) => q.map((x) => x * s + shift)),
});

test('lin and convex: the minimum-norm optimum of a degenerate problem does not depend on the scale or origin of the features', () => {
  // Non-unique optima (k > D + 1 with the target inside the hull, duplicates): every optimal weight vector
  // has the same residual, and the reported one is the minimum-norm one. Scaling every vector by s (C by
  // s²) or moving the origin changes no optimum, so the weights must not change either — whatever
  // tolerance decides which candidates lie on the optimal face has to scale with C.
  const square: Problem = { target: Float64Array.from([0.5, 0.5]), prototypes: [[0, 0], [1, 0], [0, 1], [1, 1]].map((x) => Float64Array.from(x)), names: ['a', 'b', 'c', 'd'] };
  const random = seededRandom(1402);
  const problems: Problem[] = [square];
  for (let trial = 0; trial < 12; trial++) {
    const p = randomProblem(random, 8, 3, { duplicates: trial % 2 });
    // target: a convex combination of the prototypes (an optimum with zero residual, many of them)
    const mix = p.prototypes.map(() => random());
    const total = sum(mix);
    p.target = Float64Array.from(p.target, (_, d) => p.prototypes.reduce((s, q, i) => s + (mix[i] / total) * q[d], 0));
    problems.push(p);
  }
  for (const [index, p] of problems.entries()) {
    for (const strategy of ['lin', 'convex'] as const) {
      const base = p.names.map((n) => solveWeights(p, { strategy }).weights[n]);
      if (index === 0) for (const x of base) assert.ok(Math.abs(x - 0.25) <= 1e-12, `${strategy} square: ${base}`);
      for (const [s, shift] of [[1e-3, 0], [1e3, 0], [1e4, 0], [1, 100]] as const) {
        const w = p.names.map((n) => solveWeights(scaledProblem(p, s, shift), { strategy }).weights[n]);
        const diff = Math.max(...w.map((x, i) => Math.abs(x - base[i])));
        assert.ok(diff <= 1e-7, `problem ${index} ${strategy} s=${s} shift=${shift}: ${w} vs ${base}`);
      }
    }
  }
});

test('convex: with many flat directions (k up to 7 prototypes in D = 1, 2) the weights are the minimum-norm exact fit, by enumeration', () => {
  // A target inside the hull of affinely dependent prototypes: a polytope of optimal weights, of
  // dimension up to k − D − 1. Projecting onto it may first stop at a bound that a later bound makes
  // slack, which must then be released (the active-set projection in minimumNorm.ts).
  const random = seededRandom(1403);
  for (let trial = 0; trial < 60; trial++) {
    const dim = 1 + (trial % 2);
    const k = 4 + (trial % 4);
    const p = randomProblem(random, k, dim);
    const mix = p.prototypes.map(() => random() ** 3);
    const total = sum(mix);
    p.target = Float64Array.from(p.target, (_, d) => p.prototypes.reduce((s, q, i) => s + (mix[i] / total) * q[d], 0));
    const w = p.names.map((n) => solveWeights(p, { strategy: 'convex' }).weights[n]);
    const expected = referenceMinimumNormHull(p);
    const diff = Math.max(...w.map((x, i) => Math.abs(x - expected[i])));
    assert.ok(diff <= 1e-8, `trial ${trial} (k=${k}, D=${dim}): ${w} vs the minimum-norm ${expected}`);
  }
});

test('minimum-norm step: from any optimal starting point the same minimum-norm weights (bounds met on the way are released when slack)', () => {
  // minimumNormOnFace gets one optimal point and must return the minimum-norm one whatever the start:
  // here every start is a random mixture of exact fits, so the projection meets bounds in varying
  // order, including ones it has to release again.
  const random = seededRandom(1404);
  let starts = 0;
  for (let trial = 0; trial < 40; trial++) {
    const k = 5 + (trial % 3);
    const p = randomProblem(random, k, 1);
    const mix = p.prototypes.map(() => random());
    const total = sum(mix);
    p.target = Float64Array.from(p.target, (_, d) => p.prototypes.reduce((s, q, i) => s + (mix[i] / total) * q[d], 0));
    const fits: number[][] = [];
    const expected = referenceMinimumNormHull(p, fits);
    const c = costMatrix(p.target, p.prototypes);
    const all = p.names.map((_, i) => i);
    for (let s = 0; s < 6; s++) {
      // one or two exact fits, mixed: an optimal point, often on a low-dimensional face
      const a = fits[Math.floor(random() * fits.length)];
      const b = fits[Math.floor(random() * fits.length)];
      const t = s % 2 === 0 ? 1 : random();
      const start = Float64Array.from(a, (x, i) => t * x + (1 - t) * b[i]);
      const w = minimumNormOnFace(c, k, start, all, all.map(() => 1));
      const diff = Math.max(...Array.from(w, (x, i) => Math.abs(x - expected[i])));
      assert.ok(diff <= 1e-8, `trial ${trial} start ${Array.from(start)}: ${Array.from(w)} vs the minimum-norm ${expected}`);
      starts++;
    }
  }
  assert.equal(starts, 240);
});

test('λ-path: λ strictly increasing, one breakpoint at λ = 0 (exactly lin) when lin is unique, the last exactly convex, no −0', () => {
  const random = seededRandom(1405);
  let withStar = 0;
  for (let trial = 0; trial < 80; trial++) {
    const k = 2 + (trial % 5);
    const p = randomProblem(random, k, k + 1 + (trial % 3)); // k ≤ D + 1: affinely independent, lin unique
    const path = lambdaPath(p);
    const lin = p.names.map((n) => solveWeights(p, { strategy: 'lin' }).weights[n]);
    const convex = p.names.map((n) => solveWeights(p, { strategy: 'convex' }).weights[n]);
    const points = path.breakpoints;
    assert.equal(points[0].lambda, 0);
    assert.deepEqual(points[0].weights, lin, `trial ${trial}: the path starts at lin`);
    assert.deepEqual(points[points.length - 1].weights, convex, `trial ${trial}: the path ends at convex`);
    for (const point of points) for (const x of point.weights) assert.ok(!Object.is(x, -0), `trial ${trial}: −0 in the path`);
    if (path.lambda_star === 0) {
      // lin is already ≥ 0: lin = convex, one point (two only if rounding made them differ)
      assert.ok(points.every((q) => q.lambda === 0));
      assert.equal(points.length, lin.every((x, i) => x === convex[i]) ? 1 : 2, `trial ${trial}: ${points.length} points for lin ${lin}, convex ${convex}`);
      assert.ok(lin.every((x) => x >= 0));
      continue;
    }
    withStar++;
    assert.ok(lin.some((x) => x < 0), `trial ${trial}: λ* > 0 only when lin has a negative weight`);
    for (let b = 1; b < points.length; b++) assert.ok(points[b].lambda > points[b - 1].lambda, `trial ${trial}: λ ${points[b - 1].lambda} then ${points[b].lambda}`);
    assert.equal(points[points.length - 1].lambda, path.lambda_star);
  }
  assert.ok(withStar >= 30, `${withStar} problems with λ* > 0`);
});
