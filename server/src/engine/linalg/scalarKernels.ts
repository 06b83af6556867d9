/**
 * The dense kernels in plain JavaScript, bit for bit the SIMD ones (simdKernels.ts): every sum in the
 * same order, so a runtime without WebAssembly SIMD gives the same weights. It exists apart from the
 * SIMD code so each twin can be read against its kernel, and it holds targetProducts, the reference
 * order of the lasso's products with the target.
 */
import { addRows, dot } from './dense';
import { choleskySolve, substituteCholesky } from './cholesky';
import type { SimdKernels, TargetProducts } from './kernelContract';

/** TargetProducts in JavaScript, the reference order: each sum over d ascending, one term at a time. */
export function targetProducts(target: Float64Array, prototypes: readonly Float64Array[]): TargetProducts {
  const k = prototypes.length;
  const dim = target.length;
  const out = { b: new Float64Array(k), e: new Float64Array(k), squares: new Float64Array(k) };
  // Two prototypes per pass: six independent chains of additions instead of three (the same bits).
  let i = 0;
  for (; i + 1 < k; i += 2) {
    const p = prototypes[i];
    const q = prototypes[i + 1];
    let bp = 0, ep = 0, pp = 0, bq = 0, eq = 0, qq = 0;
    for (let d = 0; d < dim; d++) {
      const td = target[d];
      const pd = p[d];
      const qd = q[d];
      bp += pd * td; ep += (td - pd) * td; pp += pd * pd;
      bq += qd * td; eq += (td - qd) * td; qq += qd * qd;
    }
    out.b[i] = bp; out.e[i] = ep; out.squares[i] = pp;
    out.b[i + 1] = bq; out.e[i + 1] = eq; out.squares[i + 1] = qq;
  }
  for (; i < k; i++) {
    const p = prototypes[i];
    let bi = 0, ei = 0, pp = 0;
    for (let d = 0; d < dim; d++) { const pd = p[d]; const td = target[d]; bi += pd * td; ei += (td - pd) * td; pp += pd * pd; }
    out.b[i] = bi; out.e[i] = ei; out.squares[i] = pp;
  }
  return out;
}

/** Row i of `out` = t − pᵢ. */
function writeDifferences(out: Float64Array, target: Float64Array, prototypes: readonly Float64Array[]): void {
  const dim = target.length;
  for (let i = 0; i < prototypes.length; i++) {
    const p = prototypes[i];
    const offset = i * dim;
    for (let d = 0; d < dim; d++) out[offset + d] = target[d] - p[d];
  }
}

/**
 * Σ f(x_t, y_t) summed as the SIMD kernels do: even terms, odd terms, their sum, then the last term of
 * an odd length. f is x·y or (x − y)².
 */
function paired(v: Float64Array, x: number, y: number, n: number, squares: boolean): number {
  let even = 0;
  let odd = 0;
  const pairs = n & ~1;
  for (let t = 0; t < pairs; t += 2) {
    if (squares) {
      const a = v[x + t] - v[y + t];
      const b = v[x + t + 1] - v[y + t + 1];
      even += a * a;
      odd += b * b;
    } else {
      even += v[x + t] * v[y + t];
      odd += v[x + t + 1] * v[y + t + 1];
    }
  }
  let sum = even + odd;
  if (pairs < n) {
    const a = v[x + pairs];
    const b = v[y + pairs];
    sum += squares ? (a - b) * (a - b) : a * b;
  }
  return sum;
}

function scalarPass(rows: Float64Array, k: number, dim: number, squares: boolean): Float64Array {
  const c = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const value = paired(rows, i * dim, j * dim, dim, squares);
      c[i * k + j] = value;
      c[j * k + i] = value;
    }
  }
  return c;
}

/** forwardU in JavaScript: y ← L⁻¹·y from U = Lᵀ, column by column. */
function forwardByColumns(u: Float64Array, k: number, m: number, y: Float64Array): void {
  for (let c = 0; c < m; c++) {
    const row = c * k;
    const yc = y[c] / u[row + c];
    y[c] = yc;
    for (let i = c + 1; i < m; i++) y[i] = y[i] - u[row + i] * yc;
  }
}

/** The kernels in plain JavaScript, bit for bit the SIMD ones. */
export const scalarKernels: SimdKernels = {
  gramOfRows: (rows, k, dim) => scalarPass(rows, k, dim, false),
  choleskySolve,
  rowSums: (matrix, k, vectors, matrices = 0) => ({
    vectors: Array.from({ length: vectors }, () => new Float64Array(k)),
    matrices: Array.from({ length: matrices }, () => new Float64Array(k * k)),
    addRows: (out, rows, count, v, scale) => addRows(out, matrix, k, rows, count, v, scale),
    substitute: (l, _u, m, y) => { substituteCholesky(l, k, m, y, y); },
    forward: (u, m, y) => { forwardByColumns(u, k, m, y); },
    residual: (a, m, z, rhs, out) => { for (let p = 0; p < m; p++) out[p] = rhs[p] - dot(a, p * k, z, 0, m); },
  }),
  gramOfDifferences: (target, prototypes, products) => {
    if (products) {
      const { b, e, squares } = targetProducts(target, prototypes);
      products.b.set(b);
      products.e.set(e);
      products.squares.set(squares);
    }
    const differences = new Float64Array(prototypes.length * target.length);
    writeDifferences(differences, target, prototypes);
    return scalarPass(differences, prototypes.length, target.length, false);
  },
  squaredDistances: (rows, k, dim) => scalarPass(rows, k, dim, true),
};
