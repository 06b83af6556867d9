/**
 * Symmetric eigen-decomposition and pseudo-inverse solves for the small (k ≤ ~128) matrices of the
 * weights step. Cyclic Jacobi is slow (O(n³) per sweep) but accurate to working precision even for
 * eigenvalues near zero, which is what the rank decisions (duplicate or affinely dependent
 * prototypes) depend on. The fast path for non-singular systems is `choleskySolve`.
 */

export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** n×n row-major; column j is the unit eigenvector of values[j]. */
  vectors: Float64Array;
}

/** Below this (relative to the largest eigenvalue or pivot) a direction counts as singular. */
export const SINGULAR_TOLERANCE = 1e-12;

export function symmetricEigen(matrix: Float64Array, n: number): SymmetricEigen {
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
  // Sort ascending (stable on index) so callers and outputs are deterministic and easy to read.
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[i * n + i] - a[j * n + j] || i - j);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    values[to] = a[from * n + from];
    for (let r = 0; r < n; r++) vectors[r * n + to] = v[r * n + from];
  });
  return { values, vectors };
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

/**
 * Solves A x = b for a symmetric positive semi-definite A by pivoted Cholesky; null when a pivot is
 * negligible next to the largest diagonal entry or referenceScale (A numerically singular: use the
 * eigen route).
 */
export function choleskySolve(matrix: Float64Array, n: number, b: Float64Array, referenceScale = 0, tolerance = SINGULAR_TOLERANCE): Float64Array | null {
  const a = Float64Array.from(matrix);
  const perm = Array.from({ length: n }, (_, i) => i);
  let largestDiagonal = referenceScale;
  for (let i = 0; i < n; i++) largestDiagonal = Math.max(largestDiagonal, a[i * n + i]);
  if (!(largestDiagonal > 0)) return n === 0 ? new Float64Array(0) : null;
  for (let j = 0; j < n; j++) {
    // Pivot on the largest remaining diagonal entry (rank-revealing for PSD matrices).
    let pivot = j;
    for (let i = j + 1; i < n; i++) if (a[i * n + i] > a[pivot * n + pivot]) pivot = i;
    if (!(a[pivot * n + pivot] > tolerance * largestDiagonal)) return null;
    if (pivot !== j) {
      for (let c = 0; c < n; c++) {
        const t = a[j * n + c]; a[j * n + c] = a[pivot * n + c]; a[pivot * n + c] = t;
      }
      for (let r = 0; r < n; r++) {
        const t = a[r * n + j]; a[r * n + j] = a[r * n + pivot]; a[r * n + pivot] = t;
      }
      const t = perm[j]; perm[j] = perm[pivot]; perm[pivot] = t;
    }
    const d = Math.sqrt(a[j * n + j]);
    a[j * n + j] = d;
    for (let i = j + 1; i < n; i++) a[i * n + j] /= d;
    // Update the whole trailing square (kept symmetric so later pivot swaps stay valid).
    for (let i = j + 1; i < n; i++) {
      const lij = a[i * n + j];
      if (lij === 0) continue;
      for (let c = j + 1; c < n; c++) a[i * n + c] -= lij * a[c * n + j];
    }
  }
  // Solve L Lᵀ y = P b, then x = Pᵀ y.
  const y = substituteCholesky(a, n, n, Float64Array.from({ length: n }, (_, i) => b[perm[i]]));
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[perm[i]] = y[i];
  return x;
}

/**
 * Solves L Lᵀ y = b for the m×m lower factor L stored row-major with row stride `stride` (the leading
 * block of a larger buffer is fine): forward then backward substitution.
 */
export function substituteCholesky(factor: Float64Array, stride: number, m: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i];
    for (let c = 0; c < i; c++) s -= factor[i * stride + c] * y[c];
    y[i] = s / factor[i * stride + i];
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = y[i];
    for (let r = i + 1; r < m; r++) s -= factor[r * stride + i] * y[r];
    y[i] = s / factor[i * stride + i];
  }
  return y;
}
