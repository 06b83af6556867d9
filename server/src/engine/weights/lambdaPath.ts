/**
 * The sparse λ-path: w(λ) = argmin wᵀCw + λ‖w‖₁ s.t. 1ᵀw = 1 for every λ ≥ 0, as exact breakpoints.
 *
 * On 1ᵀw = 1, ‖w‖₁ = 1 + 2·Σ max(−wᵢ, 0): λ only prices negative weights. λ = 0 is `lin`; every
 * λ ≥ λ* is `convex`, with λ* = max_j (g_j − ν)/2 at the convex optimum (g = 2Cw, ν = wᵀg).
 * Between breakpoints the active set A (nonzero weights) and their signs s are fixed and the KKT
 * conditions  2·C_AA·w_A + λ·s_A = ν·1,  1ᵀw_A = 1,  |ν − g_j| ≤ λ off A  make w linear in λ.
 *
 * We follow the path DOWN from λ* (homotopy, like LARS for the lasso). Going down, the direction
 * system is always consistent even when C_AA is singular (the current point solves it and λ > 0), so
 * the pseudo-inverse (minimum-norm) direction keeps every point optimal; duplicates join and leave
 * together and keep an even split. Events: an active weight reaches 0 (it leaves), or an inactive
 * candidate's |ν − g_j| reaches λ (it joins with sign of ν − g_j). The direction system is kept
 * factorised across breakpoints (pathDirection.ts); the pseudo-inverse solve is the fallback. When
 * the candidates on the boundary cannot all join (exact ties, one that would move the wrong way), an
 * active-set method on the direction's own convex program decides which do (tiedDirection).
 */
import { ComposerError } from '../errors';
import type { LambdaBreakpoint, LambdaPath } from '../types';
import { solveOnAffineHull } from './affineHull';
import { gradient, largestDiagonal } from './convex';
import { PathDirectionSystem } from './pathDirection';
import { plainArray } from '../linalg/dense';

/** λ* from the convex optimum: the smallest λ at which it is also the sparse optimum. */
export function lambdaStarOf(c: Float64Array, k: number, convex: Float64Array): number {
  const g = gradient(c, k, convex);
  let nu = 0;
  for (let i = 0; i < k; i++) nu += convex[i] * g[i];
  let star = 0;
  for (let j = 0; j < k; j++) star = Math.max(star, (g[j] - nu) / 2);
  // Reduced gradients at rounding level: lin is already non-negative.
  return star <= 1e-12 * largestDiagonal(c, k) ? 0 : star;
}

function sameWeights(a: ArrayLike<number>, b: ArrayLike<number>, tolerance: number): boolean {
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i]), Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > tolerance * (1 + largest)) return false;
  return true;
}

export function computeLambdaPath(c: Float64Array, names: readonly string[], lin: Float64Array, convex: Float64Array): LambdaPath {
  const k = names.length;
  const lambdaStar = lambdaStarOf(c, k, convex);
  if (lambdaStar === 0) {
    // lin is already non-negative; keep both exact answers when rounding makes them differ.
    const breakpoints = [{ lambda: 0, weights: Array.from(lin) }];
    if (lin.some((x, i) => x !== convex[i])) breakpoints.push({ lambda: 0, weights: Array.from(convex) });
    return { names: [...names], breakpoints: breakpoints.map(withoutNegativeZero), lambda_star: 0 };
  }
  const descending: LambdaBreakpoint[] = [{ lambda: lambdaStar, weights: plainArray(convex) }];
  followDown(c, k, lambdaStar, convex, descending);
  const breakpoints = descending.reverse();
  // The path reaches λ = 0 at a lin minimiser; when lin has several (degenerate prototypes) the one
  // reported as `lin` is the minimum-norm one and λ = 0 is a jump from it.
  const atZero = breakpoints[0];
  if (sameWeights(atZero.weights, lin, 1e-8)) atZero.weights = plainArray(lin);
  else breakpoints.unshift({ lambda: 0, weights: plainArray(lin) });
  // plainArray wrote every breakpoint's −0 as 0.
  return { names: [...names], breakpoints, lambda_star: lambdaStar };
}

