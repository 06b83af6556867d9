/**
 * C_ij = (t − pᵢ)·(t − pⱼ): the translation-invariant form of the weights problem. On Σw = 1,
 * ‖t − Σwᵢpᵢ‖² = wᵀCw. Built from the differences, never from the raw Gram matrix XᵀX, which
 * cancels catastrophically when prototypes sit far from the origin.
 */
import { ComposerError } from '../errors';
import { hasValidShape, validateProblem, type WeightsProblem } from './problem';
import { denseKernels, type TargetProducts } from '../linalg/simdDot';

export function costMatrix(target: Float64Array, prototypes: Float64Array[]): Float64Array {
  return costMatrixOf({ target, prototypes, names: prototypes.map((_, i) => `#${i + 1}`) });
}

/**
 * The cost matrix of a problem, validated as validateProblem does, but the O(k·D) scan for
 * non-finite values runs only when C itself comes out non-finite: a NaN or ±Inf anywhere in t or a
 * pᵢ makes a difference tᵈ − pᵢᵈ non-finite, hence its square and the sum C_ii. Then validateProblem
 * reports it, located; finite inputs whose C overflows get the overflow error. `products`, when
 * given, receives the lasso's products with the target from the same pass (see simdDot.ts).
 */
export function costMatrixOf(problem: WeightsProblem, products?: TargetProducts): Float64Array {
  if (!hasValidShape(problem)) validateProblem(problem);
  const c = denseKernels().gramOfDifferences(problem.target, problem.prototypes, products);
  const k = problem.prototypes.length;
  for (let i = 0; i < k * k; i++) {
    if (!Number.isFinite(c[i])) {
      validateProblem(problem);
      throw overflow();
    }
  }
  return c;
}

/** costMatrix without validation, for callers that already validated. */
export function costMatrixOfValid(target: Float64Array, prototypes: Float64Array[]): Float64Array {
  const c = denseKernels().gramOfDifferences(target, prototypes);
  for (let i = 0; i < c.length; i++) if (!Number.isFinite(c[i])) throw overflow();
  return c;
}

function overflow(): ComposerError {
  return new ComposerError('non-finite', 'the distances between the target and the candidate prototypes overflow float64', undefined, 'prototype values are too large; check the encoder output');
}

/**
 * G_ij = rᵢ·rⱼ for k rows of length dim packed in one array (row i at i·dim): in WebAssembly SIMD
 * (linalg/simdDot.ts, ~4× the scalar loop at k = 64, D = 768), else by the same sums in JavaScript.
 */
export function gramOfRows(rows: Float64Array, k: number, dim: number): Float64Array {
  return denseKernels().gramOfRows(rows, k, dim);
}

/** wᵀCw, clamped at 0 (it is a squared norm; rounding can make it a hair negative). */
export function quadraticForm(c: Float64Array, k: number, w: ArrayLike<number>): number {
  // Σ over the rows with wᵢ ≠ 0, ascending, of wᵢ·(Σⱼ C_ij·wⱼ): the row sums of eight (then four, then
  // one) such rows at once (independent chains, each in ascending j), added to the total in row order:
  // the same bits. The rows are listed first, without a branch per row.
  if (quadraticRows.length < k) quadraticRows = new Int32Array(k);
  const rows = quadraticRows;
  let n = 0;
  for (let i = 0; i < k; i++) { rows[n] = i; n += w[i] !== 0 ? 1 : 0; }
  let total = 0;
  let a = 0;
  for (; a + 7 < n; a += 8) {
    const i0 = rows[a], i1 = rows[a + 1], i2 = rows[a + 2], i3 = rows[a + 3], i4 = rows[a + 4], i5 = rows[a + 5], i6 = rows[a + 6], i7 = rows[a + 7];
    const o0 = i0 * k, o1 = i1 * k, o2 = i2 * k, o3 = i3 * k, o4 = i4 * k, o5 = i5 * k, o6 = i6 * k, o7 = i7 * k;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    for (let j = 0; j < k; j++) {
      const wj = w[j];
      s0 += c[o0 + j] * wj; s1 += c[o1 + j] * wj; s2 += c[o2 + j] * wj; s3 += c[o3 + j] * wj;
      s4 += c[o4 + j] * wj; s5 += c[o5 + j] * wj; s6 += c[o6 + j] * wj; s7 += c[o7 + j] * wj;
    }
    total += w[i0] * s0; total += w[i1] * s1; total += w[i2] * s2; total += w[i3] * s3;
    total += w[i4] * s4; total += w[i5] * s5; total += w[i6] * s6; total += w[i7] * s7;
  }
  for (; a + 3 < n; a += 4) {
    const i0 = rows[a], i1 = rows[a + 1], i2 = rows[a + 2], i3 = rows[a + 3];
    const o0 = i0 * k, o1 = i1 * k, o2 = i2 * k, o3 = i3 * k;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < k; j++) {
      const wj = w[j];
      s0 += c[o0 + j] * wj; s1 += c[o1 + j] * wj; s2 += c[o2 + j] * wj; s3 += c[o3 + j] * wj;
    }
    total += w[i0] * s0; total += w[i1] * s1; total += w[i2] * s2; total += w[i3] * s3;
  }
  for (; a < n; a++) {
    const r = rows[a];
    let row = 0;
    for (let j = 0; j < k; j++) row += c[r * k + j] * w[j];
    total += w[r] * row;
  }
  return Math.max(0, total);
}

/** quadraticForm's list of rows with wᵢ ≠ 0, reused from call to call. */
let quadraticRows: Int32Array = new Int32Array(0);

/** ‖a − b‖², the retrieval distance (LanceDB's `l2` is squared too), in float64. */
export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s;
}
