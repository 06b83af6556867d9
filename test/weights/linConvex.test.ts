import { test } from 'node:test';
import assert from 'node:assert/strict';
import { costMatrix, solveWeights } from '../../server/src/engine/weights';
import { closeObjective, convexViolation, flatBasis, l1, linViolation, randomProblem, referenceConvex, referenceCost, referenceLin, seededRandom, sum, type Problem } from './reference';

function weightsOf(p: Problem, strategy: 'lin' | 'convex'): number[] {
  const result = solveWeights(p, { strategy });
  assert.deepEqual(Object.keys(result.weights), p.names, 'weights keyed in candidate order');
  return p.names.map((n) => result.weights[n]);
}


/** Random problems of every shape: general position, duplicates, k > D + 1, k = 1. */
function* problems(seed: number, count: number): Generator<Problem> {
  const random = seededRandom(seed);
  for (let trial = 0; trial < count; trial++) {
    const k = 1 + Math.floor(random() * 7);
    const dim = 1 + Math.floor(random() * 8);
    const duplicates = random() < 0.3 ? 1 + Math.floor(random() * 2) : 0;
    yield randomProblem(random, k, dim, { duplicates });
  }
}

test('lin: KKT conditions and the exhaustive reference on random problems', () => {
  for (const p of problems(101, 300)) {
    const w = weightsOf(p, 'lin');
    const c = referenceCost(p.target, p.prototypes);
    assert.equal(linViolation(c, w), '', `k=${p.names.length} D=${p.target.length}`);
    const ref = referenceLin(c);
    const result = solveWeights(p, { strategy: 'lin' });
    assert.ok(closeObjective(result.objective, ref.objective, c, ref.weights), `objective ${result.objective} vs reference ${ref.objective}`);
    assert.ok(Math.abs(result.residual - Math.sqrt(Math.max(0, result.objective))) <= 1e-15 + 1e-12 * result.residual);
  }
});

test('lin: minimum-norm minimiser when prototypes are affinely dependent', () => {
  const random = seededRandom(102);
  let degenerate = 0;
  for (let trial = 0; trial < 100; trial++) {
    const k = 3 + Math.floor(random() * 6);
    const dim = 1 + Math.floor(random() * 3);
    const p = randomProblem(random, k, dim, { duplicates: trial % 2 });
    const c = referenceCost(p.target, p.prototypes);
    const flats = flatBasis(c);
    if (flats.length === 0) continue;
    degenerate++;
    const w = weightsOf(p, 'lin');
    // w is minimum-norm on the solution set ⇔ orthogonal to every flat direction.
    for (const d of flats) {
      const dot = d.reduce((s, x, i) => s + x * w[i], 0);
      assert.ok(Math.abs(dot) <= 1e-7 * Math.sqrt(d.reduce((s, x) => s + x * x, 0)) * (1 + l1(w)), `w·d = ${dot}`);
    }
  }
  assert.ok(degenerate > 50);
});

test('lin and convex split duplicates evenly', () => {
  const random = seededRandom(103);
  for (let trial = 0; trial < 50; trial++) {
    const p = randomProblem(random, 5, 6);
    p.prototypes[3] = Float64Array.from(p.prototypes[1]);
    for (const strategy of ['lin', 'convex'] as const) {
      const w = weightsOf(p, strategy);
      assert.ok(Math.abs(w[1] - w[3]) <= 1e-12 * (1 + l1(w)), `${strategy}: ${w[1]} vs ${w[3]}`);
    }
  }
});

test('convex: KKT conditions and the exhaustive reference on random problems', () => {
  for (const p of problems(104, 300)) {
    const w = weightsOf(p, 'convex');
    const c = referenceCost(p.target, p.prototypes);
    assert.equal(convexViolation(c, w), '', `k=${p.names.length} D=${p.target.length}: ${w}`);
    const ref = referenceConvex(c);
    const result = solveWeights(p, { strategy: 'convex' });
    assert.ok(closeObjective(result.objective, ref.objective, c, ref.weights), `objective ${result.objective} vs reference ${ref.objective}`);
  }
});

test('convex: minimum-norm among optimal weights when the optimum is not unique', () => {
  // Target inside the hull of a square's corners (D = 2, k = 4): every convex combination hitting it is optimal.
  const square = [[0, 0], [1, 0], [0, 1], [1, 1]].map((x) => Float64Array.from(x));
  const p = { target: Float64Array.from([0.5, 0.5]), prototypes: square, names: ['a', 'b', 'c', 'd'] };
  const w = weightsOf(p, 'convex');
  for (const x of w) assert.ok(Math.abs(x - 0.25) < 1e-12, `${w}`);
  // And when the target sits at a vertex, the weight is all on it (the unique optimum).
  const atCorner = weightsOf({ ...p, target: Float64Array.from([1, 0]) }, 'convex');
  assert.deepEqual(atCorner, [0, 1, 0, 0]);
});

test('k = 1 gives weight 1 for every exact strategy', () => {
  const random = seededRandom(105);
  const p = randomProblem(random, 1, 4);
  for (const strategy of ['lin', 'convex', 'sparse', 'avg', 'sim', 'nearest'] as const) {
    const result = solveWeights(p, { strategy, lambda: 0.5 });
    assert.deepEqual(result.weights, { 'adapter-0': 1 });
  }
});

test('k > D + 1 (D = 3, k = 8): target in the affine hull gives a zero residual', () => {
  const random = seededRandom(106);
  for (let trial = 0; trial < 30; trial++) {
    const p = randomProblem(random, 8, 3);
    const result = solveWeights(p, { strategy: 'lin' });
    const c = referenceCost(p.target, p.prototypes);
    assert.ok(result.objective <= 1e-12 * (1 + Math.max(...c.map((r, i) => r[i]))), `${result.objective}`);
    const w = p.names.map((n) => result.weights[n]);
    assert.equal(linViolation(c, w), '');
    assert.ok(Math.abs(sum(w) - 1) <= 1e-12);
  }
});

test('encoder-sized problems (D = 768, k up to 64) satisfy KKT', () => {
  const random = seededRandom(107);
  for (const k of [8, 32, 64]) {
    const p = randomProblem(random, k, 768);
    const c = referenceCost(p.target, p.prototypes);
    assert.equal(linViolation(c, weightsOf(p, 'lin')), '');
    assert.equal(convexViolation(c, weightsOf(p, 'convex')), '');
  }
  // costMatrix is the same C the references use.
  const p = randomProblem(random, 4, 768);
  const fast = costMatrix(p.target, p.prototypes);
  const ref = referenceCost(p.target, p.prototypes);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) assert.ok(Math.abs(fast[i * 4 + j] - ref[i][j]) <= 1e-10 * ref[i][i]);
});
