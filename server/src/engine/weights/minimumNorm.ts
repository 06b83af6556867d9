/**
 * The minimum-norm weights among all minimisers of a problem whose minimisers form a polyhedron: used
 * by convex (all signs +) and by sparse at one λ (the signs of the optimal face).
 */
import { flatDirections } from './affineHull';
import { jacobiEigen, pseudoInverseSolve } from '../linalg/eigen';

/**
 * The minimum-norm point of an optimal face. Every minimiser (of convex, or of sparse at one λ) shares
 * C·w, so they all live on a face T of candidates, each with a fixed sign σᵢ, and differ by flat
 * directions K (C_TT·d = 0, 1ᵀd = 0). The minimum-norm one is w_T + K·y with
 * y = argmin ‖w_T + K·y‖² s.t. σᵢ·(w_T + K·y)ᵢ ≥ 0: a projection, solved by a small primal active-set
 * method in y on x = σ∘w (‖x‖ = ‖w‖, constraints x ≥ 0).
 */
export function minimumNormOnFace(c: Float64Array, k: number, w: Float64Array, face: number[], sign: number[]): Float64Array {
  const directions = flatDirections(c, k, face);
  if (directions.length === 0) return w;
  const m = face.length;
  const r = directions.length;
  const x = face.map((i, a) => sign[a] * w[i]);
  // Rows a_i of σ∘K (constraint a_iᵀy ≥ −x_i) and the unconstrained minimiser y0 = −(σ∘K)ᵀx.
  const rows = face.map((_, a) => Float64Array.from(directions, (d) => sign[a] * d[a]));
  const y0 = Float64Array.from(directions, (d) => -d.reduce((s, value, a) => s + sign[a] * value * x[a], 0));
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
    out[i] = value <= 1e-15 ? 0 : sign[a] * value;
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
  const mu = pseudoInverseSolve(jacobiEigen(gram, n, 'ascending'), n, rhs);
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
  return n === 0 ? new Float64Array(0) : pseudoInverseSolve(jacobiEigen(gram, n, 'ascending'), n, rhs);
}
