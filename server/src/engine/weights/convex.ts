/**
 * convex: argmin wᵀCw s.t. w ≥ 0, 1ᵀw = 1 — the point of the prototypes' convex hull closest to the
 * target. Exact primal active-set method (Wolfe's method for the nearest point of a polytope): grow
 * the support by the most negative reduced gradient, minimise on its affine hull, step back to the
 * simplex and drop the blocking candidate when that minimiser leaves it. Then, when the optimum is not
 * unique, move along the flat directions to the minimum-norm optimal weights.
 */
import { solveOnAffineHull } from './affineHull';
import { minimumNormOnFace } from './minimumNorm';
import { addRows } from '../linalg/dense';

/**
 * 2·C·w: each entry Σ_j C_ij·w_j over the nonzero w_j in ascending j, doubled. Summed as addRows does,
 * by contiguous rows (C is exactly symmetric) with the 2 folded into w: doubling is exact, so these
 * are the same bits as 2·(Σ_j C_ij·w_j).
 */
export function gradient(c: Float64Array, k: number, w: ArrayLike<number>, into?: Float64Array): Float64Array {
  // `into` (length k), when given, is overwritten: convex's iterations reuse one (a new typed array of
  // k entries costs more than the sums at small supports).
  const g = into ? into.fill(0) : new Float64Array(k);
  if (gradientRows.length < k) gradientRows = new Int32Array(k);
  const rows = gradientRows;
  let count = 0;
  for (let j = 0; j < k; j++) if (w[j] !== 0) rows[count++] = j;
  addRows(g, c, k, rows, count, w, 2);
  return g;
}

/** gradient's list of nonzero columns, reused from call to call. */
let gradientRows: Int32Array = new Int32Array(0);

export function largestDiagonal(c: Float64Array, k: number): number {
  let largest = 0;
  for (let i = 0; i < k; i++) largest = Math.max(largest, c[i * k + i]);
  return largest;
}

/** A reduced gradient this far below 0 (relative to max C_ii) is a real descent direction. */
const DESCENT_TOLERANCE = 1e-12;
/** Candidates whose reduced gradient is within this of 0 may carry weight in an optimal solution. */
const OPTIMAL_FACE_TOLERANCE = 1e-11;

export function convexWeights(c: Float64Array, k: number): Float64Array {
  const scale = 2 * largestDiagonal(c, k);
  const w = new Float64Array(k);
  let start = 0;
  for (let i = 1; i < k; i++) if (c[i * k + i] < c[start * k + start]) start = i;
  w[start] = 1;
  if (scale === 0) return minimumNormOnOptimalFace(c, k, w);
  const inSupport = new Uint8Array(k);
  inSupport[start] = 1;
  const blocked = new Uint8Array(k);
  const maxIterations = 50 * k + 100;
  const gradientBuffer = new Float64Array(k);
  const solution = new Float64Array(k);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const g = gradient(c, k, w, gradientBuffer);
    let nu = 0;
    for (let i = 0; i < k; i++) nu += w[i] * g[i];
    let entering = -1;
    let steepest = -DESCENT_TOLERANCE * scale;
    for (let j = 0; j < k; j++) {
      if (inSupport[j] || blocked[j]) continue;
      if (g[j] - nu < steepest) { steepest = g[j] - nu; entering = j; }
    }
    if (entering < 0) break;
    inSupport[entering] = 1;
    let moved = false;
    for (;;) {
      const support = supportList(inSupport);
      const z = solveOnAffineHull(c, k, support, null, 1, solution).w;
      if (firstPositive(z, support.length)) {
        support.forEach((i, a) => { w[i] = z[a]; });
        // Dropping the entering candidate straight away (a zero step) leaves w where it was.
        if (inSupport[entering]) moved = true;
        break;
      }
      // Step from w towards z until the first weight reaches 0; that candidate leaves the support.
      let alpha = Infinity;
      let blocking = -1;
      support.forEach((i, a) => {
        if (z[a] > 0) return;
        const step = w[i] === 0 ? 0 : w[i] / (w[i] - z[a]);
        if (step < alpha) { alpha = step; blocking = i; }
      });
      alpha = Math.min(1, alpha);
      if (alpha > 0) moved = true;
      support.forEach((i, a) => { w[i] += alpha * (z[a] - w[i]); });
      w[blocking] = 0;
      inSupport[blocking] = 0;
      for (const i of support) if (w[i] <= 0) { w[i] = 0; inSupport[i] = 0; }
      if (supportList(inSupport).length === 0) {
        // Cannot happen in exact arithmetic; keep the best vertex rather than an empty support.
        inSupport[start] = 1; w.fill(0); w[start] = 1;
        break;
      }
    }
    if (moved) blocked.fill(0);
    else blocked[entering] = 1; // degenerate zero step: try the next candidate first
  }
  return minimumNormOnOptimalFace(c, k, w);
}

/** Whether the first n entries are all > 0. */
function firstPositive(x: Float64Array, n: number): boolean {
  for (let a = 0; a < n; a++) if (!(x[a] > 0)) return false;
  return true;
}

function supportList(inSupport: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < inSupport.length; i++) if (inSupport[i]) out.push(i);
  return out;
}

/**
 * All optimal weights share C·w (t − Σwᵢpᵢ is unique), so they live on the face T of candidates with
 * zero reduced gradient, all signs +, and differ by flat directions (see minimumNorm.ts).
 */
function minimumNormOnOptimalFace(c: Float64Array, k: number, w: Float64Array): Float64Array {
  const scale = 2 * largestDiagonal(c, k);
  const g = gradient(c, k, w);
  let nu = 0;
  for (let i = 0; i < k; i++) nu += w[i] * g[i];
  const face: number[] = [];
  for (let j = 0; j < k; j++) if (w[j] > 0 || g[j] - nu <= OPTIMAL_FACE_TOLERANCE * scale) face.push(j);
  return minimumNormOnFace(c, k, w, face, face.map(() => 1));
}
