/**
 * The truncated SVD of one module's ΔW = B·diag(c)·A computed from the factors alone (never the
 * dense m×n matrix): the best rank-r approximation, as output factors.
 *
 * A module's factors are concatenated as they are read: A [R, n] (the contributions' A stacked) and
 * B [m, R] (their B side by side), row-major like the files, in float32 when that holds the stored
 * values exactly (bf16, f16, f32) and float64 otherwise. The heavy work is two Grams (A·Aᵀ and Bᵀ·B of the
 * concatenated factors, accumulated in float64) and two output products (panelProducts.ts); everything
 * else is R×R (R = Σ r_i) and runs in float64, in the WebAssembly SIMD kernels of linalg/mixKernels.ts
 * where the runtime has them (the same bits as the JavaScript here and in linalg/, which runs otherwise).
 */
import { pivotedCholesky, solveCholeskyTranspose } from '../linalg/cholesky';
import { dot, rowGram, transpose } from '../linalg/dense';
import { topEigen } from '../linalg/eigen';
import { mixKernels, nonzeroSpans, type MixKernels } from '../linalg/mixKernels';
import type { FactorPanels, PanelArray, ProductPrecision } from './factorPanels';
import { jsProducts, type PanelProducts } from './panelProducts';

export interface TruncatedFactors {
  /** Output rank (min(r, R)); directions beyond the numerical rank are zero. */
  rank: number;
  /** Bᵀ of the result [rank, m]. */
  bt: Float64Array;
  /** A of the result [rank, n]. */
  a: Float64Array;
  /** All singular values of B·diag(c)·A (numerically non-zero ones), descending. */
  sigma: Float64Array;
  /** Σσ²(kept) / Σσ² (1 when the product is zero). */
  energyKept: number;
}

export interface TruncatedModule {
  rank: number;
  /** A of the result [rank, n]. */
  a: PanelArray;
  /** B of the result [m, rank]. */
  b: PanelArray;
  sigma: Float64Array;
  energyKept: number;
}

/**
 * The mixing matrices of the best rank-r approximation, from the two Grams alone:
 *   B = Q_B·L_Bᵀ and A = L_A·Q_Aᵀ (pivoted Cholesky of the Grams, Q orthonormal and never formed),
 *   core = L_Bᵀ·diag(c)·L_A [k_B, k_A], whose SVD U·Σ·Vᵀ is that of ΔW = Q_B·core·Q_Aᵀ;
 *   the top singular pairs come from the eigen-decomposition of the smaller of coreᵀcore, core·coreᵀ
 *   (the cancellation between adapters has already happened inside the core, unsquared).
 * Output: B_out = Q_B·U_r·√Σ_r = B·mixB, A_out = √Σ_r·V_rᵀ·Q_Aᵀ = mixA·A.
 */
