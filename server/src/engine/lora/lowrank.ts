/**
 * Linear algebra for merging low-rank factors, in float64: Gram matrices, a Jacobi symmetric
 * eigensolver, a one-sided Jacobi SVD, and the truncated SVD of a product B·diag(c)·A computed from
 * the factors alone (never the dense m×n matrix).
 *
 * Factors are kept as "row panels": Bᵀ [R, m] and A [R, n], each row one rank-1 direction, so both
 * sides use the same two heavy kernels (Gram X·Xᵀ and combination M·X), which can run on ONNX Runtime.
 */
import type { MatMulEngine } from '../onnx/matmul';

/** The two heavy products. The JS one is the reference; the ORT one is faster for large panels. */
export interface PanelProducts {
  readonly name: string;
  /** X·Xᵀ for X [rows, cols] (row-major) → [rows, rows]. */
  gram(x: Float64Array, rows: number, cols: number): Promise<Float64Array>;
  /** M·X for M [k, rows] and X [rows, cols] → [k, cols]. */
  combine(m: Float64Array, k: number, x: Float64Array, rows: number, cols: number): Promise<Float64Array>;
}

export function gramJs(x: Float64Array, rows: number, cols: number): Float64Array {
  const g = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    const oi = i * cols;
    for (let j = i; j < rows; j++) {
      const oj = j * cols;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let t = 0;
      for (; t + 3 < cols; t += 4) {
        s0 += x[oi + t] * x[oj + t];
        s1 += x[oi + t + 1] * x[oj + t + 1];
        s2 += x[oi + t + 2] * x[oj + t + 2];
        s3 += x[oi + t + 3] * x[oj + t + 3];
      }
      for (; t < cols; t++) s0 += x[oi + t] * x[oj + t];
      const s = s0 + s1 + (s2 + s3);
      g[i * rows + j] = s;
      g[j * rows + i] = s;
    }
  }
  return g;
}

export function combineJs(m: Float64Array, k: number, x: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(k * cols);
  for (let i = 0; i < k; i++) {
    const oo = i * cols;
    for (let j = 0; j < rows; j++) {
      const c = m[i * rows + j];
      if (c === 0) continue;
      const ox = j * cols;
      for (let t = 0; t < cols; t++) out[oo + t] += c * x[ox + t];
    }
  }
  return out;
}

export const jsProducts: PanelProducts = {
  name: 'js',
  gram: async (x, rows, cols) => gramJs(x, rows, cols),
  combine: async (m, k, x, rows, cols) => combineJs(m, k, x, rows, cols),
};

/** Heavy products through an ORT MatMul engine (double Gemm); small ones stay in JS (the engine decides). */
export function ortProducts(engine: MatMulEngine): PanelProducts {
  return {
    name: `onnxruntime-${engine.provider}`,
    gram: (x, rows, cols) => engine.matmul64(x, [rows, cols], x, [rows, cols], { transB: true }),
    combine: (m, k, x, rows, cols) => engine.matmul64(m, [k, rows], x, [rows, cols]),
  };
}

/**
 * Eigen-decomposition of a symmetric n×n matrix by cyclic Jacobi rotations (float64, accurate to
 * roughly machine precision relative to the largest eigenvalue). Returns eigenvalues in descending
 * order and eigenvectors as the COLUMNS of `vectors` (row-major n×n).
 */
export function symmetricEigen(input: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(input);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += a[i * n + i] * a[i * n + i];
      for (let j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
    }
    if (off <= 1e-32 * diag || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const app = a[p * n + p];
        const aqq = a[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = a[src * n + src];
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src];
  });
  return { values, vectors };
}

/**
 * Thin SVD of a rows×cols matrix by one-sided Jacobi (Hestenes) on the columns, float64.
 * Returns U [rows, p], σ [p] descending, V [cols, p] with p = min(rows, cols).
 */
export function jacobiSvd(input: Float64Array, rows: number, cols: number): { u: Float64Array; sigma: Float64Array; v: Float64Array; p: number } {
  if (rows < cols) {
    // work on the transpose so that the column count is the small side
    const t = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = input[i * cols + j];
    const r = jacobiSvd(t, cols, rows);
    return { u: r.v, sigma: r.sigma, v: r.u, p: r.p };
  }
  const p = cols;
  // columns stored as rows of w (w = Aᵀ) for contiguous access
  const w = new Float64Array(cols * rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) w[j * rows + i] = input[i * cols + j];
  const v = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) v[i * cols + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let a = 0; a < cols - 1; a++) {
      for (let b = a + 1; b < cols; b++) {
        let alpha = 0, beta = 0, gamma = 0;
        const oa = a * rows, ob = b * rows;
        for (let k = 0; k < rows; k++) {
          const x = w[oa + k], y = w[ob + k];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let k = 0; k < rows; k++) {
          const x = w[oa + k], y = w[ob + k];
          w[oa + k] = c * x - s * y;
          w[ob + k] = s * x + c * y;
        }
        for (let k = 0; k < cols; k++) {
          const x = v[a * cols + k], y = v[b * cols + k];
          v[a * cols + k] = c * x - s * y;
          v[b * cols + k] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let k = 0; k < rows; k++) s += w[j * rows + k] * w[j * rows + k];
    norms[j] = Math.sqrt(s);
  }
  const order = Array.from({ length: cols }, (_, i) => i).sort((i, j) => norms[j] - norms[i]);
  const sigma = new Float64Array(p);
  const u = new Float64Array(rows * p);
  const vOut = new Float64Array(cols * p);
  order.forEach((src, dst) => {
    const sv = norms[src];
    sigma[dst] = sv;
    for (let k = 0; k < rows; k++) u[k * p + dst] = sv > 0 ? w[src * rows + k] / sv : 0;
    // v rows hold the accumulated rotations: row j of v is column j of V
    for (let k = 0; k < cols; k++) vOut[k * p + dst] = v[src * cols + k];
  });
  return { u, sigma, v: vOut, p };
}