function withoutNegativeZero(point: LambdaBreakpoint): LambdaBreakpoint {
  return { lambda: point.lambda, weights: point.weights.map((x) => (x === 0 ? 0 : x)) };
}

function followDown(c: Float64Array, k: number, lambdaStar: number, start: Float64Array, out: LambdaBreakpoint[]): void {
  // 2·C·w and 2·C·d, summed in WebAssembly SIMD where the runtime has it (the same bits either way),
  // in the direction system's workspace; w and the active list live there too, so the row sums build
  // their groups in the module.
  // and the event search (sums.pathEvents) runs there too, over the arrays below in the workspace.
  const system = new PathDirectionSystem(c, k, 9, 6);
  const { sums } = system;
  const [g, gDirection, w, leaveAt, joinAt, dNu, directionCopy, nuOut, toleranceOut] = system.extra;
  // Signs and marks as i32 (the module reads them); the lists' contents start unspecified.
  const [active, inactive, sign, justLeft, joinSign, joined] = system.lists;
  w.set(start);
  for (let i = 0; i < k; i++) sign[i] = w[i] > 0 ? 1 : 0;
  justLeft.fill(0);
  joinSign.fill(0);
  joined.fill(0);
  let lambda = lambdaStar;
  const productOn = (v: Float64Array, columns: Int32Array, count: number, out: Float64Array) => {
    out.fill(0);
    sums.addRows(out, columns, count, v, 2);
  };
  const ties: TieScratch = { d: new Float64Array(k), trial: new Float64Array(k), boundarySign: new Int8Array(k), excluded: new Uint8Array(k) };
  const diagonalScale = largestDiagonal(c, k);
  const maxSteps = 20 * k + 100;
  // The candidates with sign 0, ascending, listed with the active ones (`inactive[k − 1 − n]`, n <
  // k − count, from the end: one pass, no branch): loops over them skip no one, so no branch mispredicts.
  const boundary = { active, count: 0, inactive, sign, justLeft, joined, w, g, out: nuOut, toleranceOut, lambda, base: 1e-10 * lambdaStar, slope: 1e-13 * diagonalScale };
  const events = { active, count: 0, inactive, sign, justLeft, joined, w, direction: directionCopy, g, gDirection, leaveAt, joinAt, joinSign, dNu, nu: 0, lambda, tolerance: 0 };
  for (let step = 0; step < maxSteps; step++) {
    let count = activeAndInactive(sign, active, inactive);
    // w is zero off the active set: 2·C·w over the active columns only (same sums, same order).
    productOn(w, active, count, g);
    // ν = mean over A of g_i + λ·s_i; candidates on the boundary |ν − g_j| = λ (within 1e-10·λ* +
    // 1e-13·max C_ii·‖w‖₁) join, signed like ν − g_j: the kernels' pathBoundary (its JavaScript twin,
    // scalarKernels.ts, reads as this loop did).
    boundary.count = count;
    boundary.lambda = lambda;
    const listed = sums.pathBoundary(boundary);
    const nu = nuOut[0];
    const boundaryTolerance = toleranceOut[0];
    // dw/dλ on the active set; a joined candidate must move away from 0 on its own side as λ falls.
    // The usual breakpoint: every candidate on the boundary joins that way. Otherwise (ties, a wrong
    // way) the active-set method below decides which of them join.
    if (!listed) count = activeAndInactive(sign, active, inactive);
    let direction = directionOn(c, k, system, sign, w, active, count);
    if (!joinsRightWay(direction, sign, joined, active, count)) {
      direction = tiedDirection(c, k, system, sign, w, active, joined, justLeft, ties);
      count = activeAndInactive(sign, active, inactive);
    }
    // 2·C·d over every candidate: the joins and dν/dλ below (the direction in the workspace, where the
    // kernels read it).
    if (direction !== system.direction) { directionCopy.set(direction); direction = directionCopy; }
    productOn(direction, active, count, gDirection);
    // Distance δ = λ − λ_next to the next event (leaveAt and joinAt are read below only where they were
    // written in this breakpoint: active candidates, and the inactive ones listed here), and dν/dλ =
    // mean over A of (2·C·d)ᵢ + sᵢ (the stationarity rows 2·C_AA·d + s = dν·1 averaged, as the
    // minimum-norm solve defines it too): the kernels' pathEvents (its JavaScript twin,
    // scalarKernels.ts, reads as this loop did).
    events.count = count;
    events.direction = direction;
    events.nu = nu;
    events.lambda = lambda;
    events.tolerance = boundaryTolerance;
    const delta = sums.pathEvents(events);
    const tie = delta + 1e-11 * lambdaStar;
    const next = lambda - delta <= 1e-11 * lambdaStar ? 0 : lambda - delta;
    const moved = lambda - next;
    // Move to λ − δ: the weights that reach 0 leave (just left), the candidates whose join is due join
    // (the kernels' pathUpdate; its JavaScript twin, scalarKernels.ts, reads as this loop did).
    sums.pathUpdate(events, moved, tie);
    lambda = next;
    const last = out[out.length - 1];
    if (last.lambda === lambda) last.weights = plainArray(w);
    else out.push({ lambda, weights: plainArray(w) });
    if (lambda === 0) return;
  }
  throw new ComposerError('internal', 'the sparse λ-path did not terminate', undefined, 'please report this problem with its prototypes');
}

