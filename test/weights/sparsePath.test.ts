import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lambdaPath, solveAll, solveWeights, sparseAt } from '../../server/src/engine/weights';
import { ComposerError } from '../../server/src/engine/errors';
import {
  closeObjective, convexViolation, l1, quadratic, randomProblem, referenceConvex, referenceCost, referenceSparse,
  seededRandom, sparseViolation, type Problem,
} from './reference';

function* problems(seed: number, count: number, maxK = 6): Generator<Problem> {
  const random = seededRandom(seed);
  for (let trial = 0; trial < count; trial++) {
    const k = 1 + Math.floor(random() * maxK);
    const dim = 1 + Math.floor(random() * 8);
    const duplicates = random() < 0.25 ? 1 : 0;
    yield randomProblem(random, k, dim, { duplicates });
  }
}

function sparseWeights(p: Problem, lambda: number): number[] {
  const result = solveWeights(p, { strategy: 'sparse', lambda });
  assert.equal(result.lambda, lambda);
  return p.names.map((n) => result.weights[n]);
}

test('sparse: KKT (subgradients) and the exhaustive sign-pattern reference over random λ', () => {
  const random = seededRandom(201);
  let checked = 0;
  for (const p of problems(202, 250)) {
    const c = referenceCost(p.target, p.prototypes);
    const star = lambdaPath(p).lambda_star;
    for (const fraction of [random(), random() * 0.1, 0.5 + random() * 0.5]) {
      const lambda = star * fraction;
      const w = sparseWeights(p, lambda);
      assert.equal(sparseViolation(c, w, lambda), '', `k=${p.names.length} D=${p.target.length} λ=${lambda} λ*=${star} w=${w}`);
      const ref = referenceSparse(c, lambda);
      const objective = solveWeights(p, { strategy: 'sparse', lambda }).objective;
      assert.ok(closeObjective(objective, ref.objective, c, ref.weights), `objective ${objective} vs reference ${ref.objective} (λ=${lambda})`);
      assert.ok(Math.abs(objective - (quadratic(c, w) + lambda * l1(w))) <= 1e-9 * (1 + objective));
      checked++;
    }
  }
  assert.ok(checked >= 750);
});

test('sparse: λ = 0 is lin and every λ ≥ λ* is convex', () => {
  for (const p of problems(203, 150)) {
    const { strategies, lambdaPath: path } = solveAll(p, { strategy: 'sparse', lambda: 0 });
    assert.deepEqual(strategies.sparse!.weights, strategies.lin!.weights);
    assert.equal(strategies.sparse!.lambda_star, path.lambda_star);
    // (At λ* = 0 itself, λ = 0 means lin, checked above.)
    const atStar = path.lambda_star > 0 ? [path.lambda_star] : [];
    for (const lambda of [...atStar, path.lambda_star * 1.000001 + 1e-300, path.lambda_star * 10 + 1, 1e12]) {
      const sparse = solveWeights(p, { strategy: 'sparse', lambda });
      assert.deepEqual(sparse.weights, strategies.convex!.weights, `λ=${lambda}`);
    }
  }
});

test('sparse: λ just below λ* already has a negative weight; λ* is exactly the convex threshold', () => {
  let withNegatives = 0;
  for (const p of problems(204, 200)) {
    const c = referenceCost(p.target, p.prototypes);
    const star = lambdaPath(p).lambda_star;
    const convex = referenceConvex(c);
    if (star === 0) {
      // lin is already non-negative: convex and lin coincide in objective.
      const lin = solveWeights(p, { strategy: 'lin' });
      assert.ok(closeObjective(lin.objective, convex.objective, c, convex.weights));
      continue;
    }
    const below = sparseWeights(p, star * (1 - 1e-6));
    assert.ok(below.some((x) => x < 0), `λ just below λ* should price in a negative weight: ${below}`);
    const above = sparseWeights(p, star * (1 + 1e-6));
    assert.ok(above.every((x) => x >= 0));
    assert.equal(convexViolation(c, above), '');
    // The convex point stops being sparse-optimal below λ*: the reference does strictly better there.
    const lambda = star * 0.9;
    const ref = referenceSparse(c, lambda);
    assert.ok(ref.objective < quadratic(c, convex.weights) + lambda - 1e-12 * (1 + ref.objective));
    withNegatives++;
  }
  assert.ok(withNegatives > 50);
});