/** Eigenvalues below this fraction of the largest are numerical zero (the Gram squares the condition). */
const GRAM_RELATIVE_TOLERANCE = 1e-13;

/** An orthonormal basis of the row space of a panel X [R, len]: X = Eᵀ·diag(s)·Q with Q implicit. */
interface PanelBasis {
  /** Kept directions. */
  k: number;
  /** Singular values of X, descending [k]. */
  s: Float64Array;
  /** Eigenvectors of X·Xᵀ as columns [R, k]. */
  e: Float64Array;
}

function panelBasis(gram: Float64Array, rows: number): PanelBasis {
  const { values, vectors } = symmetricEigen(gram, rows);
  const top = Math.max(values[0] ?? 0, 0);
  let k = 0;
  while (k < rows && values[k] > top * GRAM_RELATIVE_TOLERANCE && values[k] > 0) k++;
  const s = new Float64Array(k);
  const e = new Float64Array(rows * k);
  for (let j = 0; j < k; j++) {
    s[j] = Math.sqrt(values[j]);
    for (let i = 0; i < rows; i++) e[i * k + j] = vectors[i * rows + j];
  }
  return { k, s, e };
}

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

/**
 * Best rank-r approximation of ΔW = B·diag(c)·A (B = btᵀ [m, R], A [R, n]) from the factors:
 *   Bᵀ = E_B·diag(s_B)·Q_Bᵀ and A = E_A·diag(s_A)·Q_Aᵀ (eigen-decompositions of the two R×R Grams),
 *   core = diag(s_B)·E_Bᵀ·diag(c)·E_A·diag(s_A) = U·Σ·Vᵀ (one-sided Jacobi),
 *   B_out = Q_B·U_r·√Σ_r = B·(E_B·diag(1/s_B)·U_r·√Σ_r), A_out = √Σ_r·V_rᵀ·Q_Aᵀ likewise,
 * so the only O(m·R) work is two Grams and two panel combinations.
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
  const outRank = Math.min(rank, R);
  const basisB = panelBasis(await products.gram(bt, R, m), R);
  const basisA = panelBasis(await products.gram(a, R, n), R);
  const kb = basisB.k, ka = basisA.k;
  // core [kb, ka] = diag(sB)·E_Bᵀ·diag(c)·E_A·diag(sA)
  const core = new Float64Array(kb * ka);
  for (let i = 0; i < kb; i++) {
    for (let j = 0; j < ka; j++) {
      let sum = 0;
      for (let t = 0; t < R; t++) sum += basisB.e[t * kb + i] * coefficients[t] * basisA.e[t * ka + j];
      core[i * ka + j] = basisB.s[i] * sum * basisA.s[j];
    }
  }
  let sigma: Float64Array = new Float64Array(0);
  const mixB = new Float64Array(outRank * R); // [outRank, R]: rows of (E_B·diag(1/s_B)·U_r·√Σ_r)ᵀ
  const mixA = new Float64Array(outRank * R);
  if (kb > 0 && ka > 0) {
    const svd = jacobiSvd(core, kb, ka);
    sigma = svd.sigma;
    const keep = Math.min(outRank, svd.p);
    for (let q = 0; q < keep; q++) {
      const root = Math.sqrt(svd.sigma[q]);
      if (root === 0) continue;
      for (let t = 0; t < R; t++) {
        let sb = 0;
        for (let i = 0; i < kb; i++) sb += (basisB.e[t * kb + i] / basisB.s[i]) * svd.u[i * svd.p + q];
        mixB[q * R + t] = sb * root;
        let sa = 0;
        for (let j = 0; j < ka; j++) sa += (basisA.e[t * ka + j] / basisA.s[j]) * svd.v[j * svd.p + q];
        mixA[q * R + t] = sa * root;
      }
    }
  }
  let total = 0, kept = 0;
  for (let q = 0; q < sigma.length; q++) {
    const e = sigma[q] * sigma[q];
    total += e;
    if (q < outRank) kept += e;
  }
  const btOut = outRank > 0 ? await products.combine(mixB, outRank, bt, R, m) : new Float64Array(0);
  const aOut = outRank > 0 ? await products.combine(mixA, outRank, a, R, n) : new Float64Array(0);
  return { rank: outRank, bt: btOut, a: aOut, sigma, energyKept: total > 0 ? kept / total : 1 };
}
