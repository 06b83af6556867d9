/**
 * Linear algebra for merging low-rank factors: the truncated SVD of ΔW = B·diag(c)·A computed from
 * the factors alone (never the dense m×n matrix).
 *
 * A module's factors are concatenated as they are read: A [R, n] (the contributions' A stacked) and
 * B [m, R] (their B side by side), row-major like the files, in float32 when that holds the stored
 * values exactly (bf16, f16, f32) and float64 otherwise. The heavy work is two Grams (A·Aᵀ and Bᵀ·B of the
 * concatenated factors, accumulated in float64) and two output products; everything else is R×R
 * (R = Σ r_i) and runs in float64 JS.
 */
import type { MatMulEngine } from '../onnx/matmul';
import type { FactorPanels, PanelArray, ProductPrecision } from './factorPanels';
import { panelGraphs } from './panelGraphs';

export type { FactorPanels, PanelArray, ProductPrecision } from './factorPanels';

/** The heavy products. The JS one is the reference; the ORT one is faster for large panels. */
export interface PanelProducts {
  readonly name: string;
  /** X·Xᵀ for X [rows, cols] (row-major) → [rows, rows]. */
  gram(x: Float64Array, rows: number, cols: number): Promise<Float64Array>;
  /** M·X for M [k, rows] and X [rows, cols] → [k, cols]. */
  combine(m: Float64Array, k: number, x: Float64Array, rows: number, cols: number): Promise<Float64Array>;
  /** Grams of the concatenated factors, float64 [R, R]: a = A·Aᵀ, b = Bᵀ·B. */
  grams(panels: FactorPanels): Promise<{ a: Float64Array; b: Float64Array }>;
  /** Output factors a = mixA·A [k, n] (mixA [k, R]) and b = B·mixB [m, k] (mixB [R, k]). */
  factors(panels: FactorPanels, mixA: Float64Array, mixB: Float64Array, k: number, precision: ProductPrecision): Promise<{ a: PanelArray; b: PanelArray }>;
}

export function gramJs(x: Float64Array, rows: number, cols: number): Float64Array {
  const g = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    const oi = i * cols;
    for (let j = i; j < rows; j++) {
      const s = dot(x, oi, x, j * cols, cols);
      g[i * rows + j] = s;
      g[j * rows + i] = s;
    }
  }
  return g;
}

function dot(x: ArrayLike<number>, ox: number, y: ArrayLike<number>, oy: number, len: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let t = 0;
  for (; t + 3 < len; t += 4) {
    s0 += x[ox + t] * y[oy + t];
    s1 += x[ox + t + 1] * y[oy + t + 1];
    s2 += x[ox + t + 2] * y[oy + t + 2];
    s3 += x[ox + t + 3] * y[oy + t + 3];
  }
  for (; t < len; t++) s0 += x[ox + t] * y[oy + t];
  return s0 + s1 + (s2 + s3);
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

/** Both Grams in float64 JS: A·Aᵀ by row dot products, Bᵀ·B by rank-1 updates row by row. */
export function gramsJs(panels: FactorPanels): { a: Float64Array; b: Float64Array } {
  const { m, n, a, b } = panels;
  const R = panels.coefficients.length;
  const ga = new Float64Array(R * R);
  for (let s = 0; s < R; s++) {
    for (let t = s; t < R; t++) {
      const v = dot(a, s * n, a, t * n, n);
      ga[s * R + t] = v;
      ga[t * R + s] = v;
    }
  }
  const gb = new Float64Array(R * R);
  for (let i = 0; i < m; i++) {
    const row = i * R;
    for (let s = 0; s < R; s++) {
      const x = b[row + s];
      if (x === 0) continue;
      for (let t = s; t < R; t++) gb[s * R + t] += x * b[row + t];
    }
  }
  for (let s = 0; s < R; s++) for (let t = 0; t < s; t++) gb[s * R + t] = gb[t * R + s];
  return { a: ga, b: gb };
}

/** Output factors in float64 JS (rounded once to float32 when asked). */
export function factorsJs(panels: FactorPanels, mixA: Float64Array, mixB: Float64Array, k: number, precision: ProductPrecision): { a: PanelArray; b: PanelArray } {
  const { m, n } = panels;
  const R = panels.coefficients.length;
  const a = new Float64Array(k * n);
  for (let t = 0; t < R; t++) {
    const src = t * n;
    for (let o = 0; o < k; o++) {
      const c = mixA[o * R + t];
      if (c === 0) continue;
      const dst = o * n;
      for (let j = 0; j < n; j++) a[dst + j] += c * panels.a[src + j];
    }
  }
  const b = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    for (let o = 0; o < k; o++) {
      let s = 0;
      for (let u = 0; u < R; u++) s += panels.b[i * R + u] * mixB[u * k + o];
      b[i * k + o] = s;
    }
  }
  return precision === 'f32' ? { a: Float32Array.from(a), b: Float32Array.from(b) } : { a, b };
}

