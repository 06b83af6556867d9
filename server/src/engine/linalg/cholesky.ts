/**
 * Cholesky factorisations and triangular solves of the engine's small symmetric positive
 * semi-definite matrices (float64, row-major): the weights' pivoted solve with a singularity answer,
 * substitution with a stored factor, appending or deleting a member of a factor, and the merge's pivoted Cholesky of a Gram that stops at
 * numerical rank.
 */
import { SINGULAR_TOLERANCE } from './eigen';
import { dot } from './dense';

/**
 * Solves A x = b for a symmetric positive semi-definite A by pivoted Cholesky; null when a pivot is
 * negligible next to the largest diagonal entry or referenceScale (A numerically singular: use the
 * eigen route).
 */
export function choleskySolve(matrix: Float64Array, n: number, b: Float64Array, referenceScale = 0, tolerance = SINGULAR_TOLERANCE): Float64Array | null {
  let largestDiagonal = referenceScale;
  for (let i = 0; i < n; i++) largestDiagonal = Math.max(largestDiagonal, matrix[i * n + i]);
  if (!(largestDiagonal > 0)) return n === 0 ? new Float64Array(0) : null;
  // Left-looking: column j of L is A's column minus one dot product of two contiguous rows of L per
  // entry (n³/6 multiply-adds; the right-looking form updated the whole trailing square, n³/3, through
  // strided columns). `schur` holds the trailing Schur complement's diagonal, which picks the pivot.
  const l = new Float64Array(n * n);
  const perm = new Int32Array(n);
  const schur = new Float64Array(n);
  for (let i = 0; i < n; i++) { perm[i] = i; schur[i] = matrix[i * n + i]; }
  for (let j = 0; j < n; j++) {
    const pivot = takePivot(schur, perm, j, tolerance * largestDiagonal, l, n, 1);
    if (pivot < 0) return null;
    const d = Math.sqrt(schur[j]);
    l[j * n + j] = d;
    const rowJ = j * n;
    const column = perm[j];
    // Four rows per pass: four independent chains of subtractions, each in ascending c (the same bits).
    let i = j + 1;
    for (; i + 3 < n; i += 4) {
      const r0 = i * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
      let s0 = matrix[perm[i] * n + column], s1 = matrix[perm[i + 1] * n + column];
      let s2 = matrix[perm[i + 2] * n + column], s3 = matrix[perm[i + 3] * n + column];
      for (let c = 0; c < j; c++) {
        const ljc = l[rowJ + c];
        s0 -= l[r0 + c] * ljc;
        s1 -= l[r1 + c] * ljc;
        s2 -= l[r2 + c] * ljc;
        s3 -= l[r3 + c] * ljc;
      }
      const l0 = s0 / d, l1 = s1 / d, l2 = s2 / d, l3 = s3 / d;
      l[r0 + j] = l0; l[r1 + j] = l1; l[r2 + j] = l2; l[r3 + j] = l3;
      schur[i] -= l0 * l0; schur[i + 1] -= l1 * l1; schur[i + 2] -= l2 * l2; schur[i + 3] -= l3 * l3;
    }
    for (; i < n; i++) {
      const rowI = i * n;
      let s = matrix[perm[i] * n + column];
      for (let c = 0; c < j; c++) s -= l[rowI + c] * l[rowJ + c];
      const lij = s / d;
      l[rowI + j] = lij;
      schur[i] -= lij * lij;
    }
  }
  // Solve L Lᵀ y = P b, then x = Pᵀ y.
  const y = substituteCholesky(l, n, n, Float64Array.from({ length: n }, (_, i) => b[perm[i]]));
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[perm[i]] = y[i];
  return x;
}

/**
 * Column j's pivot in the left-looking pivoted Cholesky (choleskySolve, and simdKernels.ts's solve,
 * which keeps its factor transposed): the largest remaining Schur diagonal from j on (rank-revealing
 * for PSD matrices), swapped into place in `perm`, `schur` and the factor's first j columns (L[r][c] at
 * factor[r·rowStep + c·columnStep]); −1 when it is not above `floor` (A numerically singular).
 */
export function takePivot(schur: Float64Array, perm: Int32Array, j: number, floor: number, factor: Float64Array, rowStep: number, columnStep: number): number {
  const n = schur.length;
  let pivot = j;
  for (let i = j + 1; i < n; i++) if (schur[i] > schur[pivot]) pivot = i;
  if (!(schur[pivot] > floor)) return -1;
  if (pivot !== j) {
    for (let c = 0; c < j; c++) {
      const a = j * rowStep + c * columnStep;
      const b = pivot * rowStep + c * columnStep;
      const t = factor[a]; factor[a] = factor[b]; factor[b] = t;
    }
    const t = perm[j]; perm[j] = perm[pivot]; perm[pivot] = t;
    const u = schur[j]; schur[j] = schur[pivot]; schur[pivot] = u;
  }
  return pivot;
}

/**
 * Solves L Lᵀ y = b for the m×m lower factor L stored row-major with row stride `stride` (the leading
 * block of a larger buffer is fine): forward then backward substitution, into `y` (not aliasing b).
 */
