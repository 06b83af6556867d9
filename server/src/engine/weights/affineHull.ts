/**
 * The equality-constrained core every exact strategy reduces to: on a subset S of the candidates,
 *
 *   2·C_SS·w − ν·1 = b,   1ᵀw = σ
 *
 * (the KKT system of  min wᵀC_SS·w − bᵀw  s.t. 1ᵀw = σ). We write w = (σ/m)·1 + N·z with N an
 * orthonormal basis of 1⊥ (from one Householder reflector), so the system becomes the PSD solve
 * 2·NᵀCN·z = Nᵀ(b − (2σ/m)·C·1). Since (σ/m)·1 ⟂ N·z, the minimum-norm z gives the minimum-norm w
 * when the prototypes on S are affinely dependent (duplicates, m > D + 1): that is the pseudo-inverse
 * of the KKT system, taken by eigen-decomposition only when Cholesky finds the system singular.
 */
import { denseKernels } from '../linalg/simdDot';
import { jacobiEigen, nullDirections, pseudoInverseSolve } from '../linalg/eigen';

export interface AffineSolution {
  /** Weights on the subset, in subset order. */
  w: Float64Array;
  /** True when the system was singular and the minimum-norm solution was taken. */
  singular: boolean;
}

/** Reflector Q = I − β·v·vᵀ with Q·(1/√m) = −e₁: its columns 2…m are an orthonormal basis N of 1⊥. */
interface Reflector {
  v: Float64Array;
  beta: number;
}

function reflector(m: number): Reflector {
  const u = 1 / Math.sqrt(m);
  const v = new Float64Array(m).fill(u);
  v[0] += 1;
  return { v, beta: 1 / (1 + u) };
}

/**
 * Scratch for projectedMatrix's H and subMatrix's C_SS, reused from call to call: every entry is
 * written each time, and no caller keeps either past its own return (the solvers read them, the
 * eigen-decomposition copies). A new k×k typed array costs more than filling it.
 */
let projectedScratch: Float64Array = new Float64Array(0);
let subScratch: Float64Array = new Float64Array(0);

function scratchOf(buffer: Float64Array, size: number): Float64Array {
  return buffer.length >= size ? buffer : new Float64Array(Math.max(size, 2 * buffer.length));
}

/**
 * out[i] = Σ_j a[i·m + j]·v[j] (or Σ_j a[i·m + j] when v is null), each sum from 0 in ascending j. Four
 * rows per pass: four independent chains, each in its own order (the same bits as one row at a time,
 * without waiting on one chain of m additions per row).
 */
function rowSums(a: Float64Array, m: number, v: Float64Array | null, out: Float64Array): void {
  let i = 0;
  for (; i + 3 < m; i += 4) {
    const r0 = i * m, r1 = r0 + m, r2 = r1 + m, r3 = r2 + m;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    if (v) {
      for (let j = 0; j < m; j++) {
        const vj = v[j];
        s0 += a[r0 + j] * vj;
        s1 += a[r1 + j] * vj;
        s2 += a[r2 + j] * vj;
        s3 += a[r3 + j] * vj;
      }
    } else {
      for (let j = 0; j < m; j++) {
        s0 += a[r0 + j];
        s1 += a[r1 + j];
        s2 += a[r2 + j];
        s3 += a[r3 + j];
      }
    }
    out[i] = s0; out[i + 1] = s1; out[i + 2] = s2; out[i + 3] = s3;
  }
  for (; i < m; i++) {
    let s = 0;
    if (v) for (let j = 0; j < m; j++) s += a[i * m + j] * v[j];
    else for (let j = 0; j < m; j++) s += a[i * m + j];
    out[i] = s;
  }
}

/** H = 2·NᵀC_SS·N, (m−1)×(m−1), in the scratch (valid until the next call). */
function projectedMatrix(sub: Float64Array, m: number, q: Reflector): Float64Array {
  const { v, beta } = q;
  const p = new Float64Array(m);
  rowSums(sub, m, v, p);
  for (let i = 0; i < m; i++) p[i] = beta * p[i];
  let vp = 0;
  for (let i = 0; i < m; i++) vp += v[i] * p[i];
  const kappa = beta * vp;
  const n = m - 1;
  projectedScratch = scratchOf(projectedScratch, n * n);
  const h = projectedScratch.subarray(0, n * n);
  // Each entry is 2·(sub_ij − p_i·v_j − v_i·p_j + κ·v_i·v_j), left to right. From 1 on every v_i is
  // the same u (v = u·1 + e₁), so p_i·v_j = p_i·u, v_i·p_j = u·p_j = p_j·u (exactly: a product does not
  // depend on its order) and κ·v_i·v_j = (κ·u)·u: each product made once, not once per entry; the same bits.
  const u = v[1];
  const pu = p; // p_i·u in place (p is not read again)
  for (let i = 1; i < m; i++) pu[i] = p[i] * u;
  const kuu = kappa * u * u;
  for (let i = 1; i < m; i++) {
    const row = i * m;
    const pi = pu[i];
    const out = (i - 1) * n - 1;
    for (let j = i; j < m; j++) {
      const value = 2 * (sub[row + j] - pi - pu[j] + kuu);
      h[out + j] = value;
      h[(j - 1) * n + (i - 1)] = value;
    }
  }
  return h;
}

