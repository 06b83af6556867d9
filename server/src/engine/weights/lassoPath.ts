/**
 * The lasso form of sparse: the non-negative Lasso
 *
 *   w(λ) = argmin ½‖t − Σwᵢpᵢ‖² + λ‖w‖₁  s.t. w ≥ 0,
 *
 * then normalised to Σw = 1 (the composite is Σwᵢ ΔWᵢ with weights summing to 1). Unlike the
 * constrained form (where Σw = 1 makes ‖w‖₁ = 1 + 2·negative mass, so λ only prices negative
 * weights and the form equals `lin` whenever `lin` ≥ 0), the L1 penalty here shrinks every weight and
 * drives the small ones to exactly 0.
 *
 * No centring: the problem is solved as written, relative to the encoder's origin. With Σw free the
 * fit Σwᵢpᵢ is not an affine combination, so no choice of origin makes it translation invariant;
 * centring at the target makes w = 0 optimal, and centring at the candidates' mean p̄ (t − p̄ ≈
 * Σwᵢ(pᵢ − p̄)) makes w and w + c·1 fit equally, so w ≥ 0 no longer constrains anything and the form
 * becomes a fixed transform of `lin`. The objective is evaluated through the translation-invariant
 * pieces (C, dᵢ·t, t·t with dᵢ = t − pᵢ) so the residual itself keeps its precision.
 *
 * Exact homotopy (LARS with non-negativity), followed DOWN from λ* = max(0, maxᵢ pᵢ·t), where w = 0:
 * on the active set A (positive weights) the KKT conditions G_AA·w_A = b_A − λ·1 (G = PᵀP, b = Pᵀt)
 * and b_j − (Gw)_j ≤ λ off A make w linear in λ. Events: an active weight reaches 0 (it leaves), or
 * an inactive correlation b_j − (Gw)_j reaches λ (it joins). Singular G_AA (duplicates, k > D): the
 * system G_AA·d = 1 is still consistent (1 = P_Aᵀ(t − Pw)/λ is in the range of P_Aᵀ), and the
 * minimum-norm (pseudo-inverse) direction keeps every point optimal.
 *
 * Size (~370 lines): the data, the objective, the loop and its direction step (the active-set program
 * for tied candidates), which share the loop's kept factor and scratch vectors; split, they would pass
 * that state back and forth. The constrained form is lambdaPath.ts with pathDirection.ts.
 */
import { ComposerError } from '../errors';
import type { LambdaPath } from '../types';
import { gramOfRows } from './costMatrix';
import { IncrementalCholesky } from './incrementalCholesky';
import { choleskySolve } from '../linalg/cholesky';
import { plainArray } from '../linalg/dense';
import { targetProducts, type LassoStepInput, type TargetProducts } from '../linalg/simdDot';
import { jacobiEigen, pseudoInverseSolve } from '../linalg/eigen';

export interface LassoData {
  /** G_ij = pᵢ·pⱼ */
  gram: Float64Array;
  /** b_i = pᵢ·t */
  b: Float64Array;
  /** e_i = (t − pᵢ)·t */
  e: Float64Array;
  /** t·t */
  tt: number;
}

/** See lassoData: the lasso Gram comes from C while t·t ≤ this many times max‖pᵢ‖². */
const DERIVED_GRAM_RATIO = 16;

export function lassoData(target: Float64Array, prototypes: Float64Array[], cost?: Float64Array, products?: TargetProducts): LassoData {
  const k = prototypes.length;
  const dim = target.length;
  let tt = 0;
  for (let d = 0; d < dim; d++) tt += target[d] * target[d];
  // bᵢ = pᵢ·t, eᵢ = (t − pᵢ)·t and ‖pᵢ‖², from the cost matrix's pass when it computed them (the same bits).
  const { b, e, squares } = products ?? targetProducts(target, prototypes);
  let largestNorm = 0;
  for (let i = 0; i < k; i++) largestNorm = Math.max(largestNorm, squares[i]);
  // pᵢ·pⱼ = (t − dᵢ)·(t − dⱼ) = bᵢ + bⱼ − t·t + C_ij: O(k²) from the cost matrix instead of O(k²·D),
  // with an error of a few ulps of max(t·t, ‖pᵢ‖², C_ij) ≤ a few ulps of 4·max(t·t, ‖p‖²). While
  // t·t ≤ DERIVED_GRAM_RATIO·max‖pᵢ‖² that stays well inside the direct D-term dot product's own
  // rounding bound (D·u·‖pᵢ‖·‖pⱼ‖, D = 768 for the encoders here); a target much farther from the
  // origin than every prototype gets the direct Gram.
  let gram: Float64Array;
  if (cost && tt <= DERIVED_GRAM_RATIO * largestNorm) {
    gram = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = i; j < k; j++) {
        const g = b[i] + b[j] - tt + cost[i * k + j];
        gram[i * k + j] = g;
        gram[j * k + i] = g;
      }
    }
  } else {
    const rows = new Float64Array(k * dim);
    for (let i = 0; i < k; i++) rows.set(prototypes[i], i * dim);
    gram = gramOfRows(rows, k, dim);
  }
  return { gram, b, e, tt };
}

