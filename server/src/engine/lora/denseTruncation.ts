/**
 * A dense module update D (m×n, float64) written back as LoRA factors of rank r: the entry-wise
 * merges (entrywiseMerge.ts) produce a full-rank D, so unlike `svd` (truncatedProduct.ts, which
 * works from the factors) this needs the dense matrix's own truncated SVD.
 *
 * Two routes to the top-r right singular subspace V_r:
 *   exact:      eigen-decomposition of the smaller Gram (D·Dᵀ or Dᵀ·D, p×p with p = min(m, n)), used
 *               when p ≤ EXACT_MAX_SIDE (the p³ JS eigen-solver takes seconds at 1024, minutes at 4096);
 *   randomized: Halko–Martinsson–Tropp range finder with l = r + oversample columns and q power
 *               iterations (re-orthonormalised each half step), then the exact SVD of Qᵀ·D (l×n).
 *               Measured on the TIES merge of the real gpt2 pair at rank 16 (bench/denseTruncation.ts):
 *               q = 8 is 0.006% above the exact relative error at 3–10× less time; q = 4 is 0.05% above.
 * Both finish the same way: A = √s·V_rᵀ, B = D·V_r/√s (s the column norms of D·V_r), so the output is
 * the projection D·V_r·V_rᵀ — the best rank-r approximation when V_r is exact — and its kept energy
 * ‖D·V_r‖²/‖D‖² (and relative error √(1 − energy)) is measured, not estimated, on either route.
 * The large products (D times a thin matrix, the Gram) run through the panel products (ONNX Runtime).
 */
import { transpose } from '../linalg/dense';
import { householderQlEigen } from '../linalg/eigen';
import type { PanelProducts } from './panelProducts';

/** Largest min(m, n) for which the exact route is used by default. */
export const EXACT_MAX_SIDE = 1024;

export type TruncationRoute = 'exact' | 'randomized';

export interface DenseTruncationOptions {
  /** Default: exact when min(m, n) ≤ EXACT_MAX_SIDE, randomized otherwise. */
  route?: 'auto' | TruncationRoute;
  /** Randomized route: extra columns (default max(10, r)) and power iterations (default 8). */
  oversample?: number;
  powerIterations?: number;
  /** Seeds the randomized route's test matrix (deterministic). */
  seed?: number;
}

export interface DenseTruncation {
  rank: number;
  /** A [rank, n]. */
  a: Float64Array;
  /** B [m, rank]. */
  b: Float64Array;
  /** ‖D·V_r‖²/‖D‖² (1 when D = 0). */
  energyKept: number;
  /** ‖D − B·A‖_F / ‖D‖_F = √(1 − energyKept). */
  relativeError: number;
  route: TruncationRoute;
}

/**
 * Orthonormalises the rows of x [k, len] in place (modified Gram–Schmidt, twice); rows that are
 * numerically dependent on the previous ones become zero.
 */
export function orthonormalizeRows(x: Float64Array, k: number, len: number): void {
  for (let i = 0; i < k; i++) {
    const oi = i * len;
    let before = 0;
    for (let t = 0; t < len; t++) before += x[oi + t] ** 2;
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        const oj = j * len;
        let d = 0;
        for (let t = 0; t < len; t++) d += x[oi + t] * x[oj + t];
        if (d !== 0) for (let t = 0; t < len; t++) x[oi + t] -= d * x[oj + t];
      }
    }
    let after = 0;
    for (let t = 0; t < len; t++) after += x[oi + t] ** 2;
    // what is left after removing the previous directions is rounding noise: the row adds nothing
    if (!(after > 1e-24 * before) || !(after > 0)) {
      x.fill(0, oi, oi + len);
      continue;
    }
    const norm = Math.sqrt(after);
    for (let t = 0; t < len; t++) x[oi + t] /= norm;
  }
}

/** Deterministic standard normals (xorshift32 + Box–Muller). */
function gaussian(count: number, seed: number): Float64Array {
  let s = (seed ^ 0x9e3779b9) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float64Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next()));
    const th = 2 * Math.PI * next();
    out[i] = r * Math.cos(th);
    if (i + 1 < count) out[i + 1] = r * Math.sin(th);
  }
  return out;
}

/** Dᵀ·D [n, n] by row blocks (no transposed copy of D). */
async function columnGram(d: Float64Array, m: number, n: number, products: PanelProducts): Promise<Float64Array> {
  const g = new Float64Array(n * n);
  const step = Math.max(1, Math.floor((1 << 21) / n));
  for (let i0 = 0; i0 < m; i0 += step) {
    const rows = Math.min(m, i0 + step) - i0;
    const t = transpose(d.subarray(i0 * n, (i0 + rows) * n), rows, n); // [n, rows]
    const part = await products.gram(t, n, rows);
    for (let e = 0; e < g.length; e++) g[e] += part[e];
  }
  return g;
}