export function truncationMix(gramA: Float64Array, gramB: Float64Array, coefficients: Float64Array, rank: number): { rank: number; mixA: Float64Array; mixB: Float64Array; sigma: Float64Array; energyKept: number } {
  const R = coefficients.length;
  const outRank = Math.min(rank, R);
  const mixA = new Float64Array(outRank * R);
  const mixB = new Float64Array(R * outRank);
  // balance each direction (b_t·d, a_t/d with ‖b_t‖ = ‖a_t‖): ΔW is unchanged, and the rank
  // tolerances of the two Grams then compare contributions rather than how training split the scale
  const balance = new Float64Array(R);
  for (let t = 0; t < R; t++) {
    const bb = gramB[t * R + t], aa = gramA[t * R + t];
    balance[t] = bb > 0 && aa > 0 ? Math.sqrt(Math.sqrt(aa / bb)) : 1;
  }
  const { balancedA, balancedB } = balanced(gramA, gramB, balance, R);
  // the kernels' scratch (topEigen's ~37·R² bytes the largest) stays far below WebAssembly's 4 GB up to
  // R = 4096 (64 adapters of rank 64); beyond, the JavaScript twins (the same bits)
  const steps: MixKernels = (R <= 4096 ? mixKernels() : null) ?? jsSteps;
  const cb = steps.pivotedCholesky(balancedB, R);
  const ca = steps.pivotedCholesky(balancedA, R);
  const kb = cb.k, ka = ca.k;
  if (kb === 0 || ka === 0) return { rank: outRank, mixA, mixB, sigma: new Float64Array(0), energyKept: 1 };
  const core = steps.coreProduct(cb, ca, coefficients, R);
  let total = 0;
  for (let i = 0; i < core.length; i++) total += core[i] * core[i];
  // the smaller side's symmetric product, from rows of core (U side) or of coreᵀ (V side)
  const rightSide = ka <= kb;
  const p = rightSide ? ka : kb;
  const q0 = rightSide ? kb : ka;
  const rows = rightSide ? transpose(core, kb, ka) : core; // [p, q0]
  const other = rightSide ? core : transpose(core, kb, ka); // [q0, p]
  const sym = steps.rowGram(rows, p, q0);
  const keep = Math.min(outRank, p);
  // every eigenvalue (the energy kept, sigma), the eigenvectors of the kept ones only ([p, keep])
  const eig = steps.topEigen(sym, p, keep);
  const sigma = new Float64Array(p);
  for (let q = 0; q < p; q++) sigma[q] = Math.sqrt(Math.max(eig.values[q], 0));
  // y_q·√σ on the eigenvector side, (other·y_q / σ)·√σ on the other: rows [keep, p] and [keep, q0]
  const { near, far, kept } = steps.singularRows(eig.vectors, sigma, other, p, q0, keep);
  // Q_B = B[:, pivots]·L₁₁⁻ᵀ, Q_Aᵀ = L₁₁⁻¹·A[pivots, :]: one triangular solve each
  const us = rightSide ? far : near; // [keep, kb]: U_r·√Σ, transposed
  const vs = rightSide ? near : far; // [keep, ka]
  const zb = steps.solveCholeskyTranspose(cb, R, transpose(us, keep, kb), keep);
  const za = steps.solveCholeskyTranspose(ca, R, transpose(vs, keep, ka), keep);
  // undo the balance: B' = B·D and A' = D⁻¹·A
  for (let a = 0; a < kb; a++) {
    const t = cb.pivots[a];
    for (let q = 0; q < keep; q++) mixB[t * outRank + q] = zb[a * keep + q] * balance[t];
  }
  for (let a = 0; a < ka; a++) {
    const t = ca.pivots[a];
    for (let q = 0; q < keep; q++) mixA[q * R + t] = za[a * keep + q] / balance[t];
  }
  const energyKept = keep >= p || total === 0 ? 1 : Math.min(kept / total, 1);
  return { rank: outRank, mixA, mixB, sigma, energyKept };
}

/*
 * The steps of truncationMix as small functions: each runs once per module, so a long function's loops
 * would run before V8 optimises them (measured: the core product alone 9 ms as a function, 78 ms inlined
 * in the long body, at R = 256).
 */

/** The Grams with each direction balanced: G_B·D on both sides, G_A·D⁻¹ on both sides. */
function balanced(gramA: Float64Array, gramB: Float64Array, balance: Float64Array, R: number): { balancedA: Float64Array; balancedB: Float64Array } {
  const balancedB = new Float64Array(R * R), balancedA = new Float64Array(R * R);
  for (let x = 0; x < R; x++) {
    const bx = balance[x];
    for (let y = 0; y < R; y++) {
      balancedB[x * R + y] = gramB[x * R + y] * bx * balance[y];
      balancedA[x * R + y] = gramA[x * R + y] / (bx * balance[y]);
    }
  }
  return { balancedA, balancedB };
}

/**
 * core [kb, ka] = L_Bᵀ·diag(c)·L_A, summed over the original inner index; row t of a pivoted
 * Cholesky factor is zero beyond its pivot position.
 */
