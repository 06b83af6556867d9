/**
 * Symmetric eigen-decomposition of the small dense matrices the engine solves, in float64, with the
 * order of the eigenvalues always named by the caller (the weights step reads the smallest ones, the
 * merge the largest). Two algorithms, for two needs:
 *   jacobiEigen: cyclic Jacobi, slow (O(n³) per sweep) but accurate to working precision even for
 *     eigenvalues near zero, which is what the weights' rank decisions (duplicate or affinely dependent
 *     prototypes) and the library's PCA depend on;
 *   householderQlEigen: Householder tridiagonalisation and implicit QL (EISPACK tred2/tql2, as in
 *     JAMA), one O(n³) pass, for the merge's R×R cores and the dense truncation's p×p Grams (p ≤ 1024).
 * Also the pseudo-inverse solves built on an eigen-decomposition. Cholesky is in cholesky.ts.
 *
 * Size (~380 lines): the two algorithms and the QL pieces the svd merge's WebAssembly twin mirrors step
 * by step (linalg/mixKernels.ts reads `tridiagonalize`, `diagonalizeTridiagonal` and the reflections
 * here as its reference, bit for bit); split apart, the twin would have to follow several files.
 */

export type EigenOrder = 'ascending' | 'descending';

export interface SymmetricEigen {
  /** Eigenvalues, in the order asked for (ties keep the index order). */
  values: Float64Array;
  /** n×n row-major; column j is the unit eigenvector of values[j]. */
  vectors: Float64Array;
}

/** Below this (relative to the largest eigenvalue or pivot) a direction counts as singular. */
export const SINGULAR_TOLERANCE = 1e-12;