/** Nᵀy = (Q·y) without its first entry. */
function applyNTranspose(y: Float64Array, q: Reflector): Float64Array {
  const m = y.length;
  let vy = 0;
  for (let i = 0; i < m; i++) vy += q.v[i] * y[i];
  const out = new Float64Array(m - 1);
  for (let i = 1; i < m; i++) out[i - 1] = y[i] - q.beta * q.v[i] * vy;
  return out;
}

/** N·z = Q·[0; z]. */
function applyN(z: Float64Array, q: Reflector): Float64Array {
  const m = z.length + 1;
  let vz = 0;
  for (let i = 1; i < m; i++) vz += q.v[i] * z[i - 1];
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) out[i] = (i === 0 ? 0 : z[i - 1]) - q.beta * q.v[i] * vz;
  return out;
}

/**
 * What "negligible" is measured against: 2·max C_ii, the size of C itself. H = 2NᵀCN can be all
 * rounding noise (every prototype equal), so its own size is no yardstick.
 */
function referenceScale(sub: Float64Array, m: number): number {
  let largest = 0;
  for (let i = 0; i < m; i++) largest = Math.max(largest, sub[i * m + i]);
  return 2 * largest;
}

/** C_SS in the scratch (valid until the next call), or C itself for every candidate in order. */
function subMatrix(c: Float64Array, k: number, subset: readonly number[]): Float64Array {
  const m = subset.length;
  // Every candidate in order (lin): C itself (callers only read it).
  if (m === k && subset.every((i, a) => i === a)) return c;
  subScratch = scratchOf(subScratch, m * m);
  const sub = subScratch.subarray(0, m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) sub[a * m + b] = c[subset[a] * k + subset[b]];
  return sub;
}

/** Solves the system above on `subset` (b = 0 when null). */
export function solveOnAffineHull(c: Float64Array, k: number, subset: readonly number[], b: Float64Array | null, sigma: number): AffineSolution {
  const m = subset.length;
  const sub = subMatrix(c, k, subset);
  const rhsFull = new Float64Array(m);
  rowSums(sub, m, null, rhsFull);
  for (let i = 0; i < m; i++) rhsFull[i] = (b ? b[i] : 0) - (2 * sigma / m) * rhsFull[i];
  const w = new Float64Array(m);
  let singular = false;
  if (m === 1) {
    w[0] = sigma;
  } else {
    const q = reflector(m);
    const h = projectedMatrix(sub, m, q);
    const rhs = applyNTranspose(rhsFull, q);
    const reference = referenceScale(sub, m);
    let z = denseKernels().choleskySolve(h, m - 1, rhs, reference);
    if (!z) {
      singular = true;
      z = pseudoInverseSolve(jacobiEigen(h, m - 1, 'ascending'), m - 1, rhs, reference);
    }
    const nz = applyN(z, q);
    for (let i = 0; i < m; i++) w[i] = sigma / m + nz[i];
  }
  // (ν, the multiplier, is not formed: every caller uses w alone.)
  return { w, singular };
}

/**
 * An orthonormal basis (each column a length-m vector, summing to 0) of the directions d on `subset`
 * with C_SS·d = 0 and 1ᵀd = 0: moving along them changes neither Σw nor t − Σwᵢpᵢ. Empty when the
 * prototypes on the subset are affinely independent.
 */
export function flatDirections(c: Float64Array, k: number, subset: readonly number[]): Float64Array[] {
  const m = subset.length;
  if (m <= 1) return [];
  const q = reflector(m);
  const sub = subMatrix(c, k, subset);
  const h = projectedMatrix(sub, m, q);
  const reference = referenceScale(sub, m);
  if (denseKernels().choleskySolve(h, m - 1, new Float64Array(m - 1), reference)) return [];
  const eigen = jacobiEigen(h, m - 1, 'ascending');
  return nullDirections(eigen, m - 1, reference).map((j) => {
    const z = new Float64Array(m - 1);
    for (let r = 0; r < m - 1; r++) z[r] = eigen.vectors[r * (m - 1) + j];
    return applyN(z, q);
  });
}