export function substituteCholesky(factor: Float64Array, stride: number, m: number, b: ArrayLike<number>, y: Float64Array = new Float64Array(m)): Float64Array {
  forwardSubstitute(factor, stride, 0, m, b, y);
  // Lᵀ·x = y by columns of Lᵀ, i.e. contiguous rows of L (the row-by-row form reads L by columns), two
  // rows per pass (y[r] − a − b: the same subtractions in the same order as one row at a time).
  let i = m - 1;
  for (; i >= 1; i -= 2) {
    const row = i * stride;
    const above = row - stride;
    const xi = y[i] / factor[row + i];
    const xh = (y[i - 1] - factor[row + i - 1] * xi) / factor[above + i - 1];
    y[i] = xi;
    y[i - 1] = xh;
    for (let r = 0; r < i - 1; r++) y[r] = y[r] - factor[row + r] * xi - factor[above + r] * xh;
  }
  if (i === 0) y[0] /= factor[0];
  return y;
}

/**
 * y[i] = (b[i] − Σ_{c<i} L[i][c]·y[c]) / L[i][i] for i in [from, to), given y below `from`. Each row
 * subtracts its terms one at a time in ascending c, as the textbook loop does, but four rows share a
 * pass: four independent chains of subtractions instead of one (the chain's add latency, not the
 * multiplies, bounds the one-row loop), and the same bits.
 */
function forwardSubstitute(factor: Float64Array, stride: number, from: number, to: number, b: ArrayLike<number>, y: Float64Array): void {
  let i = from;
  for (; i + 3 < to; i += 4) {
    const r0 = i * stride, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
    let s0 = b[i], s1 = b[i + 1], s2 = b[i + 2], s3 = b[i + 3];
    for (let c = 0; c < i; c++) {
      const yc = y[c];
      s0 -= factor[r0 + c] * yc;
      s1 -= factor[r1 + c] * yc;
      s2 -= factor[r2 + c] * yc;
      s3 -= factor[r3 + c] * yc;
    }
    const y0 = s0 / factor[r0 + i];
    s1 -= factor[r1 + i] * y0;
    const y1 = s1 / factor[r1 + i + 1];
    s2 -= factor[r2 + i] * y0;
    s2 -= factor[r2 + i + 1] * y1;
    const y2 = s2 / factor[r2 + i + 2];
    s3 -= factor[r3 + i] * y0;
    s3 -= factor[r3 + i + 1] * y1;
    s3 -= factor[r3 + i + 2] * y2;
    y[i] = y0;
    y[i + 1] = y1;
    y[i + 2] = y2;
    y[i + 3] = s3 / factor[r3 + i + 3];
  }
  for (; i < to; i++) {
    const row = i * stride;
    let s = b[i];
    for (let c = 0; c < i; c++) s -= factor[row + c] * y[c];
    y[i] = s / factor[row + i];
  }
}

/**
 * Appends a member to a lower Cholesky factor of m rows kept beside its transpose (both row-major, row
 * stride `stride`: the λ-paths' kept factors), its column against the members already in `l`:
 * `solveLower` solves L·x = l in place (the kernels' substitution from the transpose), then row m of
 * the factor and column m of the transpose get x and the pivot √(diagonal − xᵀx). False, and neither
 * written, when pivot² is not above `dependentBelow` (the new member is numerically dependent).
 */
export function appendBesideTranspose(factor: Float64Array, transposed: Float64Array, stride: number, m: number, l: Float64Array, diagonal: number, dependentBelow: number, solveLower: (l: Float64Array, m: number) => void): boolean {
  solveLower(l, m);
  let pivot = diagonal;
  for (let p = 0; p < m; p++) pivot -= l[p] * l[p];
  if (!(pivot > dependentBelow)) return false;
  const row = m * stride;
  for (let p = 0; p < m; p++) {
    factor[row + p] = l[p];
    transposed[p * stride + m] = l[p];
  }
  const last = Math.sqrt(pivot);
  factor[row + m] = last;
  transposed[m * stride + m] = last;
  return true;
}

/**
 * Deletes row and column p of a lower Cholesky factor L (size×size, row-major with row stride
 * `stride`) in place: the rows below move up one, and the trailing block takes the removed column
 * back by the rank-one update L₂₂'·L₂₂'ᵀ = L₂₂·L₂₂ᵀ + x·xᵀ (Givens-like, stable). `x` is scratch of at
 * least size − 1 − p entries. The active-set paths (weights/) drop members with it.
 */
export function choleskyDelete(factor: Float64Array, stride: number, size: number, p: number, x: Float64Array): void {
  const k = stride;
  const m = size;
  for (let i = p + 1; i < m; i++) {
    x[i - p - 1] = factor[i * k + p];
    for (let col = 0; col < p; col++) factor[(i - 1) * k + col] = factor[i * k + col];
    for (let col = p + 1; col <= i; col++) factor[(i - 1) * k + col - 1] = factor[i * k + col];
  }
  const n = m - 1;
  for (let t = p; t < n; t++) {
    const xt = x[t - p];
    if (xt === 0) continue;
    const diagonal = factor[t * k + t];
    const r = Math.hypot(diagonal, xt);
    const cosine = r / diagonal;
    const sine = xt / diagonal;
    factor[t * k + t] = r;
    for (let i = t + 1; i < n; i++) {
      const lit = (factor[i * k + t] + sine * x[i - p]) / cosine;
      factor[i * k + t] = lit;
      x[i - p] = cosine * x[i - p] - sine * lit;
    }
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
export function solveCholeskyTranspose(chol: { k: number; pivots: Int32Array; l: Float64Array }, R: number, x: Float64Array, cols: number): Float64Array {
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