test('λ-path: breakpoints are optimal, segments are linear and exact, the path is continuous and monotone', () => {
  for (const p of problems(205, 120)) {
    const c = referenceCost(p.target, p.prototypes);
    const path = lambdaPath(p);
    const points = path.breakpoints;
    assert.deepEqual(path.names, p.names);
    assert.equal(points[0].lambda, 0);
    assert.equal(points[points.length - 1].lambda, path.lambda_star);
    for (let b = 1; b < points.length; b++) {
      assert.ok(points[b].lambda >= points[b - 1].lambda, 'ascending λ');
      // Only λ = 0 may repeat (the minimum-norm lin point, then the path's own limit).
      if (points[b].lambda === points[b - 1].lambda) assert.ok(b === 1 && points[b].lambda === 0);
    }
    for (const point of points) {
      assert.equal(sparseViolation(c, point.weights, point.lambda), '', `breakpoint λ=${point.lambda}`);
    }
    let previousObjective = -Infinity;
    let previousL1 = Infinity;
    for (let b = 1; b < points.length; b++) {
      const lo = points[b - 1].lambda;
      const hi = points[b].lambda;
      if (hi === lo) continue;
      for (const t of [0.25, 0.5, 0.75]) {
        const lambda = lo + t * (hi - lo);
        const w = sparseAt(path, lambda);
        assert.equal(sparseViolation(c, w, lambda), '', `segment λ=${lambda}`);
        const ref = referenceSparse(c, lambda);
        const objective = quadratic(c, w) + lambda * l1(w);
        assert.ok(closeObjective(objective, ref.objective, c, ref.weights), `mid-segment objective ${objective} vs ${ref.objective}`);
      }
      // Continuity at both ends: the interpolated weights approach the breakpoints.
      const eps = (hi - lo) * 1e-9;
      const nearLo = sparseAt(path, lo + eps);
      const nearHi = sparseAt(path, hi - eps);
      const scale = 1 + l1(points[b].weights) + l1(points[b - 1].weights);
      nearLo.forEach((x, i) => assert.ok(Math.abs(x - points[b - 1].weights[i]) <= 1e-7 * scale));
      nearHi.forEach((x, i) => assert.ok(Math.abs(x - points[b].weights[i]) <= 1e-7 * scale));
    }
    // The optimal value is non-decreasing in λ, ‖w‖₁ non-increasing and the fit wᵀCw non-decreasing.
    let previousFit = -Infinity;
    const grid = Array.from({ length: 25 }, (_, i) => (path.lambda_star * 1.2 * i) / 24);
    for (const lambda of grid) {
      if (lambda === 0) continue; // λ = 0 is the min-norm lin point, not the path limit
      const w = sparseAt(path, lambda);
      const fit = quadratic(c, w);
      const objective = fit + lambda * l1(w);
      const tol = 1e-9 * (1 + Math.abs(objective));
      assert.ok(objective >= previousObjective - tol, 'objective monotone');
      assert.ok(l1(w) <= previousL1 + 1e-9 * (1 + l1(w)), '‖w‖₁ monotone');
      assert.ok(fit >= previousFit - tol, 'fit monotone');
      previousObjective = objective;
      previousL1 = l1(w);
      previousFit = fit;
    }
  }
});

test('λ-path on an encoder-sized problem (D = 768, k = 32) stays optimal', () => {
  const random = seededRandom(206);
  const p = randomProblem(random, 32, 768, { duplicates: 2 });
  const c = referenceCost(p.target, p.prototypes);
  const path = lambdaPath(p);
  assert.ok(path.breakpoints.length >= 2);
  for (const point of path.breakpoints) assert.equal(sparseViolation(c, point.weights, point.lambda), '');
  for (const fraction of [0.1, 0.5, 0.9]) {
    const lambda = fraction * path.lambda_star;
    assert.equal(sparseViolation(c, sparseAt(path, lambda), lambda), '');
  }
});

test('sparse rejects a negative or non-finite λ', () => {
  const random = seededRandom(207);
  const p = randomProblem(random, 3, 4);
  for (const lambda of [-1, NaN, Infinity]) {
    assert.throws(() => solveWeights(p, { strategy: 'sparse', lambda }), (e: unknown) => e instanceof ComposerError && e.code === 'weights');
    assert.throws(() => sparseAt(lambdaPath(p), lambda), (e: unknown) => e instanceof ComposerError);
  }
});

test('sparse without λ uses λ*/2 and reports it', () => {
  const random = seededRandom(208);
  const p = randomProblem(random, 5, 3);
  const result = solveWeights(p, { strategy: 'sparse' });
  assert.equal(result.lambda, result.lambda_star! / 2);
});