export const jsProducts: PanelProducts = {
  name: 'js',
  gram: async (x, rows, cols) => gramJs(x, rows, cols),
  combine: async (m, k, x, rows, cols) => combineJs(m, k, x, rows, cols),
  grams: async (panels) => gramsJs(panels),
  factors: async (panels, mixA, mixB, k, precision) => factorsJs(panels, mixA, mixB, k, precision),
};

/** Below this many multiply-adds a product stays in JS (an ORT call costs tens of µs). */
const MIN_ORT_WORK = 32_768;

/** Heavy products through ONNX Runtime (float64 Grams, float32 or float64 outputs); small ones stay in JS. */
export function ortProducts(engine: MatMulEngine): PanelProducts {
  const graphs = panelGraphs(engine.provider === 'js' ? 'cpu' : engine.provider);
  return {
    name: `onnxruntime-${engine.provider}`,
    gram: (x, rows, cols) => engine.matmul64(x, [rows, cols], x, [rows, cols], { transB: true }),
    combine: (m, k, x, rows, cols) => engine.matmul64(m, [k, rows], x, [rows, cols]),
    grams: async (panels) => {
      const R = panels.coefficients.length;
      if (engine.provider === 'js' || R * R * (panels.m + panels.n) < MIN_ORT_WORK) return gramsJs(panels);
      return graphs.grams(panels);
    },
    factors: async (panels, mixA, mixB, k, precision) => {
      const R = panels.coefficients.length;
      if (engine.provider === 'js' || k === 0 || R * k * (panels.m + panels.n) < MIN_ORT_WORK) return factorsJs(panels, mixA, mixB, k, precision);
      return graphs.factors(panels, mixA, mixB, k, precision);
    },
  };
}

/**
 * Eigen-decomposition of a symmetric n×n matrix: Householder tridiagonalisation and implicit QL
 * (the EISPACK tred2/tql2 pair, as in JAMA), float64. Returns eigenvalues in descending order and
 * eigenvectors as the COLUMNS of `vectors` (row-major n×n).
 */
export function symmetricEigen(input: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const v = Float64Array.from(input.subarray(0, n * n));
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  // both phases work on Vᵀ, where the rotations and reflections combine contiguous rows
  const vt = v;
  if (n > 0) {
    tridiagonalize(vt, d, e, n);
    diagonalizeTridiagonal(vt, d, e, n);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[j] - d[i] || i - j);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = d[src];
    for (let k = 0; k < n; k++) vectors[k * n + dst] = vt[src * n + k];
  });
  return { values, vectors };
}

/**
 * tred2 on the transpose: v (symmetric, row-major) → Qᵀ in v (so that every inner loop runs along a
 * row), diagonal d, subdiagonal e (e[0] = 0).
 */