/**
 * ½‖t − Σwᵢpᵢ‖² + λ‖w‖₁ for raw (un-normalised) w ≥ 0, with t − Σwᵢpᵢ = Σwᵢdᵢ + (1 − Σw)·t:
 * ½(wᵀCw + 2s·wᵀe + s²·t·t), s = 1 − Σw. Exact to rounding when the prototypes sit far from the origin.
 */
export function lassoObjective(c: Float64Array, data: LassoData, w: ArrayLike<number>, lambda: number): number {
  const k = data.b.length;
  let cw = 0;
  let we = 0;
  let total = 0;
  for (let i = 0; i < k; i++) {
    if (w[i] === 0) continue;
    total += w[i];
    we += w[i] * data.e[i];
    let row = 0;
    for (let j = 0; j < k; j++) row += c[i * k + j] * w[j];
    cw += w[i] * row;
  }
  const s = 1 - total;
  const squared = Math.max(0, cw + 2 * s * we + s * s * data.tt);
  return 0.5 * squared + lambda * total;
}

function subGram(gram: Float64Array, k: number, subset: ArrayLike<number>): Float64Array {
  const m = subset.length;
  const sub = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let c = 0; c < m; c++) sub[a * m + c] = gram[subset[a] * k + subset[c]];
  return sub;
}

/**
 * G_SS·x = 1: Cholesky first, the minimum-norm solution when G_SS is (numerically) singular. `exact`:
 * solved by the kept factor (G_SS well inside positive definite, one step of refinement), so the
 * system holds to rounding.
 */
function solveOnes(gram: Float64Array, k: number, subset: readonly number[], scale: number, factor: IncrementalCholesky, ones: Float64Array): { x: Float64Array; exact: boolean } {
  const m = subset.length;
  const fast = factor.solve(subset, ones);
  if (fast) return { x: fast, exact: true };
  // The factor refused a pivot² below 1e-10·scale: whatever answers now is nearly singular, and its
  // consistency is checked by the caller.
  const sub = subGram(gram, k, subset);
  return { x: choleskySolve(sub, m, ones, scale) ?? pseudoInverseSolve(jacobiEigen(sub, m, 'ascending'), m, ones, scale), exact: false };
}

/**
 * Buffers of length k reused from one breakpoint to the next: the direction (valid until the next
 * breakpoint's), the active-set method's trial direction, the right-hand side 1 (solvers read its
 * first m entries) and per-candidate marks.
 */
interface DirectionScratch {
  d: Float64Array;
  trial: Float64Array;
  ones: Float64Array;
  joined: Uint8Array;
  excluded: Uint8Array;
}

/**
 * A boundary candidate joins when its correlation would otherwise rise above λ faster than this
 * (relative: (G·d)_j is 1 for a candidate that keeps pace with λ). Rounding of (G·d)_j stays far below.
 */
const RISE_TOLERANCE = 1e-7;

/** The two ascending lists merged, ascending. */
function union(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}

/** (G·d)_j for d zero off `subset`. */
function gramRow(gram: Float64Array, k: number, j: number, subset: readonly number[], d: Float64Array): number {
  const row = j * k;
  let s = 0;
  for (const i of subset) s += gram[row + i] * d[i];
  return s;
}

/** `into` = the solution of G_SS·x = 1 on `subset`, 0 elsewhere; whether the kept factor solved it. */
function solveOnesInto(into: Float64Array, gram: Float64Array, k: number, subset: readonly number[], scale: number, factor: IncrementalCholesky, ones: Float64Array): boolean {
  into.fill(0);
  if (subset.length === 0) return true;
  const { x, exact } = solveOnes(gram, k, subset, scale, factor, ones);
  for (let a = 0; a < subset.length; a++) into[subset[a]] = x[a];
  return exact;
}

