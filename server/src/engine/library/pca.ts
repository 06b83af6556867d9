/**
 * The 2D picture of a library: principal component analysis of prototypes in float64, for the
 * editor's library map. Deterministic: a fixed start block, a convergence test instead of a fixed
 * number of steps, and each axis's sign fixed so its largest |loading| is positive (an eigenvector's
 * sign is otherwise arbitrary and the picture would flip between runs or versions).
 *
 * The top two eigenpairs come from subspace iteration on the smaller of the covariance (d×d) and the
 * Gram matrix of the centred rows (n×n), with a Rayleigh–Ritz step (Jacobi on the small block)
 * each iteration; both matrices have the same non-zero spectrum, so the variance explained is the
 * same either way.
 */
import { ComposerError } from '../errors';
import { jacobiEigen } from '../linalg/eigen';
import { dot, multiply } from '../linalg/dense';

export interface PcaBasis {
  dim: number;
  /** Rows the basis was computed from. */
  rows: number;
  mean: Float64Array;
  /** Unit principal axes in prototype space (length dim each); fewer than 2 when the rows span less. */
  axes: Float64Array[];
  /** Variance along each axis (eigenvalues of the covariance, divided by rows). */
  variances: number[];
  /** Total variance (trace of the covariance). */
  totalVariance: number;
  /** Share of the total variance each axis explains, in [0, 1]. */
  explained: number[];
}

const BLOCK = 6;
const MAX_ITERATIONS = 500;

/** PCA of `rows` (each of length `dim`) onto (up to) two axes. */
export function pca2(rows: ArrayLike<number>[], dim: number): PcaBasis {
  const n = rows.length;
  if (n === 0) throw new ComposerError('library', 'no prototypes to project (the library, or its adapters of this base, are empty)');
  for (const [i, r] of rows.entries()) {
    if (r.length !== dim) throw new ComposerError('dimension', `prototype ${i} has dimension ${r.length}, expected ${dim}`);
  }
  const mean = new Float64Array(dim);
  for (const r of rows) for (let j = 0; j < dim; j++) mean[j] += r[j];
  for (let j = 0; j < dim; j++) mean[j] /= n;
  const centred = rows.map((r) => {
    const c = new Float64Array(dim);
    for (let j = 0; j < dim; j++) c[j] = r[j] - mean[j];
    return c;
  });
  // Covariance when dim ≤ n, else the Gram matrix of the centred rows: the smaller one, m×m.
  const useGram = n < dim;
  const m = useGram ? n : dim;
  const matrix = new Float64Array(m * m);
  if (useGram) {
    for (let a = 0; a < n; a++) {
      for (let b = a; b < n; b++) {
        let s = 0;
        const x = centred[a];
        const y = centred[b];
        for (let j = 0; j < dim; j++) s += x[j] * y[j];
        matrix[a * m + b] = s / n;
        matrix[b * m + a] = s / n;
      }
    }
  } else {
    for (const c of centred) {
      for (let a = 0; a < dim; a++) {
        const ca = c[a];
        if (ca === 0) continue;
        const row = a * m;
        for (let b = a; b < dim; b++) matrix[row + b] += ca * c[b];
      }
    }
    for (let a = 0; a < dim; a++) {
      for (let b = a; b < dim; b++) {
        matrix[a * m + b] /= n;
        matrix[b * m + a] = matrix[a * m + b];
      }
    }
  }
  let totalVariance = 0;
  for (let a = 0; a < m; a++) totalVariance += matrix[a * m + a];

  const { values, vectors } = topEigen(matrix, m, 2);
  const axes: Float64Array[] = [];
  const variances: number[] = [];
  for (let k = 0; k < values.length; k++) {
    if (!(values[k] > 1e-14 * Math.max(totalVariance, Number.MIN_VALUE))) break;
    let axis: Float64Array;
    if (useGram) {
      // v = Xcᵀ u / ‖Xcᵀ u‖
      axis = new Float64Array(dim);
      for (let a = 0; a < n; a++) {
        const w = vectors[k][a];
        const c = centred[a];
        for (let j = 0; j < dim; j++) axis[j] += w * c[j];
      }
    } else axis = Float64Array.from(vectors[k]);
    normalise(axis);
    fixSign(axis);
    axes.push(axis);
    variances.push(values[k]);
  }
  return {
    dim,
    rows: n,
    mean,
    axes,
    variances,
    totalVariance,
    explained: variances.map((v) => (totalVariance > 0 ? v / totalVariance : 0)),
  };
}

/** Coordinates of a point on the basis's axes ([x, y]; 0 on a missing axis). */
export function project(basis: PcaBasis, point: ArrayLike<number>): [number, number] {
  const out: [number, number] = [0, 0];
  for (let k = 0; k < basis.axes.length && k < 2; k++) {
    const axis = basis.axes[k];
    let s = 0;
    for (let j = 0; j < basis.dim; j++) s += (point[j] - basis.mean[j]) * axis[j];
    out[k] = s;
  }
  return out;
}

