/**
 * sparse at one λ: read off the exact λ-path. Between breakpoints the solution is linear in λ, so
 * interpolation is exact, not an approximation.
 */
import { ComposerError } from '../errors';
import type { LambdaPath } from '../types';
import { gradient, largestDiagonal } from './convex';
import { minimumNormOnFace } from './minimumNorm';

/** |ν − g_j| within this of λ (relative to max C_ii·‖w‖₁) puts candidate j on the optimal face. */
const OPTIMAL_FACE_TOLERANCE = 1e-10;

export function requireLambda(lambda: number): void {
  if (!(Number.isFinite(lambda) && lambda >= 0)) {
    throw new ComposerError('weights', `the sparse penalty λ must be a number ≥ 0, got ${lambda}`, undefined, 'λ = 0 gives lin; λ ≥ λ* gives convex');
  }
}

/**
 * The one default of the sparse penalty, whether the strategy comes from the recipe or from
 * `--strategy sparse`: ρ = λ/λ* = 1/2, halfway between the lin (ρ = 0) and the λ* end (ρ ≥ 1).
 * Scale-free: multiplying every prototype and the target by s multiplies C and λ* by s² and leaves
 * the weights unchanged.
 */
export const DEFAULT_RHO = 0.5;

export function requireRho(rho: number): void {
  if (!(Number.isFinite(rho) && rho >= 0)) {
    throw new ComposerError('weights', `the sparse penalty ρ = λ/λ* must be a number ≥ 0, got ${rho}`, undefined, 'ρ = 0 gives lin; ρ ≥ 1 gives the end of the λ-path (convex for the constrained form)');
  }
}

/** The λ used when the recipe gives none: the default ρ times λ*. */
export function defaultLambda(path: LambdaPath): number {
  return DEFAULT_RHO * path.lambda_star;
}

/** λ and ρ of one sparse solve: an absolute λ, else ρ·λ* (ρ defaults to DEFAULT_RHO); never both. */
export function resolveSparsePenalty(path: LambdaPath, params: { lambda?: number; rho?: number }): { lambda: number; rho?: number } {
  if (params.lambda !== undefined && params.rho !== undefined) {
    throw new ComposerError('weights', 'give either `lambda` (absolute) or `rho` (relative, λ = ρ·λ*), not both', undefined, 'prefer `rho`: it does not depend on the scale of the features');
  }
  if (params.lambda !== undefined) {
    requireLambda(params.lambda);
    return path.lambda_star > 0 ? { lambda: params.lambda, rho: params.lambda / path.lambda_star } : { lambda: params.lambda };
  }
  const rho = params.rho ?? DEFAULT_RHO;
  requireRho(rho);
  return { lambda: rho * path.lambda_star, rho };
}

export function sparseAt(path: LambdaPath, lambda: number): number[] {
  requireLambda(lambda);
  const points = path.breakpoints;
  if (points.length === 0) throw new ComposerError('internal', 'empty λ-path');
  // The first breakpoint at exactly this λ (at λ = 0 that is lin, before any jump).
  for (const point of points) if (point.lambda === lambda) return [...point.weights];
  const last = points[points.length - 1];
  if (lambda >= last.lambda) return [...last.weights];
  let b = 0;
  while (points[b].lambda < lambda) b++;
  const lower = points[b - 1];
  const upper = points[b];
  const t = (lambda - lower.lambda) / (upper.lambda - lower.lambda);
  return lower.weights.map((wa, i) => {
    const wb = upper.weights[i];
    if (wa === wb) return wa;
    return wa + t * (wb - wa);
  });
}

/**
 * The minimum-norm minimiser at 0 < λ < λ*, from any minimiser w (the path's point). All minimisers
 * share C·w, hence g = 2Cw and ν, so they live on the face of candidates with |ν − g_j| = λ, each
 * signed like ν − g_j (off it every minimiser is 0), and differ by flat directions there. Cheap when
 * the optimum is unique: one Cholesky on the face finds no flat direction. (λ = 0 is lin and λ ≥ λ*
 * convex, each already minimum-norm.)
 */
export function minimumNormSparse(c: Float64Array, k: number, weights: ArrayLike<number>, lambda: number): Float64Array {
  const w = new Float64Array(weights.length);
  for (let i = 0; i < w.length; i++) w[i] = weights[i];
  const g = gradient(c, k, w);
  let nu = 0;
  let active = 0;
  let l1 = 0;
  for (let i = 0; i < k; i++) {
    if (w[i] === 0) continue;
    nu += g[i] + lambda * Math.sign(w[i]);
    active++;
    l1 += Math.abs(w[i]);
  }
  nu /= active;
  const tolerance = OPTIMAL_FACE_TOLERANCE * 2 * largestDiagonal(c, k) * Math.max(1, l1);
  const face: number[] = [];
  const sign: number[] = [];
  for (let j = 0; j < k; j++) {
    const r = nu - g[j];
    if (w[j] !== 0) { face.push(j); sign.push(Math.sign(w[j])); }
    else if (Math.abs(r) >= lambda - tolerance) { face.push(j); sign.push(r > 0 ? 1 : -1); }
  }
  return minimumNormOnFace(c, k, w, face, sign);
}