/** d = dw/dλ on the signed candidates (0 elsewhere): the kept factor, or the minimum-norm solve. */
function directionOn(c: Float64Array, k: number, system: PathDirectionSystem, sign: Int32Array, w: Float64Array, active: Int32Array, count: number): Float64Array {
  const solved = system.solve(active, count, sign, w);
  if (solved) return solved;
  // Affinely dependent active prototypes: the minimum-norm (pseudo-inverse) direction.
  const subset = Array.from(active.subarray(0, count));
  const solution = solveOnAffineHull(c, k, subset, Float64Array.from(subset, (i) => -sign[i]), 0);
  const direction = new Float64Array(k);
  subset.forEach((i, a) => { direction[i] = solution.w[a]; });
  return direction;
}

/** Whether every candidate that joined at this breakpoint moves away from 0 on its own side. */
function joinsRightWay(direction: Float64Array, sign: Int32Array, joined: Int32Array, active: Int32Array, count: number): boolean {
  let scale = 0;
  for (let a = 0; a < count; a++) scale = Math.max(scale, Math.abs(direction[active[a]]));
  for (let a = 0; a < count; a++) {
    const j = active[a];
    if (joined[j] && sign[j] * direction[j] >= -1e-12 * scale) return false;
  }
  return true;
}

/** Buffers of length k for tiedDirection, allocated once per path. */
interface TieScratch {
  d: Float64Array;
  trial: Float64Array;
  boundarySign: Int8Array;
  excluded: Uint8Array;
}

/**
 * A boundary candidate joins when |ν − g_j| would otherwise outgrow λ by more than this (relative:
 * s_j·(dν/dλ − (2·C·d)_j) is 1 for a candidate that keeps pace with λ).
 */
const RISE_TOLERANCE = 1e-7;

/**
 * The direction when the candidates that reached the boundary cannot all join (exact ties, a
 * candidate that would move the wrong way). Going down, the direction solves the convex program
 *
 *   min dᵀC·d + sᵀd  s.t. 1ᵀd = 0, s_j·d_j ≤ 0 on the boundary, d = 0 off the active set and the boundary,
 *
 * whose KKT conditions are the path's: 2·(C·d)_i + s_i = dν on the active set and on every boundary
 * candidate that joins (on its side), s_j·(dν − 2·(C·d)_j) ≥ 1 on every one that stays out (its |ν − g_j|
 * falls at least as fast as λ). Lawson and Hanson's active-set method, from the active set alone: the
 * boundary candidate whose |ν − g_j| would grow fastest joins; a joined one that would cross to the
 * wrong side leaves where the segment towards the new solution reaches 0. Exact for any number of
 * ties (the greedy rule it replaces dropped wrong-way candidates one at a time without checking the
 * dropped ones, and could leave the path off the optimum). On return `sign` holds the active set and
 * the boundary candidates that stay out are marked just-left (they may not join at this λ).
 */