/** The largest |component| positive (the first such index on ties). */
function fixSign(v: Float64Array): void {
  let best = 0;
  for (let j = 1; j < v.length; j++) if (Math.abs(v[j]) > Math.abs(v[best]) + 1e-15 * Math.abs(v[best])) best = j;
  if (v[best] < 0) for (let j = 0; j < v.length; j++) v[j] = -v[j];
}

function normalise(v: Float64Array): number {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += v[j] * v[j];
  const norm = Math.sqrt(s);
  if (norm > 0) for (let j = 0; j < v.length; j++) v[j] /= norm;
  return norm;
}

/**
 * The `count` largest eigenpairs of the symmetric m×m `matrix`: exact Jacobi for small m, else
 * subspace iteration with Rayleigh–Ritz until the residuals of the wanted pairs are at rounding level.
 */
function topEigen(matrix: Float64Array, m: number, count: number): { values: number[]; vectors: Float64Array[] } {
  const want = Math.min(count, m);
  if (m <= 48) {
    const e = jacobiEigen(matrix, m, 'ascending');
    const values: number[] = [];
    const vectors: Float64Array[] = [];
    for (let k = 0; k < want; k++) {
      const col = m - 1 - k;
      values.push(e.values[col]);
      const v = new Float64Array(m);
      for (let i = 0; i < m; i++) v[i] = e.vectors[i * m + col];
      vectors.push(v);
    }
    return { values, vectors };
  }
  const b = Math.min(BLOCK, m);
  // Fixed, generic start block (no randomness).
  let block: Float64Array[] = [];
  for (let k = 0; k < b; k++) {
    const v = new Float64Array(m);
    for (let i = 0; i < m; i++) v[i] = Math.cos((i + 1) * (k + 1) * 0.7071067811865476 + k) + (i % (k + 2) === 0 ? 0.5 : 0);
    block.push(v);
  }
  orthonormalise(block);
  let ritzValues: number[] = [];
  let ritzVectors: Float64Array[] = block;
  let scale = 0;
  for (let a = 0; a < m; a++) scale = Math.max(scale, Math.abs(matrix[a * m + a]));
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    const images = block.map((v) => multiply(matrix, m, v, m, 1));
    // Rayleigh–Ritz on span(block): H = Vᵀ M V (b×b)
    const h = new Float64Array(b * b);
    for (let p = 0; p < b; p++) for (let q = p; q < b; q++) {
      const s = dotAll(block[p], images[q]);
      h[p * b + q] = s;
      h[q * b + p] = s;
    }
    const e = jacobiEigen(h, b, 'ascending');
    ritzValues = [];
    ritzVectors = [];
    const ritzImages: Float64Array[] = [];
    for (let k = 0; k < b; k++) {
      const col = b - 1 - k;
      const v = new Float64Array(m);
      const mv = new Float64Array(m);
      for (let p = 0; p < b; p++) {
        const w = e.vectors[p * b + col];
        for (let i = 0; i < m; i++) {
          v[i] += w * block[p][i];
          mv[i] += w * images[p][i];
        }
      }
      ritzValues.push(e.values[col]);
      ritzVectors.push(v);
      ritzImages.push(mv);
    }
    let converged = true;
    for (let k = 0; k < want; k++) {
      let r = 0;
      for (let i = 0; i < m; i++) {
        const d = ritzImages[k][i] - ritzValues[k] * ritzVectors[k][i];
        r += d * d;
      }
      if (Math.sqrt(r) > 1e-11 * Math.max(scale, ritzValues[0], Number.MIN_VALUE)) converged = false;
    }
    if (converged) break;
    block = ritzImages;
    orthonormalise(block);
  }
  return { values: ritzValues.slice(0, want), vectors: ritzVectors.slice(0, want) };
}

/** a·b over whole vectors. */
const dotAll = (a: Float64Array, b: Float64Array): number => dot(a, 0, b, 0, a.length);

/** Modified Gram–Schmidt, twice; a vector that vanishes is replaced by a fixed unit vector. */
function orthonormalise(block: Float64Array[]): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 0; k < block.length; k++) {
      const v = block[k];
      for (let p = 0; p < k; p++) {
        const s = dotAll(block[p], v);
        for (let i = 0; i < v.length; i++) v[i] -= s * block[p][i];
      }
      if (normalise(v) === 0) {
        v[k % v.length] = 1;
        for (let p = 0; p < k; p++) {
          const s = dotAll(block[p], v);
          for (let i = 0; i < v.length; i++) v[i] -= s * block[p][i];
        }
        normalise(v);
      }
    }
  }
}
