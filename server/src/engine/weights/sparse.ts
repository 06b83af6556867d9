/**
 * sparse at one λ: read off the exact λ-path. Between breakpoints the solution is linear in λ, so
 * interpolation is exact, not an approximation.
 */
import { ComposerError } from '../errors';
import type { LambdaPath } from '../types';

export function requireLambda(lambda: number): void {
  if (!(Number.isFinite(lambda) && lambda >= 0)) {
    throw new ComposerError('weights', `the sparse penalty λ must be a number ≥ 0, got ${lambda}`, undefined, 'λ = 0 gives lin; λ ≥ λ* gives convex');
  }
}

/** The λ used when the recipe gives none: halfway to λ* (between the lin and convex extremes). */
export function defaultLambda(path: LambdaPath): number {
  return path.lambda_star / 2;
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
