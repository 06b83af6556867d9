/**
 * The matrices built once per plan and shared: C (2×4-blocked kernel) and the lasso's Gram, derived
 * from C in O(k²) (pᵢ·pⱼ = bᵢ + bⱼ − t·t + C_ij) instead of a second O(k²·D) pass. Each is checked
 * against plain dot products, and the lasso path from the shared matrices against the one from the
 * directly computed Gram.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeLassoPath, costMatrix, lassoData, solveAll } from '../../server/src/engine/weights';
import { randomProblem, randomVector, referenceCost, seededRandom } from './reference';

function plainDot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += a[d] * b[d];
  return s;
}

test('C matches the definition for every block shape (k up to 70, odd and even D)', () => {
  const random = seededRandom(31);
  for (const k of [1, 2, 3, 5, 6, 7, 9, 13, 64, 70]) {
    for (const dim of [1, 7, 96]) {
      const p = randomProblem(random, k, dim);
      const c = costMatrix(p.target, p.prototypes);
      const ref = referenceCost(p.target, p.prototypes);
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
        assert.equal(c[i * k + j], c[j * k + i]);
        assert.ok(Math.abs(c[i * k + j] - ref[i][j]) <= 1e-12 * (1 + ref[i][i] + ref[j][j]), `k=${k} D=${dim} (${i},${j})`);
      }
    }
  }
});

test('the lasso Gram derived from C equals the plain pᵢ·pⱼ to rounding, at every target scale', () => {
  const random = seededRandom(32);
  // Target scale relative to the prototypes: inside the derived range (≤ 16× in t·t) and beyond it.
  for (const targetScale of [0, 0.1, 1, 3, 10]) {
    for (const offset of [0, 5]) {
      const k = 24;
      const dim = 96;
      const p = randomProblem(random, k, dim, { offset });
      const target = Float64Array.from(randomVector(random, dim, offset), (x) => x * targetScale);
      const shared = lassoData(target, p.prototypes, costMatrix(target, p.prototypes));
      let largest = plainDot(target, target);
      for (const q of p.prototypes) largest = Math.max(largest, plainDot(q, q));
      for (let i = 0; i < k; i++) {
        assert.ok(Math.abs(shared.b[i] - plainDot(p.prototypes[i], target)) <= 1e-13 * largest);
        for (let j = 0; j < k; j++) {
          const reference = plainDot(p.prototypes[i], p.prototypes[j]);
          assert.equal(shared.gram[i * k + j], shared.gram[j * k + i]);
          assert.ok(Math.abs(shared.gram[i * k + j] - reference) <= 1e-13 * largest, `scale ${targetScale} offset ${offset} (${i},${j})`);
        }
      }
    }
  }
});

test('solveAll’s lasso path (shared matrices) matches the path from the directly computed Gram', () => {
  const random = seededRandom(33);
  for (let trial = 0; trial < 12; trial++) {
    const k = 4 + Math.floor(random() * 40);
    const dim = 8 + Math.floor(random() * 120);
    const p = randomProblem(random, k, dim, { duplicates: trial % 4 === 3 ? 1 : 0 });
    const direct = computeLassoPath(lassoData(p.target, p.prototypes), p.names);
    const shared = solveAll(p, { strategy: 'sparse', form: 'lasso' }).lambdaPaths.lasso!;
    assert.ok(Math.abs(shared.lambda_star - direct.lambda_star) <= 1e-12 * (1 + direct.lambda_star));
    // Compare the two piecewise-linear paths at every breakpoint of either.
    const at = (path: typeof direct, lambda: number): number[] => {
      const points = path.breakpoints;
      if (lambda >= points[points.length - 1].lambda) return points[points.length - 1].weights;
      let b = 0;
      while (points[b].lambda < lambda) b++;
      if (b === 0 || points[b].lambda === lambda) return points[b].weights;
      const lo = points[b - 1];
      const hi = points[b];
      const t = (lambda - lo.lambda) / (hi.lambda - lo.lambda);
      return lo.weights.map((w, i) => w + t * (hi.weights[i] - w));
    };
    for (const lambda of [...direct.breakpoints, ...shared.breakpoints].map((x) => x.lambda)) {
      if (lambda === 0) continue; // λ = 0 may be a non-unique minimiser (duplicates)
      const a = at(direct, lambda);
      const b = at(shared, lambda);
      const scale = 1 + Math.max(...a.map(Math.abs));
      for (let i = 0; i < k; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-8 * scale, `trial ${trial} λ=${lambda} i=${i}: ${a[i]} vs ${b[i]}`);
    }
  }
});