/** Eigenpairs by cyclic Jacobi rotations (accurate near zero). */
export function jacobiEigen(matrix: Float64Array, n: number, order: EigenOrder): SymmetricEigen {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let frobenius = 0;
  for (let i = 0; i < n * n; i++) frobenius += a[i] * a[i];
  for (let sweep = 0; sweep < 80; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    if (off <= 1e-34 * frobenius || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const app = a[p * n + p];
        const aqq = a[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.abs(theta) > 1e150
          ? 1 / (2 * theta)
          : (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < n; r++) {
          const arp = a[r * n + p];
          const arq = a[r * n + q];
          a[r * n + p] = c * arp - s * arq;
          a[r * n + q] = s * arp + c * arq;
        }
        for (let r = 0; r < n; r++) {
          const apr = a[p * n + r];
          const aqr = a[q * n + r];
          a[p * n + r] = c * apr - s * aqr;
          a[q * n + r] = s * apr + c * aqr;
        }
        a[p * n + q] = 0;
        a[q * n + p] = 0;
        for (let r = 0; r < n; r++) {
          const vrp = v[r * n + p];
          const vrq = v[r * n + q];
          v[r * n + p] = c * vrp - s * vrq;
          v[r * n + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
  return sortedPairs(d, n, order, (src, k) => v[k * n + src]);
}

/**
 * Eigenpairs by Householder tridiagonalisation and implicit QL (tred2/tql2), on a copy of the first
 * n×n entries of `input`.
 */
export function householderQlEigen(input: Float64Array, n: number, order: EigenOrder): SymmetricEigen {
  const v = Float64Array.from(input.subarray(0, n * n));
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  // both phases work on Vᵀ, where the rotations and reflections combine contiguous rows
  const vt = v;
  if (n > 0) {
    tridiagonalize(vt, d, e, n);
    diagonalizeTridiagonal(vt, d, e, n);
  }
  return sortedPairs(d, n, order, (src, k) => vt[src * n + k]);
}

/**
 * All eigenvalues (descending) and the eigenvectors of the `keep` largest only, by the same
 * Householder tridiagonalisation and implicit QL as householderQlEigen: the QL rotations are recorded
 * instead of applied to all n eigenvector rows (6n per rotation, ~n² rotations), and afterwards
 * folded, in reverse, into the `keep` rows that end on top (6·keep per rotation). Same arithmetic,
 * reassociated; for the merge's cores, where the output rank is a fraction of the inner rank.
 * vectors: n×keep row-major, column q the unit eigenvector of values[q].
 */
export function topEigen(input: Float64Array, n: number, keep: number): { values: Float64Array; vectors: Float64Array } {
  keep = Math.max(0, Math.min(keep, n));
  const vt = Float64Array.from(input.subarray(0, n * n));
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  let rotations = new Float64Array(0);
  let count = 0;
  // h_i of the reflections (d[i] after the reduction), before d becomes T's diagonal
  const h = new Float64Array(n);
  if (n > 0) {
    reduceToTridiagonal(vt, d, e, n);
    h.set(d);
    for (let j = 0; j < n; j++) d[j] = vt[j * n + j];
    e[0] = 0;
    rotations = new Float64Array(3 * Math.max(16, n * 2));
    diagonalizeTridiagonal(null, d, e, n, (i, c, s) => {
      if (count * 3 + 3 > rotations.length) {
        const grown = new Float64Array(rotations.length * 2);
        grown.set(rotations);
        rotations = grown;
      }
      rotations[count * 3] = i;
      rotations[count * 3 + 1] = c;
      rotations[count * 3 + 2] = s;
      count++;
    });
  }
  const sorted = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[j] - d[i] || i - j);
  const values = new Float64Array(n);
  for (let q = 0; q < n; q++) values[q] = d[sorted[q]];
  // w [n, keep]: column q = e_srcᵀ·G_N···G_1 for the q-th largest eigenvalue's row src
  const w = new Float64Array(n * keep);
  for (let q = 0; q < keep; q++) w[sorted[q] * keep + q] = 1;
  for (let t = count - 1; t >= 0; t--) {
    const i = rotations[t * 3], c = rotations[t * 3 + 1], s = rotations[t * 3 + 2];
    const ri = i * keep, rj = ri + keep;
    for (let q = 0; q < keep; q++) {
      const x = w[ri + q], y = w[rj + q];
      w[ri + q] = x * c + y * s;
      w[rj + q] = y * c - x * s;
    }
  }
  // vectors [n, keep] = Q·w = H_{n−1}···H_1·w: the reflections applied to w's rows, H_1 first
  applyReflections(vt, h, n, w, keep);
  return { values, vectors: w };
}

/** w [n, cols] ← H_{n−1}···H_1·w for the reflections left in v by reduceToTridiagonal (h_i = h[i]). */
function applyReflections(v: Float64Array, h: Float64Array, n: number, w: Float64Array, cols: number): void {
  const g = new Float64Array(cols);
  for (let i = 1; i < n; i++) {
    const hi = h[i];
    if (hi === 0) continue;
    const u = i * n;
    g.fill(0);
    for (let k = 0; k < i; k++) {
      const x = v[u + k];
      if (x === 0) continue;
      const row = k * cols;
      for (let q = 0; q < cols; q++) g[q] += x * w[row + q];
    }
    for (let q = 0; q < cols; q++) g[q] /= hi;
    for (let k = 0; k < i; k++) {
      const x = v[u + k];
      if (x === 0) continue;
      const row = k * cols;
      for (let q = 0; q < cols; q++) w[row + q] -= g[q] * x;
    }
  }
}

/**
 * The eigenpairs (d[i], vector i) in the order asked for, stable on index so that outputs are
 * deterministic; `component(i, k)` is the k-th entry of eigenvector i.
 */
function sortedPairs(d: Float64Array, n: number, order: EigenOrder, component: (i: number, k: number) => number): SymmetricEigen {
  const sign = order === 'ascending' ? 1 : -1;
  const sorted = Array.from({ length: n }, (_, i) => i).sort((i, j) => sign * (d[i] - d[j]) || i - j);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  sorted.forEach((src, dst) => {
    values[dst] = d[src];
    for (let k = 0; k < n; k++) vectors[k * n + dst] = component(src, k);
  });
  return { values, vectors };
}

/**
 * tred2 on the transpose: v (symmetric, row-major) → Qᵀ in v (so that every inner loop runs along a
 * row), diagonal d, subdiagonal e (e[0] = 0).
 */
function tridiagonalize(v: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  reduceToTridiagonal(v, d, e, n);
  accumulateReflections(v, d, e, n);
}

/** The first half of tred2: the Householder reduction, vectors left in v's rows (see accumulateReflections). */
function reduceToTridiagonal(v: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
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
}

/**
 * The second half of tred2: Q from the Householder vectors the reduction left in v (u_i in row i,
 * entries 0…i−1, with h_i in d[i]; Q = H_{n−1}···H_1, H_i = I − u_i·u_iᵀ/h_i), the diagonal into d.
 */
function accumulateReflections(v: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
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

/**
 * tql2: eigenvalues of the tridiagonal (d, e) into d, with the rotations applied to the rows of vt = Vᵀ
 * (or, with vt null, handed to `record` in the order they would have been applied: rows i, i+1 ←
 * (c·xᵢ − s·xᵢ₊₁, s·xᵢ + c·xᵢ₊₁)).
 */
export function diagonalizeTridiagonal(vt: Float64Array | null, d: Float64Array, e: Float64Array, n: number, record?: (i: number, c: number, s: number) => void): void {
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
          if (!vt) {
            record!(i, c, s);
            continue;
          }
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

/**
 * The eigen-directions whose eigenvalue is negligible next to the largest (or next to referenceScale,
 * the size of the matrix this one was derived from, when that is larger): the numerical null space.
 */
export function nullDirections(eigen: SymmetricEigen, n: number, referenceScale = 0, tolerance = SINGULAR_TOLERANCE): number[] {
  const largest = Math.max(referenceScale, ...Array.from(eigen.values, Math.abs));
  const out: number[] = [];
  for (let j = 0; j < n; j++) if (Math.abs(eigen.values[j]) <= tolerance * largest) out.push(j);
  return out;
}

/** x = A⁺ b: the minimum-norm least-squares solution, dropping eigen-directions below tolerance. */
export function pseudoInverseSolve(eigen: SymmetricEigen, n: number, b: Float64Array, referenceScale = 0, tolerance = SINGULAR_TOLERANCE): Float64Array {
  const x = new Float64Array(n);
  const largest = Math.max(referenceScale, ...Array.from(eigen.values, Math.abs));
  if (largest === 0) return x;
  for (let j = 0; j < n; j++) {
    const value = eigen.values[j];
    if (Math.abs(value) <= tolerance * largest) continue;
    let projection = 0;
    for (let r = 0; r < n; r++) projection += eigen.vectors[r * n + j] * b[r];
    const scale = projection / value;
    for (let r = 0; r < n; r++) x[r] += scale * eigen.vectors[r * n + j];
  }
  return x;
}