/**
 * dw/d(−λ) over all k: the free weights (w > 0) move with G_SS·d_S = 1, and each boundary candidate
 * (w = 0, correlation = λ) either joins (d_j > 0, in S) or stays out with (Gd)_j ≥ 1 (its correlation
 * falls at least as fast as λ). That is the KKT system of the convex quadratic program
 *
 *   min ½dᵀGd − 1ᵀd  over d_free free, d_boundary ≥ 0, d = 0 elsewhere.
 *
 * Tried first, because it is the usual breakpoint (a candidate reached the boundary going down): every
 * boundary candidate joins. When G is positive definite on all of them and each joins with d_j > 0,
 * that is the KKT point of a strictly convex problem, hence the only one. Otherwise (a candidate that
 * just left, several at the boundary at once: exact ties, duplicates, k > D) Lawson and Hanson's
 * active-set method on that program decides which join, exactly, however many tie: the candidate
 * whose correlation would rise fastest above λ joins; a joined one whose weight would turn negative
 * leaves where the segment towards the new solution crosses 0. Every system G_SS·d_S = 1 with S inside
 * free ∪ boundary is consistent (1 = P_Sᵀ(t − Pw)/λ), so the minimum-norm solve answers the singular
 * ones exactly, and a candidate whose correlation can rise is never a combination of the joined ones:
 * it enters with d_j > 0, and the method ends after finitely many steps.
 */
function pathDirection(gram: Float64Array, k: number, free: readonly number[], boundary: readonly number[], scale: number, factor: IncrementalCholesky, scratch: DirectionScratch): Float64Array {
  const { d, trial, ones, joined, excluded } = scratch;
  if (boundary.length > 0 && solveOnesInto(d, gram, k, union(free, boundary), scale, factor, ones)) {
    let dMax = 0;
    for (let i = 0; i < k; i++) dMax = Math.max(dMax, Math.abs(d[i]));
    if (boundary.every((j) => d[j] > 1e-12 * dMax)) return d;
  }
  let members: number[] = [];
  let subset: readonly number[] = free;
  joined.fill(0);
  excluded.fill(0);
  solveOnesInto(d, gram, k, subset, scale, factor, ones);
  // Each round the objective falls (Lawson and Hanson's argument), so no set of joined candidates
  // comes back; the bound only guards against rounding.
  for (let round = 0; round <= 4 * boundary.length; round++) {
    let entering = -1;
    let fastest = RISE_TOLERANCE;
    for (const j of boundary) {
      if (joined[j] || excluded[j]) continue;
      const rise = 1 - gramRow(gram, k, j, subset, d);
      if (rise > fastest) { fastest = rise; entering = j; }
    }
    if (entering < 0) return d;
    joined[entering] = 1;
    members = union(members, [entering]);
    for (;;) {
      subset = union(free, members);
      solveOnesInto(trial, gram, k, subset, scale, factor, ones);
      // The largest step towards the trial direction that keeps every joined weight's direction ≥ 0;
      // the candidate that limits it leaves.
      let step = 1;
      let blocking = -1;
      for (const j of members) {
        if (trial[j] > 0) continue;
        const gap = d[j] - trial[j];
        const at = gap > 0 ? d[j] / gap : 0;
        if (blocking < 0 || at < step) { step = Math.min(1, at); blocking = j; }
      }
      if (blocking < 0) { d.set(trial); break; }
      for (const i of subset) d[i] += step * (trial[i] - d[i]);
      for (const j of members) {
        if (j !== blocking && d[j] > 0) continue;
        d[j] = 0;
        joined[j] = 0;
        // Only rounding makes an entering candidate leave at once: it may not enter again.
        if (j === entering && step === 0) excluded[j] = 1;
      }
      members = members.filter((j) => joined[j]);
    }
  }
  throw new ComposerError('internal', 'the lasso λ-path found no direction at a breakpoint', undefined, 'please report this problem with its prototypes');
}

/** Whether the first n entries are all > 0. */
function firstPositive(x: Float64Array, n: number): boolean {
  for (let a = 0; a < n; a++) if (!(x[a] > 0)) return false;
  return true;
}

