/**
 * The svd merge's R×R kernels (linalg/mixKernels.ts, WebAssembly SIMD): present on this runtime (so CI
 * exercises them), and bit for bit their JavaScript twins — each step alone (pivoted Cholesky, row Gram,
 * topEigen, the triangular solve) and the whole of truncationMix (with the core product and the
 * singular rows), compared with withScalarTwins — over sizes that hit every edge (odd and even lengths,
 * 1×1, kept ranks of 1 and of all, rank-deficient Grams, zero coefficients, either side smaller, memory
 * growth past one page), so the merged bytes do not depend on the runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mixKernels } from '../../server/src/engine/linalg/mixKernels';
import { withScalarTwins } from '../../server/src/engine/linalg/scalarTwins';
import { pivotedCholesky, solveCholeskyTranspose } from '../../server/src/engine/linalg/cholesky';
import { rowGram } from '../../server/src/engine/linalg/dense';
import { topEigen } from '../../server/src/engine/linalg/eigen';
import { truncationMix } from '../../server/src/engine/lora/truncatedProduct';
import { seededRandom, gaussian } from '../weights/reference';

function assertSameBits(actual: Float64Array, expected: Float64Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) assert.ok(Object.is(actual[i], expected[i]), `${what} entry ${i}: ${actual[i]} vs ${expected[i]}`);
}

/** Rows [rows, cols] of mixed magnitudes (a changed summation order shows in the last bits), some exact zeros. */
function rowsOf(random: () => number, rows: number, cols: number): Float64Array {
  return Float64Array.from({ length: rows * cols }, (_, i) => (random() < 0.05 ? 0 : gaussian(random) * (i % 3 === 0 ? 1e3 : 1)));
}

/** The Gram of `rank` random rows' combinations: R×R, positive semi-definite of that rank. */
function gramOf(random: () => number, R: number, rank: number, dim: number): Float64Array {
  const basis = rowsOf(random, rank, dim);
  const mixing = rowsOf(random, R, rank);
  const rows = new Float64Array(R * dim);
  for (let t = 0; t < R; t++) for (let r = 0; r < rank; r++) for (let i = 0; i < dim; i++) rows[t * dim + i] += mixing[t * rank + r] * basis[r * dim + i];
  return rowGram(rows, R, dim);
}

test('the mixing kernels load on this runtime', () => {
  assert.ok(mixKernels(), 'WebAssembly SIMD is available in Node 20; CI must exercise the kernels');
  assert.equal(withScalarTwins(() => mixKernels()), null);
});

test('each kernel step is bit for bit its JavaScript twin', () => {
  const random = seededRandom(2026);
  const kernels = mixKernels()!;
  const shapes: [number, number][] = [[1, 1], [2, 3], [3, 2], [5, 5], [8, 13], [17, 4], [33, 33], [64, 200], [97, 61], [130, 130]];
  for (const [n, cols] of shapes) {
    const x = rowsOf(random, n, cols);
    const g = rowGram(x, n, cols);
    assertSameBits(kernels.rowGram(x, n, cols), g, `rowGram ${n}×${cols}`);
    const js = pivotedCholesky(g, n), fast = kernels.pivotedCholesky(g, n);
    assert.equal(fast.k, js.k, `pivotedCholesky ${n}×${cols}: rank`);
    assert.deepEqual(Array.from(fast.pivots), Array.from(js.pivots));
    assertSameBits(fast.l, js.l, `pivotedCholesky ${n}×${cols}`);
    for (const keep of [1, 2, 3, Math.ceil(n / 4), n]) {
      if (keep > n) continue;
      const e = topEigen(g, n, keep), f = kernels.topEigen(g, n, keep);
      assertSameBits(f.values, e.values, `topEigen n=${n} keep=${keep}: values`);
      assertSameBits(f.vectors, e.vectors, `topEigen n=${n} keep=${keep}: vectors`);
      const rhs = rowsOf(random, js.k, keep);
      assertSameBits(kernels.solveCholeskyTranspose(js, n, rhs, keep), solveCholeskyTranspose(js, n, rhs, keep), `solveCholeskyTranspose n=${n} cols=${keep}`);
    }
  }
});

test('truncationMix gives the same bits with the kernels as with the JavaScript twins', () => {
  const random = seededRandom(1712);
  // [R, rank of A's Gram, rank of B's Gram, output rank]: full and deficient ranks, either side smaller, odd R
  const cases: [number, number, number, number][] = [[1, 1, 1, 1], [4, 4, 4, 2], [7, 7, 3, 3], [16, 5, 16, 8], [33, 33, 33, 9], [64, 40, 64, 16], [96, 96, 71, 96], [128, 128, 128, 33], [200, 200, 200, 64]];
  for (const [R, rankA, rankB, outRank] of cases) {
    const gramA = gramOf(random, R, rankA, 40 + R);
    const gramB = gramOf(random, R, rankB, 30 + R);
    const coefficients = Float64Array.from({ length: R }, (_, t) => (t % 7 === 3 ? 0 : gaussian(random)));
    const fast = truncationMix(gramA, gramB, coefficients, outRank);
    const js = withScalarTwins(() => truncationMix(gramA, gramB, coefficients, outRank));
    const what = `R=${R} ranks ${rankA}/${rankB} → ${outRank}`;
    assert.equal(fast.rank, js.rank, what);
    assertSameBits(fast.mixA, js.mixA, `${what}: mixA`);
    assertSameBits(fast.mixB, js.mixB, `${what}: mixB`);
    assertSameBits(fast.sigma, js.sigma, `${what}: sigma`);
    assert.ok(Object.is(fast.energyKept, js.energyKept), `${what}: energy kept`);
  }
});
