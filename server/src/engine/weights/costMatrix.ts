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
  // Σ over the rows with wᵢ ≠ 0, ascending, of wᵢ·(Σⱼ C_ij·wⱼ): the row sums of four such rows at once
  // (independent chains, each in ascending j), added to the total in row order: the same bits.
  let total = 0;
  let i = 0;
  const next = () => { while (i < k && w[i] === 0) i++; return i < k ? i++ : -1; };
  for (;;) {
    const i0 = next();
    if (i0 < 0) break;
    const i1 = next(), i2 = i1 < 0 ? -1 : next(), i3 = i2 < 0 ? -1 : next();
    if (i3 < 0) {
      for (const r of [i0, i1, i2]) {
        if (r < 0) break;
        let row = 0;
        for (let j = 0; j < k; j++) row += c[r * k + j] * w[j];
        total += w[r] * row;
      }
      break;
    }
    const o0 = i0 * k, o1 = i1 * k, o2 = i2 * k, o3 = i3 * k;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < k; j++) {
      const wj = w[j];
      s0 += c[o0 + j] * wj;
      s1 += c[o1 + j] * wj;
      s2 += c[o2 + j] * wj;
      s3 += c[o3 + j] * wj;
    }
    total += w[i0] * s0;
    total += w[i1] * s1;
    total += w[i2] * s2;
    total += w[i3] * s3;
  }
  return Math.max(0, total);
}

/** ‖a − b‖², the retrieval distance (LanceDB's `l2` is squared too), in float64. */
export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s;
}