function tiedDirection(c: Float64Array, k: number, system: PathDirectionSystem, sign: Int32Array, w: Float64Array, active: Int32Array, joined: Int32Array, justLeft: Int32Array, scratch: TieScratch): Float64Array {
  const { d, trial, boundarySign, excluded } = scratch;
  const boundary: number[] = [];
  for (let j = 0; j < k; j++) {
    boundarySign[j] = 0;
    excluded[j] = 0;
    if (!joined[j]) continue;
    boundary.push(j);
    boundarySign[j] = sign[j];
    sign[j] = 0;
    joined[j] = 0;
  }
  let count = activeList(sign, active);
  d.set(directionOn(c, k, system, sign, w, active, count));
  for (let round = 0; round <= 4 * boundary.length; round++) {
    // dν/dλ of this direction, then the boundary candidate whose |ν − g_j| would outgrow λ fastest.
    let dNu = 0;
    for (let a = 0; a < count; a++) dNu += twiceRow(c, k, active[a], active, count, d) + sign[active[a]];
    dNu /= count;
    let entering = -1;
    let slowest = 1 - RISE_TOLERANCE;
    for (const j of boundary) {
      if (sign[j] !== 0 || excluded[j]) continue;
      const pace = boundarySign[j] * (dNu - twiceRow(c, k, j, active, count, d));
      if (pace < slowest) { slowest = pace; entering = j; }
    }
    if (entering < 0) {
      for (const j of boundary) if (sign[j] === 0) justLeft[j] = 1;
      return d;
    }
    sign[entering] = boundarySign[entering];
    for (;;) {
      count = activeList(sign, active);
      trial.set(directionOn(c, k, system, sign, w, active, count));
      // The largest step towards the trial direction that keeps every joined candidate on its side;
      // the candidate that limits it leaves.
      let step = 1;
      let blocking = -1;
      for (const j of boundary) {
        if (sign[j] === 0 || sign[j] * trial[j] < 0) continue;
        const gap = d[j] - trial[j];
        const at = sign[j] * gap < 0 ? d[j] / gap : 0;
        if (blocking < 0 || at < step) { step = Math.min(1, at); blocking = j; }
      }
      if (blocking < 0) { d.set(trial); break; }
      for (let a = 0; a < count; a++) { const i = active[a]; d[i] += step * (trial[i] - d[i]); }
      for (const j of boundary) {
        if (sign[j] === 0 || (j !== blocking && sign[j] * d[j] < 0)) continue;
        d[j] = 0;
        sign[j] = 0;
        // Only rounding makes an entering candidate leave at once: it may not join again.
        if (j === entering && step === 0) excluded[j] = 1;
      }
    }
  }
  throw new ComposerError('internal', 'the sparse λ-path found no direction at a breakpoint', undefined, 'please report this problem with its prototypes');
}

/** 2·(C·d)_j for d zero off the first `count` entries of `active`. */
function twiceRow(c: Float64Array, k: number, j: number, active: Int32Array, count: number, d: Float64Array): number {
  let s = 0;
  for (let a = 0; a < count; a++) s += c[j * k + active[a]] * d[active[a]];
  return 2 * s;
}

/** The nonzero-sign candidates, ascending, into `out`; their count. */
function activeList(sign: Int32Array, out: Int32Array): number {
  let n = 0;
  // Branch-free (signs are random-ish, a branch mispredicts): ±1 & 1 = 1, 0 & 1 = 0.
  for (let i = 0; i < sign.length; i++) { out[n] = i; n += sign[i] & 1; }
  return n;
}

/**
 * activeList, and the others into `rest` from its end (the first of them at rest[k − 1]), in the same
 * branch-free pass; the count of the first.
 */
function activeAndInactive(sign: Int32Array, out: Int32Array, rest: Int32Array): number {
  const k = sign.length;
  let n = 0;
  let back = k - 1;
  // Branch-free (signs are random-ish, a branch mispredicts): ±1 & 1 = 1, 0 & 1 = 0.
  for (let i = 0; i < k; i++) {
    const on = sign[i] & 1;
    out[n] = i;
    rest[back] = i;
    n += on;
    back -= 1 - on;
  }
  return n;
}
