/**
 * Both λ-paths at the size the editor solves on every new target (k = 64 candidates, D = 768), where
 * the exhaustive references of the other tests cannot go: at the middle of every segment the path's
 * weights are compared with the exact optimum on their own sign pattern, solved independently (dense
 * Gaussian elimination of the KKT system from float64 dot products of the raw vectors), whose
 * optimality is then checked off the pattern (|ν − g_j| ≤ λ, resp. correlation ≤ λ). Plain Gaussian
 * prototypes, and with exact duplicates (singular systems on the way).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { solveAll, sparseAt } from '../../server/src/engine/weights';
import { gaussSolve, gaussian, seededRandom } from './reference';

const k = 64;
const dim = 768;

function dotOf(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i] - b[i]));
  return largest;
}

/** The face's system is nonsingular here (Gaussian elimination solved it), so its optimum is unique. */
function closeWeights(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  return maxDifference(a, b) <= 1e-9 * scale;
}

function problem(seed: number, duplicates: number) {
  const random = seededRandom(seed);
  const prototypes = Array.from({ length: k }, () => Float64Array.from({ length: dim }, () => gaussian(random)));
  for (let d = 0; d < duplicates; d++) prototypes[k - 1 - d] = Float64Array.from(prototypes[d]);
  const mix = Array.from({ length: k }, () => gaussian(random));
  const total = mix.reduce((a, b) => a + b, 0);
  const target = Float64Array.from({ length: dim }, (_, d) => prototypes.reduce((s, p, i) => s + (mix[i] / total) * p[d], 0) + 0.3 * gaussian(random));
  return { target, prototypes, names: prototypes.map((_, i) => `adapter-${i}`) };
}

for (const [seed, duplicates] of [[7, 0], [8, 0], [9, 3]] as const) {
  test(`k = 64, D = 768 (seed ${seed}, ${duplicates} duplicates): both λ-paths are the exact optimum on their sign pattern`, () => {
    const p = problem(seed, duplicates);
    const diff = p.prototypes.map((q) => Float64Array.from(q, (x, d) => p.target[d] - x));
    const c = diff.map((a) => diff.map((b) => dotOf(a, b)));
    const gram = p.prototypes.map((a) => p.prototypes.map((b) => dotOf(a, b)));
    const corr = p.prototypes.map((a) => dotOf(a, p.target));
    const tt = dotOf(p.target, p.target);
    const scale = Math.max(...c.map((row, i) => row[i]));
    const { lambdaPaths } = solveAll(p, { strategy: 'sparse' });
    const constrained = lambdaPaths.constrained!;
    const lasso = lambdaPaths.lasso!;
    assert.ok(constrained.breakpoints.length > 10 && lasso.breakpoints.length > 10, 'paths with many breakpoints');
    let checked = 0;
    let worst = 0;
    let worstWeights = 0;

    // Constrained: min wᵀCw + λ‖w‖₁ s.t. Σw = 1.
    const constrainedObjective = (w: number[], lambda: number) => {
      let q = 0;
      let l1 = 0;
      for (let i = 0; i < k; i++) { l1 += Math.abs(w[i]); for (let j = 0; j < k; j++) q += w[i] * c[i][j] * w[j]; }
      return q + lambda * l1;
    };
    for (let b = 1; b < constrained.breakpoints.length; b++) {
      const lambda = (constrained.breakpoints[b - 1].lambda + constrained.breakpoints[b].lambda) / 2;
      const w = sparseAt(constrained, lambda);
      const face = w.flatMap((x, i) => (x !== 0 ? [i] : []));
      const matrix = face.map((i) => [...face.map((j) => 2 * c[i][j]), -1]);
      const rhs = face.map((i) => -lambda * Math.sign(w[i]));
      matrix.push([...face.map(() => 1), 0]);
      rhs.push(1);
      const x = gaussSolve(matrix, rhs);
      if (!x) continue; // a singular face (duplicates both active): the KKT check below still covers w
      const exact = new Array<number>(k).fill(0);
      face.forEach((i, a) => { exact[i] = x[a]; });
      const nu = x[face.length];
      for (const [a, i] of face.entries()) assert.ok(Math.sign(x[a]) === Math.sign(w[i]), `λ=${lambda}: the exact solution keeps the sign of ${i}`);
      for (let j = 0; j < k; j++) {
        if (w[j] !== 0) continue;
        let g = 0;
        for (let i = 0; i < k; i++) g += 2 * c[j][i] * exact[i];
        assert.ok(Math.abs(nu - g) <= lambda + 1e-9 * scale, `λ=${lambda}: candidate ${j} off the face is optimal at 0`);
      }
      assert.ok(closeWeights(w, exact), `constrained λ=${lambda}: weights ${maxDifference(w, exact)} from the exact ones`);
      worstWeights = Math.max(worstWeights, maxDifference(w, exact));
      const gap = Math.abs(constrainedObjective(w, lambda) - constrainedObjective(exact, lambda)) / constrainedObjective(exact, lambda);
      worst = Math.max(worst, gap);
      assert.ok(gap <= 1e-9, `constrained λ=${lambda}: objective gap ${gap}`);
      checked++;
    }

    // Lasso: min ½‖t − Σwᵢpᵢ‖² + λ‖w‖₁ s.t. w ≥ 0.
    const lassoObjective = (w: number[], lambda: number) => {
      let q = 0;
      let bw = 0;
      let l1 = 0;
      for (let i = 0; i < k; i++) { l1 += w[i]; bw += corr[i] * w[i]; for (let j = 0; j < k; j++) q += w[i] * gram[i][j] * w[j]; }
      return 0.5 * (tt - 2 * bw + q) + lambda * l1;
    };
    for (let b = 1; b < lasso.breakpoints.length; b++) {
      const lambda = (lasso.breakpoints[b - 1].lambda + lasso.breakpoints[b].lambda) / 2;
      const w = sparseAt(lasso, lambda);
      const support = w.flatMap((x, i) => (x !== 0 ? [i] : []));
      if (support.length === 0) continue;
      const x = gaussSolve(support.map((i) => support.map((j) => gram[i][j])), support.map((i) => corr[i] - lambda));
      if (!x) continue;
      const exact = new Array<number>(k).fill(0);
      support.forEach((i, a) => { exact[i] = x[a]; });
      for (const i of support) assert.ok(exact[i] > 0, `lasso λ=${lambda}: the exact solution keeps ${i} positive`);
      for (let j = 0; j < k; j++) {
        if (w[j] !== 0) continue;
        let r = corr[j];
        for (const i of support) r -= gram[j][i] * exact[i];
        assert.ok(r <= lambda + 1e-9 * Math.max(...gram.map((row, i) => row[i])), `lasso λ=${lambda}: candidate ${j} stays out`);
      }
      assert.ok(closeWeights(w, exact), `lasso λ=${lambda}: weights ${maxDifference(w, exact)} from the exact ones`);
      worstWeights = Math.max(worstWeights, maxDifference(w, exact));
      const gap = Math.abs(lassoObjective(w, lambda) - lassoObjective(exact, lambda)) / Math.abs(lassoObjective(exact, lambda));
      worst = Math.max(worst, gap);
      assert.ok(gap <= 1e-9, `lasso λ=${lambda}: objective gap ${gap}`);
      checked++;
    }
    assert.ok(checked >= 20, `${checked} segments checked`);
    console.log(`# k = 64 paths (seed ${seed}): ${checked} segments, worst relative objective gap ${worst.toExponential(2)}, worst weight difference ${worstWeights.toExponential(2)}`);
  });
}