function coreProduct(cb: { k: number; pivots: Int32Array; l: Float64Array }, ca: { k: number; pivots: Int32Array; l: Float64Array }, coefficients: Float64Array, R: number): Float64Array {
  const kb = cb.k, ka = ca.k;
  const spanB = nonzeroSpans(cb, R), spanA = nonzeroSpans(ca, R);
  const core = new Float64Array(kb * ka);
  const row = new Float64Array(ka);
  const la = ca.l, lbs = cb.l;
  for (let t = 0; t < R; t++) {
    const c = coefficients[t];
    if (c === 0) continue;
    const ja = spanA[t], ib = spanB[t];
    for (let j = 0; j < ja; j++) row[j] = c * la[t * R + j];
    for (let i = 0; i < ib; i++) {
      const lb = lbs[t * R + i];
      if (lb === 0) continue;
      const o = i * ka;
      for (let j = 0; j < ja; j++) core[o + j] += lb * row[j];
    }
  }
  return core;
}

/** y_q·√σ on the eigenvector side, (other·y_q / σ)·√σ on the other: rows [keep, p] and [keep, q0]. */
function singularRows(vectors: Float64Array, sigma: Float64Array, other: Float64Array, p: number, q0: number, keep: number): { near: Float64Array; far: Float64Array; kept: number } {
  const near = new Float64Array(keep * p);
  const far = new Float64Array(keep * q0);
  const y = new Float64Array(p);
  let kept = 0;
  for (let q = 0; q < keep; q++) {
    const sv = sigma[q];
    kept += sv * sv;
    if (sv === 0) continue;
    const root = Math.sqrt(sv);
    for (let j = 0; j < p; j++) y[j] = vectors[j * keep + q];
    for (let j = 0; j < p; j++) near[q * p + j] = y[j] * root;
    const f = root / sv;
    for (let i = 0; i < q0; i++) far[q * q0 + i] = dot(other, i * p, y, 0, p) * f;
  }
  return { near, far, kept };
}

/** The steps in JavaScript: the kernels' twins (the same bits), where WebAssembly SIMD is missing. */
const jsSteps: MixKernels = { pivotedCholesky, solveCholeskyTranspose, rowGram, topEigen, coreProduct, singularRows };

/** Best rank-r approximation of one module's ΔW = B·diag(c)·A, as output factors A [r, n], B [m, r]. */
export async function truncateModule(panels: FactorPanels, rank: number, products: PanelProducts = jsProducts, precision: ProductPrecision = 'f64'): Promise<TruncatedModule> {
  const grams = await products.grams(panels);
  const mix = truncationMix(grams.a, grams.b, panels.coefficients, rank);
  const out = await products.factors(panels, mix.mixA, mix.mixB, mix.rank, precision);
  return { rank: mix.rank, a: out.a, b: out.b, sigma: mix.sigma, energyKept: mix.energyKept };
}

/**
 * Best rank-r approximation of ΔW = B·diag(c)·A (B = btᵀ [m, R], A [R, n]) from the factors, in
 * float64; the panel form (Bᵀ rows) of `truncateModule`.
 */
export async function truncatedProduct(
  bt: Float64Array,
  m: number,
  a: Float64Array,
  n: number,
  coefficients: Float64Array,
  rank: number,
  products: PanelProducts = jsProducts,
): Promise<TruncatedFactors> {
  const R = coefficients.length;
  const b = new Float64Array(m * R);
  for (let t = 0; t < R; t++) for (let i = 0; i < m; i++) b[i * R + t] = bt[t * m + i];
  const out = await truncateModule({ m, n, a, b, coefficients }, rank, products, 'f64');
  const k = out.rank;
  const btOut = new Float64Array(k * m);
  for (let i = 0; i < m; i++) for (let q = 0; q < k; q++) btOut[q * m + i] = out.b[i * k + q];
  return { rank: k, bt: btOut, a: Float64Array.from(out.a), sigma: out.sigma, energyKept: out.energyKept };
}
