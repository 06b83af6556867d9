/**
 * The lasso path when many candidates reach the boundary at once (engine/weights/lassoPath.ts,
 * pathDirection): exact ties, exact duplicates, integer prototypes. Which of the tied candidates join
 * decides whether the path stays optimal; the mutation review (docs/testing.md) found that a greedy
 * choice above 10 tied candidates could pick a subset whose left-out members' correlations then rise
 * above λ. Every check here is independent of the engine: the KKT conditions of the non-negative
 * Lasso with G and b summed from the vectors, and the path of the same problem without its copies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lambdaPath, sparseAt } from '../../server/src/engine/weights';
import type { LambdaPath } from '../../server/src/engine/types';
import { dot, gaussian, integerProblem, lassoKktViolation, randomProblem, seededRandom, type Problem } from './reference';

function named(target: Float64Array, prototypes: Float64Array[]): Problem {
  return { target, prototypes, names: prototypes.map((_, i) => `adapter-${String(i).padStart(2, '0')}`) };
}

/** Every breakpoint and the midpoint of every segment: the first KKT violation found, or ''. */
function pathViolation(p: Problem, path: LambdaPath): string {
  const scale = Math.max(1, ...p.prototypes.map((q) => dot(q, q)), dot(p.target, p.target));
  const points = path.breakpoints;
  const lambdas = [...points.map((q) => q.lambda), ...points.slice(1).map((q, b) => (q.lambda + points[b].lambda) / 2)];
  for (const lambda of lambdas) {
    const violation = lassoKktViolation(p, sparseAt(path, lambda), lambda, scale);
    if (violation) return `λ = ${lambda}: ${violation}`;
  }
  return '';
}

test('lasso path: every candidate tied at λ* (2…24 of them, t = s·e₁, every pᵢ = (1, …)) — optimal at every breakpoint and between', () => {
  const random = seededRandom(5);
  let paths = 0;
  for (let trial = 0; trial < 400; trial++) {
    const k = 2 + (trial % 23);
    const dim = 2 + (trial % 7);
    // pᵢ·t = s exactly for every i: all k reach the boundary at λ* = s together
    const target = new Float64Array(dim);
    target[0] = 1 + (trial % 3);
    const spread = 1 + (trial % 4);
    const prototypes = Array.from({ length: k }, () => Float64Array.from({ length: dim }, (_, d) => (d === 0 ? 1 : spread * gaussian(random))));
    const p = named(target, prototypes);
    const path = lambdaPath(p, 'lasso');
    assert.equal(path.lambda_star, target[0]);
    assert.equal(pathViolation(p, path), '', `trial ${trial} (k = ${k}, D = ${dim})`);
    assert.equal(path.breakpoints[0].lambda, 0);
    paths++;
  }
  assert.equal(paths, 400);
});

test('lasso path: c exact copies of a prototype (c = 2…13) give the path of the problem without them, the weight on the first copy', () => {
  const random = seededRandom(6);
  for (const copies of [2, 3, 6, 10, 11, 13]) {
    for (let trial = 0; trial < 12; trial++) {
      const others = 2 + (trial % 4);
      const dim = trial % 3 === 0 ? 3 : 6;
      const base = randomProblem(random, others + 1, dim);
      // the copied prototype correlates well with the target: it is on the path from the start
      // (trial % 2) or enters later
      const pull = trial % 2 ? 0.8 : 0.3;
      const target = Float64Array.from(base.target, (x, d) => pull * base.prototypes[0][d] + (1 - pull) * x);
      const single = named(target, base.prototypes);
      const at = trial % 4 < 2 ? 0 : others;
      // the copies sit at position `at` (first or last), in a row
      const prototypes = [...base.prototypes.slice(1, 1 + at), ...Array.from({ length: copies }, () => Float64Array.from(base.prototypes[0])), ...base.prototypes.slice(1 + at)];
      const copied = named(target, prototypes);
      const expected = lambdaPath(single, 'lasso');
      const actual = lambdaPath(copied, 'lasso');
      assert.equal(pathViolation(copied, actual), '', `${copies} copies, trial ${trial}`);
      assert.equal(actual.lambda_star, expected.lambda_star);
      // the single problem's weights, the copy's on the first copy and 0 on the others
      const spread = (w: number[]) => [...w.slice(1, 1 + at), w[0], ...new Array<number>(copies - 1).fill(0), ...w.slice(1 + at)];
      for (const lambda of [0, 0.05, 0.3, 0.6, 0.95].map((r) => r * expected.lambda_star)) {
        const want = spread(sparseAt(expected, lambda));
        const got = sparseAt(actual, lambda);
        const size = Math.max(1e-300, ...want.map(Math.abs));
        got.forEach((x, i) => assert.ok(Math.abs(x - want[i]) <= 1e-9 * size && (want[i] !== 0 || x === 0), `${copies} copies, trial ${trial}, λ = ${lambda}, ${copied.names[i]}: ${x} vs ${want[i]}`));
      }
    }
  }
});

test('lasso path: integer prototypes and targets (exact ties anywhere on the path, duplicates, k > D) — optimal at every breakpoint and between', () => {
  const random = seededRandom(7);
  for (let trial = 0; trial < 300; trial++) {
    const p = integerProblem(random, trial);
    assert.equal(pathViolation(p, lambdaPath(p, 'lasso')), '', `trial ${trial} (k = ${p.prototypes.length}, D = ${p.target.length})`);
  }
});

// Closer copies (ε ≲ 1e-5) are numerically copies: the pseudo-inverse's threshold treats the pair as
// singular and the path is optimal only to ~ε (docs/testing.md, lassoPath).
test('lasso path: near-copies (pᵢ + ε·noise, ε = 2e-5…6e-5: the kept factor refuses many of them, the dense Cholesky solves them) — optimal at every breakpoint and between', () => {
  const random = seededRandom(8);
  for (let trial = 0; trial < 80; trial++) {
    const others = 2 + (trial % 4);
    const dim = 4 + (trial % 5);
    const base = randomProblem(random, others + 1, dim);
    const epsilon = (2 + (trial % 3) * 2) * 1e-5;
    const near = Float64Array.from(base.prototypes[0], (x) => x + epsilon * gaussian(random));
    // the target leans on the pair, so both join
    const target = Float64Array.from(base.target, (x, d) => 0.7 * (base.prototypes[0][d] + near[d]) / 2 + 0.3 * x + 0.05 * (near[d] - base.prototypes[0][d]) / epsilon);
    const p = named(target, [base.prototypes[0], ...base.prototypes.slice(1), near]);
    const path = lambdaPath(p, 'lasso');
    assert.equal(pathViolation(p, path), '', `trial ${trial} (ε = ${epsilon}, D = ${dim})`);
  }
});