/** The exact λ-path of the non-negative Lasso, breakpoints ascending in λ, raw (un-normalised) weights. */
export function computeLassoPath(data: LassoData, names: readonly string[]): LambdaPath {
  const { gram, b } = data;
  const k = names.length;
  let scale = 0;
  for (let i = 0; i < k; i++) scale = Math.max(scale, gram[i * k + i]);
  let lambdaStar = 0;
  for (let i = 0; i < k; i++) lambdaStar = Math.max(lambdaStar, b[i]);
  const zero = () => new Array<number>(k).fill(0);
  if (!(lambdaStar > 1e-14 * Math.max(scale, Math.sqrt(data.tt) * Math.sqrt(scale)))) {
    // No prototype correlates positively with the target: w = 0 for every λ.
    return { names: [...names], breakpoints: [{ lambda: 0, weights: zero() }], lambda_star: 0, form: 'lasso' };
  }
  const tieTolerance = 1e-10 * lambdaStar;
  let lambda = lambdaStar;
  const down: { lambda: number; weights: number[] }[] = [{ lambda, weights: zero() }];
  const maxSteps = 20 * k + 100;
  // G·w and G·d, summed in WebAssembly SIMD where the runtime has it (the same bits either way), in
  // the factor's workspace; w, the direction and the lists of the rows summed live there too, so the
  // row sums build their groups in the module.
  const factor = new IncrementalCholesky(gram, k, scale, 8, 4);
  const { sums } = factor;
  const [correlation, gd, w, direction, leaveAt, resolveRhs, bInSpace, nextOut] = factor.extra;
  bInSpace.set(b);
  // Per-breakpoint lists, allocated once.
  const [nonzero, moving, marks, now] = factor.lists;
  const scratch: DirectionScratch = { d: direction, trial: new Float64Array(k), ones: new Float64Array(k).fill(1), joined: new Uint8Array(k), excluded: new Uint8Array(k) };
  // The free and boundary candidates: lists reused from one breakpoint to the next (pathDirection
  // and the factor keep none of them).
  const free: number[] = [];
  const boundary: number[] = [];
  const step: LassoStepInput = { w, direction, correlation, gd, leaveAt, marks, moving, now, rhs: resolveRhs, b: bInSpace, out: nextOut, lambda, boundaryLevel: 0, slack: 1e-11 * lambdaStar };
  for (let steps = 0; steps < maxSteps; steps++) {
    // correlation = b − G·w over the nonzero entries only, ascending: the same sums as over all k (G
    // is symmetric, so addRows reads its rows).
    // (The lists here are built without a branch per candidate: which are nonzero is random-ish.)
    let nz = 0;
    for (let i = 0; i < k; i++) { nonzero[nz] = i; nz += w[i] !== 0 ? 1 : 0; }
    correlation.set(b);
    sums.addRows(correlation, nonzero, nz, w, -1);
    free.length = 0;
    boundary.length = 0;
    const boundaryLevel = lambda - tieTolerance;
    for (let i = 0; i < k; i++) {
      if (w[i] > 0) free.push(i);
      else if (correlation[i] >= boundaryLevel) boundary.push(i);
    }
    // Direction: as λ decreases by δ, w grows by δ·d (d = 0 off the support).
    pathDirection(gram, k, free, boundary, scale, factor, scratch);
    // The support (free, and boundary candidates with d > 0), G·d, the next event (a free weight
    // reaching 0 or an outside correlation reaching λ), the step to it and the support after it, with
    // its right-hand side b − λ: one kernel call (scalarKernels.ts lassoStep reads as the loops did).
    step.lambda = lambda;
    step.boundaryLevel = boundaryLevel;
    const count = sums.lassoStep(step);
    lambda = nextOut[0];
    // Re-solve on the support at this λ when the minimiser is unique: no drift from accumulated steps.
    if (count > 0) {
      const exact = factor.solve(now, resolveRhs, count) ?? choleskySolve(subGram(gram, k, now.subarray(0, count)), count, resolveRhs, scale);
      if (exact && firstPositive(exact, count)) for (let a = 0; a < count; a++) w[now[a]] = exact[a];
    }
    const last = down[down.length - 1];
    if (last.lambda === lambda) last.weights = plainArray(w);
    else down.push({ lambda, weights: plainArray(w) });
    if (lambda === 0) {
      // plainArray wrote −0 as 0 (and zero() has none).
      return { names: [...names], breakpoints: down.reverse(), lambda_star: lambdaStar, form: 'lasso' };
    }
  }
  throw new ComposerError('internal', 'the lasso λ-path did not terminate', undefined, 'please report this problem with its prototypes');
}

/**
 * Normalised lasso weights at λ from the raw path point. At λ ≥ λ* every raw weight is 0; the limit of
 * w/Σw as λ → λ*⁻ is the direction of the path's first segment (constant along it), which is what we
 * use. Null when the path is all zero (no prototype correlates positively with the target).
 */
export function normalisedLasso(path: LambdaPath, raw: ArrayLike<number>): number[] | null {
  let total = 0;
  for (let i = 0; i < raw.length; i++) total += raw[i];
  if (total > 0) return Array.from(raw, (x) => x / total);
  const points = path.breakpoints;
  for (let p = points.length - 1; p >= 0; p--) {
    const s = points[p].weights.reduce((a, x) => a + x, 0);
    if (s > 0) return points[p].weights.map((x) => x / s);
  }
  return null;
}