function tridiagonalize(v: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = v[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = v[j * n + i - 1];
        v[j * n + i] = 0;
        v[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        v[i * n + j] = f;
        const row = j * n;
        g = e[j] + v[row + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const x = v[row + k];
          g += x * d[k];
          e[k] += x * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        const row = j * n;
        for (let k = j; k <= i - 1; k++) v[row + k] -= f * e[k] + g * d[k];
        d[j] = v[row + i - 1];
        v[row + i] = 0;
      }
    }
    d[i] = h;
  }
  // accumulate the transformations
  for (let i = 0; i < n - 1; i++) {
    v[i * n + n - 1] = v[i * n + i];
    v[i * n + i] = 1;
    const h = d[i + 1];
    const next = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = v[next + k] / h;
      for (let j = 0; j <= i; j++) {
        const row = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[next + k] * v[row + k];
        for (let k = 0; k <= i; k++) v[row + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) v[next + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[j * n + n - 1];
    v[j * n + n - 1] = 0;
  }
  v[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** √(x²+y²); Math.hypot is an order of magnitude slower and only needed near overflow. */
function hypot(x: number, y: number): number {
  const ax = Math.abs(x), ay = Math.abs(y);
  return ax < 1e150 && ay < 1e150 && (ax > 1e-150 || ay > 1e-150) ? Math.sqrt(x * x + y * y) : Math.hypot(x, y);
}

/** tql2: eigenvalues of the tridiagonal (d, e) into d, with the rotations applied to the rows of vt = Vᵀ. */
function diagonalizeTridiagonal(vt: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      for (let iter = 0; iter < 60; iter++) {
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1, c2 = 1, c3 = 1;
        const el1 = e[l + 1];
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const ri = i * n, rj = ri + n;
          for (let k = 0; k < n; k++) {
            const x = vt[ri + k];
            const y = vt[rj + k];
            vt[rj + k] = s * x + c * y;
            vt[ri + k] = c * x - s * y;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
        if (!(Math.abs(e[l]) > eps * tst1)) break;
      }
    }
    d[l] += f;
    e[l] = 0;
  }
}

/** Remaining Schur diagonals below this fraction of the largest Gram diagonal are numerical zero. */
const GRAM_RELATIVE_TOLERANCE = 1e-13;

/**
 * Pivoted Cholesky of a symmetric positive semi-definite R×R Gram: Pᵀ·G·P ≈ L·Lᵀ with L [R, k]
 * lower trapezoidal in the pivot order, stopping at numerical rank k. `l` is indexed by ORIGINAL
 * row (l[t·R + j] = L[position of t, j]); `pivots[j]` is the original index of pivot j.
 */
export function pivotedCholesky(g: Float64Array, R: number, relativeTolerance = GRAM_RELATIVE_TOLERANCE): { k: number; pivots: Int32Array; l: Float64Array } {
  const l = new Float64Array(R * R);
  const pivots = new Int32Array(R);
  const rest = new Float64Array(R);
  const used = new Uint8Array(R);
  let largest = 0;
  for (let t = 0; t < R; t++) {
    rest[t] = g[t * R + t];
    largest = Math.max(largest, rest[t]);
  }
  let k = 0;
  for (; k < R; k++) {
    let p = -1;
    for (let t = 0; t < R; t++) if (!used[t] && (p < 0 || rest[t] > rest[p])) p = t;
    if (p < 0 || !(rest[p] > relativeTolerance * largest) || !(rest[p] > 0)) break;
    used[p] = 1;
    pivots[k] = p;
    const diag = Math.sqrt(rest[p]);
    l[p * R + k] = diag;
    for (let t = 0; t < R; t++) {
      if (used[t]) continue;
      const v = (g[t * R + p] - dot(l, t * R, l, p * R, k)) / diag;
      l[t * R + k] = v;
      rest[t] -= v * v;
    }
  }
  return { k, pivots, l };
}

/** Solves L₁₁ᵀ·Z = X for Z [k, cols] (L₁₁ the leading pivot block of a pivoted Cholesky). */
function solveCholeskyTranspose(chol: { k: number; pivots: Int32Array; l: Float64Array }, R: number, x: Float64Array, cols: number): Float64Array {
  const { k, pivots, l } = chol;
  const z = Float64Array.from(x);
  for (let a = k - 1; a >= 0; a--) {
    for (let b = a + 1; b < k; b++) {
      const lba = l[pivots[b] * R + a];
      if (lba === 0) continue;
      for (let c = 0; c < cols; c++) z[a * cols + c] -= lba * z[b * cols + c];
    }
    const laa = l[pivots[a] * R + a];
    for (let c = 0; c < cols; c++) z[a * cols + c] /= laa;
  }
  return z;
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
  const balancedB = new Float64Array(R * R), balancedA = new Float64Array(R * R);
  for (let x = 0; x < R; x++) {
    for (let y = 0; y < R; y++) {
      balancedB[x * R + y] = gramB[x * R + y] * balance[x] * balance[y];
      balancedA[x * R + y] = gramA[x * R + y] / (balance[x] * balance[y]);
    }
  }
  const cb = pivotedCholesky(balancedB, R);
  const ca = pivotedCholesky(balancedA, R);
  const kb = cb.k, ka = ca.k;
  if (kb === 0 || ka === 0) return { rank: outRank, mixA, mixB, sigma: new Float64Array(0), energyKept: 1 };
  // core [kb, ka] = L_Bᵀ·diag(c)·L_A, summed over the original inner index; row t of a pivoted
  // Cholesky factor is zero beyond its pivot position
  const spanB = nonzeroSpans(cb, R), spanA = nonzeroSpans(ca, R);
  const core = new Float64Array(kb * ka);
  const row = new Float64Array(ka);
  for (let t = 0; t < R; t++) {
    const c = coefficients[t];
    if (c === 0) continue;
    const ja = spanA[t], ib = spanB[t];
    for (let j = 0; j < ja; j++) row[j] = c * ca.l[t * R + j];
    for (let i = 0; i < ib; i++) {
      const lb = cb.l[t * R + i];
      if (lb === 0) continue;
      const o = i * ka;
      for (let j = 0; j < ja; j++) core[o + j] += lb * row[j];
    }
  }
  let total = 0;
  for (let i = 0; i < core.length; i++) total += core[i] * core[i];
  // the smaller side's symmetric product, from rows of core (U side) or of coreᵀ (V side)
  const rightSide = ka <= kb;
  const p = rightSide ? ka : kb;
  const q0 = rightSide ? kb : ka;
  const rows = rightSide ? transpose(core, kb, ka) : core; // [p, q0]
  const other = rightSide ? core : transpose(core, kb, ka); // [q0, p]
  const sym = new Float64Array(p * p);
  for (let x = 0; x < p; x++) {
    for (let y = x; y < p; y++) {
      const v = dot(rows, x * q0, rows, y * q0, q0);
      sym[x * p + y] = v;
      sym[y * p + x] = v;
    }
  }
  const eig = symmetricEigen(sym, p);
  const sigma = new Float64Array(p);
  for (let q = 0; q < p; q++) sigma[q] = Math.sqrt(Math.max(eig.values[q], 0));
  const keep = Math.min(outRank, p);
  // y_q·√σ on the eigenvector side, (other·y_q / σ)·√σ on the other: rows [keep, p] and [keep, q0]
  const near = new Float64Array(keep * p);
  const far = new Float64Array(keep * q0);
  const y = new Float64Array(p);
  let kept = 0;
  for (let q = 0; q < keep; q++) {
    const sv = sigma[q];
    kept += sv * sv;
    if (sv === 0) continue;
    const root = Math.sqrt(sv);
    for (let j = 0; j < p; j++) y[j] = eig.vectors[j * p + q];
    for (let j = 0; j < p; j++) near[q * p + j] = y[j] * root;
    const f = root / sv;
    for (let i = 0; i < q0; i++) far[q * q0 + i] = dot(other, i * p, y, 0, p) * f;
  }
  // Q_B = B[:, pivots]·L₁₁⁻ᵀ, Q_Aᵀ = L₁₁⁻¹·A[pivots, :]: one triangular solve each
  const us = rightSide ? far : near; // [keep, kb]: U_r·√Σ, transposed
  const vs = rightSide ? near : far; // [keep, ka]
  const zb = solveCholeskyTranspose(cb, R, transpose(us, keep, kb), keep);
  const za = solveCholeskyTranspose(ca, R, transpose(vs, keep, ka), keep);
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

/** For each original row t of a pivoted Cholesky factor: how many leading columns can be non-zero. */
function nonzeroSpans(chol: { k: number; pivots: Int32Array }, R: number): Int32Array {
  const span = new Int32Array(R).fill(chol.k);
  for (let j = 0; j < chol.k; j++) span[chol.pivots[j]] = j + 1;
  return span;
}

function transpose(x: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
  return t;
}

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