/** Rows of the top-`k` eigenvectors (descending) of a symmetric p×p matrix, as [k, p], with √eigenvalues. */
function topEigenRows(sym: Float64Array, p: number, k: number): { rows: Float64Array; sigma: Float64Array } {
  const eig = householderQlEigen(sym, p, 'descending');
  const rows = new Float64Array(k * p);
  const sigma = new Float64Array(k);
  for (let q = 0; q < k; q++) {
    sigma[q] = Math.sqrt(Math.max(0, eig.values[q]));
    for (let j = 0; j < p; j++) rows[q * p + j] = eig.vectors[j * p + q];
  }
  return { rows, sigma };
}

/** V_r as rows [k, n] from left vectors U_r (rows [k, m]): v_q = u_qᵀ·D / σ_q. */
async function rightFromLeft(d: Float64Array, m: number, n: number, u: Float64Array, sigma: Float64Array, k: number, products: PanelProducts): Promise<Float64Array> {
  const v = await products.combine(u, k, d, m, n); // [k, n]
  for (let q = 0; q < k; q++) {
    const s = sigma[q];
    for (let j = 0; j < n; j++) v[q * n + j] = s > 0 ? v[q * n + j] / s : 0;
  }
  return v;
}

async function exactSubspace(d: Float64Array, m: number, n: number, k: number, products: PanelProducts): Promise<Float64Array> {
  if (m <= n) {
    const g = await products.gram(d, m, n); // D·Dᵀ
    const { rows, sigma } = topEigenRows(g, m, k);
    return rightFromLeft(d, m, n, rows, sigma, k, products);
  }
  const g = await columnGram(d, m, n, products);
  return topEigenRows(g, n, k).rows;
}

async function randomizedSubspace(d: Float64Array, m: number, n: number, k: number, options: DenseTruncationOptions, products: PanelProducts): Promise<Float64Array> {
  const l = Math.min(Math.min(m, n), k + (options.oversample ?? Math.max(10, k)));
  const q = options.powerIterations ?? 8;
  const omega = gaussian(n * l, options.seed ?? 0); // [n, l]
  let qt = transpose(await products.combine(d, m, omega, n, l), m, l); // [l, m]
  orthonormalizeRows(qt, l, m);
  for (let it = 0; it < q; it++) {
    const zt = await products.combine(qt, l, d, m, n); // (Dᵀ·Q)ᵀ [l, n]
    orthonormalizeRows(zt, l, n);
    qt = transpose(await products.combine(d, m, transpose(zt, l, n), n, l), m, l);
    orthonormalizeRows(qt, l, m);
  }
  const small = await products.combine(qt, l, d, m, n); // Qᵀ·D [l, n]
  const g = await products.gram(small, l, n);
  const { rows, sigma } = topEigenRows(g, l, k);
  // v_q = u_qᵀ·(Qᵀ·D) / σ_q
  return rightFromLeft(small, l, n, rows, sigma, k, products);
}

/** Rank-r factors of a dense D [m, n] (row-major, float64). */
export async function truncateDense(d: Float64Array, m: number, n: number, rank: number, products: PanelProducts, options: DenseTruncationOptions = {}): Promise<DenseTruncation> {
  const k = Math.max(0, Math.min(rank, m, n));
  const route: TruncationRoute = options.route && options.route !== 'auto' ? options.route : Math.min(m, n) <= EXACT_MAX_SIDE ? 'exact' : 'randomized';
  let total = 0;
  for (let e = 0; e < m * n; e++) total += d[e] * d[e];
  const a = new Float64Array(k * n);
  const b = new Float64Array(m * k);
  if (k === 0 || total === 0) return { rank: k, a, b, energyKept: 1, relativeError: 0, route };
  const v = route === 'exact' ? await exactSubspace(d, m, n, k, products) : await randomizedSubspace(d, m, n, k, options, products);
  orthonormalizeRows(v, k, n);
  const p = await products.combine(d, m, transpose(v, k, n), n, k); // D·V_r [m, k]
  let kept = 0;
  for (let qi = 0; qi < k; qi++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += p[i * k + qi] ** 2;
    kept += s;
    const norm = Math.sqrt(s);
    if (norm === 0) continue;
    const root = Math.sqrt(norm);
    for (let j = 0; j < n; j++) a[qi * n + j] = v[qi * n + j] * root;
    for (let i = 0; i < m; i++) b[i * k + qi] = p[i * k + qi] / root;
  }
  const energyKept = Math.min(1, kept / total);
  return { rank: k, a, b, energyKept, relativeError: Math.sqrt(Math.max(0, 1 - energyKept)), route };
}
