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
 * factorised across breakpoints (pathDirection.ts); the pseudo-inverse solve is the fallback.
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
  const w = Float64Array.from(start);
  const sign = new Int8Array(k);
  for (let i = 0; i < k; i++) sign[i] = w[i] > 0 ? 1 : 0;
  let lambda = lambdaStar;
  // Every per-breakpoint array is allocated once: the path has ~k breakpoints.
  const justLeft = new Uint8Array(k);
  const joined = new Uint8Array(k);
  const active = new Int32Array(k);
  const system = new PathDirectionSystem(c, k, 2);
  // 2·C·w and 2·C·d, summed in WebAssembly SIMD where the runtime has it (the same bits either way),
  // in the direction system's workspace.
  const { sums } = system;
  const [g, gDirection] = system.extra;
  const productOn = (v: Float64Array, columns: Int32Array, count: number, out: Float64Array) => {
    out.fill(0);
    sums.addRows(out, columns, count, v, 2);
  };
  const leaveAt = new Float64Array(k);
  const joinAt = new Float64Array(k);
  const joinSign = new Int8Array(k);
  const diagonalScale = largestDiagonal(c, k);
  const maxSteps = 20 * k + 100;
  // The candidates with sign 0, ascending, listed with the active ones (`inactive[k − 1 − n]`, n <
  // k − count, from the end: one pass, no branch): loops over them skip no one, so no branch mispredicts.
  const inactive = new Int32Array(k);
  for (let step = 0; step < maxSteps; step++) {
    let count = activeList(sign, active, inactive);
    // w is zero off the active set: 2·C·w over the active columns only (same sums, same order).
    productOn(w, active, count, g);
    let nu = 0;
    let l1 = 0;
    for (let a = 0; a < count; a++) { const i = active[a]; nu += g[i] + lambda * sign[i]; l1 += Math.abs(w[i]); }
    nu /= count;
    // Candidates on the boundary |ν − g_j| = λ join, signed like ν − g_j.
    const boundaryTolerance = 1e-10 * lambdaStar + 1e-13 * diagonalScale * l1;
    let listed = true;
    for (let n = k - 1; n >= count; n--) {
      const j = inactive[n];
      if (justLeft[j]) continue;
      const r = nu - g[j];
      if (Math.abs(r) >= lambda - boundaryTolerance) { sign[j] = r > 0 ? 1 : -1; joined[j] = 1; listed = false; }
    }
    // dw/dλ on the active set; a joined candidate must move away from 0 on its own side as λ falls.
    let direction: Float64Array;
    for (;;) {
      if (!listed) count = activeList(sign, active, inactive);
      listed = false;
      const solved = system.solve(active, count, sign, w);
      if (solved) {
        direction = solved;
      } else {
        // Affinely dependent active prototypes: the minimum-norm (pseudo-inverse) direction.
        const subset = Array.from(active.subarray(0, count));
        const solution = solveOnAffineHull(c, k, subset, Float64Array.from(subset, (i) => -sign[i]), 0);
        direction = new Float64Array(k);
        subset.forEach((i, a) => { direction[i] = solution.w[a]; });
      }
      let scale = 0;
      for (let a = 0; a < count; a++) scale = Math.max(scale, Math.abs(direction[active[a]]));
      let wrong = -1;
      for (let a = 0; a < count; a++) {
        const j = active[a];
        if (joined[j] && sign[j] * direction[j] >= -1e-12 * scale) { wrong = j; break; }
      }
      if (wrong < 0) break;
      sign[wrong] = 0;
      joined[wrong] = 0;
      justLeft[wrong] = 1;
    }
    // 2·C·d over every candidate: the joins below, and dν/dλ = mean over A of (2·C·d)ᵢ + sᵢ (the
    // stationarity rows 2·C_AA·d + s = dν·1 averaged, as the minimum-norm solve defines it too).
    productOn(direction, active, count, gDirection);
    // Distance δ = λ − λ_next to the next event (leaveAt and joinAt are read below only where they were
    // written in this breakpoint: active candidates, and the inactive ones listed here).
    let delta = lambda;
    let dNu = 0;
    for (let a = 0; a < count; a++) {
      const i = active[a];
      dNu += gDirection[i] + sign[i];
      // (Written without a branch on the sign of d: Math.min(δ, ∞) is δ.)
      const d = w[i] / direction[i];
      const at = w[i] !== 0 && direction[i] !== 0 && d > 0 ? d : Infinity;
      leaveAt[i] = at;
      delta = Math.min(delta, at);
    }
    dNu /= count;
    for (let n = k - 1; n >= count; n--) {
      const j = inactive[n];
      // r − δρ = s(λ − δ)  ⇔  δ = (λ − s·r)/(1 − s·ρ), with λ − s·r ≥ 0 while |r| ≤ λ: s = 1, then s = −1.
      const r = nu - g[j];
      const rho = dNu - gDirection[j];
      const skipNear = justLeft[j] !== 0;
      let at = Infinity;
      let atSign = 0;
      const up = lambda - r;
      const upDenominator = 1 - rho;
      if (upDenominator > 0 && !(skipNear && up <= boundaryTolerance)) {
        const d = Math.max(0, up) / upDenominator;
        if (d < at) { at = d; atSign = 1; }
      }
      const down = lambda + r;
      const downDenominator = 1 + rho;
      if (downDenominator > 0 && !(skipNear && down <= boundaryTolerance)) {
        const d = Math.max(0, down) / downDenominator;
        if (d < at) { at = d; atSign = -1; }
      }
      joinAt[j] = at;
      if (atSign !== 0) joinSign[j] = atSign;
      delta = Math.min(delta, at);
    }
    const tie = delta + 1e-11 * lambdaStar;
    const next = lambda - delta <= 1e-11 * lambdaStar ? 0 : lambda - delta;
    const moved = lambda - next;
    justLeft.fill(0);
    joined.fill(0);
    for (let a = 0; a < count; a++) {
      const i = active[a];
      w[i] -= moved * direction[i];
      if (leaveAt[i] <= tie || w[i] * sign[i] <= 0) { w[i] = 0; sign[i] = 0; justLeft[i] = 1; }
    }
    // The inactive candidates of the search (sign 0 then, none of them just left) whose join is due.
    for (let n = k - 1; n >= count; n--) {
      const j = inactive[n];
      if (joinAt[j] <= tie) { sign[j] = joinSign[j]; joined[j] = 1; }
    }
    lambda = next;
    const last = out[out.length - 1];
    if (last.lambda === lambda) last.weights = plainArray(w);
    else out.push({ lambda, weights: plainArray(w) });
    if (lambda === 0) return;
  }
  throw new ComposerError('internal', 'the sparse λ-path did not terminate', undefined, 'please report this problem with its prototypes');
}

/**
 * The nonzero-sign candidates, ascending, into `out`, and the others into `rest` from its end (the
 * first of them at rest[k − 1]); the count of the first.
 */
function activeList(sign: Int8Array, out: Int32Array, rest: Int32Array): number {
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
