/**
 * convex: argmin wᵀCw s.t. w ≥ 0, 1ᵀw = 1 — the point of the prototypes' convex hull closest to the
 * target. Exact primal active-set method (Wolfe's method for the nearest point of a polytope): grow
 * the support by the most negative reduced gradient, minimise on its affine hull, step back to the
 * simplex and drop the blocking candidate when that minimiser leaves it. Then, when the optimum is not
 * unique, move along the flat directions to the minimum-norm optimal weights.
 */
import { flatDirections, solveOnAffineHull } from './affineHull';
import { pseudoInverseSolve, symmetricEigen } from './symmetricEigen';

/** 2·C·w */
export function gradient(c: Float64Array, k: number, w: ArrayLike<number>): Float64Array {
  const g = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) if (w[j] !== 0) s += c[i * k + j] * w[j];
    g[i] = 2 * s;
  }
  return g;
}

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
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const g = gradient(c, k, w);
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
      const z = solveOnAffineHull(c, k, support, null, 1).w;
      if (z.every((value) => value > 0)) {
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

function supportList(inSupport: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < inSupport.length; i++) if (inSupport[i]) out.push(i);
  return out;
}

/**
 * All optimal weights share C·w (t − Σwᵢpᵢ is unique), so they live on the face T of candidates with
 * zero reduced gradient and differ by flat directions K (C_TT·d = 0, 1ᵀd = 0). The minimum-norm one
 * is w_T + K·y with y = argmin ‖w_T + K·y‖² s.t. w_T + K·y ≥ 0: a projection, solved by a small
 * primal active-set method in y.
 */
function minimumNormOnOptimalFace(c: Float64Array, k: number, w: Float64Array): Float64Array {
  const scale = 2 * largestDiagonal(c, k);
  const g = gradient(c, k, w);
  let nu = 0;
  for (let i = 0; i < k; i++) nu += w[i] * g[i];
  const face: number[] = [];
  for (let j = 0; j < k; j++) if (w[j] > 0 || g[j] - nu <= OPTIMAL_FACE_TOLERANCE * scale) face.push(j);
  const directions = flatDirections(c, k, face);
  if (directions.length === 0) return w;
  const m = face.length;
  const r = directions.length;
  const x = face.map((i) => w[i]);
  // Rows a_i of K (constraint a_iᵀy ≥ −x_i) and the unconstrained minimiser y0 = −Kᵀx.
  const rows = face.map((_, a) => Float64Array.from(directions, (d) => d[a]));
  const y0 = Float64Array.from(directions, (d) => -d.reduce((s, value, a) => s + value * x[a], 0));
  const y = new Float64Array(r);
  const working: number[] = [];
  const slack = (a: number) => x[a] + dot(rows[a], y);
  for (let iteration = 0; iteration < 20 * m + 50; iteration++) {
    const target = projectOntoWorkingSet(rows, working, y0, x, r);
    const p = target.map((value, i) => value - y[i]);
    const stepNorm = Math.sqrt(dot(p, p));
    if (stepNorm <= 1e-15 * (1 + Math.sqrt(dot(y, y)))) {
      const multipliers = workingMultipliers(rows, working, y, y0, r);
      let worst = -1;
      let worstValue = -1e-12;
      multipliers.forEach((value, idx) => { if (value < worstValue) { worstValue = value; worst = idx; } });
      if (worst < 0) break;
      working.splice(worst, 1);
      continue;
    }
    let alpha = 1;
    let blocking = -1;
    for (let a = 0; a < m; a++) {
      if (working.includes(a)) continue;
      const ap = dot(rows[a], p);
      if (ap < 0) {
        const step = Math.max(0, slack(a)) / -ap;
        if (step < alpha) { alpha = step; blocking = a; }
      }
    }
    for (let i = 0; i < r; i++) y[i] += alpha * p[i];
    if (blocking >= 0) working.push(blocking);
  }
  const out = Float64Array.from(w);
  face.forEach((i, a) => {
    const value = slack(a);
    out[i] = value <= 1e-15 ? 0 : value;
  });
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** argmin ‖y − y0‖² s.t. a_iᵀy = −x_i on the working set: y = y0 + A_Wᵀμ, (A_W A_Wᵀ)μ = −x_W − A_W y0. */
function projectOntoWorkingSet(rows: Float64Array[], working: number[], y0: Float64Array, x: number[], r: number): Float64Array {
  const y = Float64Array.from(y0);
  const n = working.length;
  if (n === 0) return y;
  const gram = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  working.forEach((a, i) => {
    working.forEach((b, j) => { gram[i * n + j] = dot(rows[a], rows[b]); });
    rhs[i] = -x[a] - dot(rows[a], y0);
  });
  const mu = pseudoInverseSolve(symmetricEigen(gram, n), n, rhs);
  working.forEach((a, i) => { for (let d = 0; d < r; d++) y[d] += mu[i] * rows[a][d]; });
  return y;
}

/** μ with y − y0 = A_Wᵀμ (least squares): for constraints a_iᵀy ≥ b_i optimality needs μ ≥ 0. */
function workingMultipliers(rows: Float64Array[], working: number[], y: Float64Array, y0: Float64Array, r: number): Float64Array {
  const n = working.length;
  const gram = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  const residual = new Float64Array(r);
  for (let d = 0; d < r; d++) residual[d] = y[d] - y0[d];
  working.forEach((a, i) => {
    working.forEach((b, j) => { gram[i * n + j] = dot(rows[a], rows[b]); });
    rhs[i] = dot(rows[a], residual);
  });
  return n === 0 ? new Float64Array(0) : pseudoInverseSolve(symmetricEigen(gram, n), n, rhs);
}
