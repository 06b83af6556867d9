/** Reading the sparse λ-path: weights are piecewise linear in λ between breakpoints. */
import type { LambdaPath } from '../../server/src/engine/types';

/** The weights at λ, interpolated between the two surrounding breakpoints (clamped to [0, λ*]). */
export function weightsAt(path: LambdaPath, lambda: number): number[] {
  const points = [...path.breakpoints].sort((a, b) => a.lambda - b.lambda);
  if (points.length === 0) return path.names.map(() => 0);
  if (lambda <= points[0].lambda) return [...points[0].weights];
  const last = points[points.length - 1];
  if (lambda >= last.lambda) return [...last.weights];
  for (let i = 1; i < points.length; i++) {
    const right = points[i];
    if (lambda > right.lambda) continue;
    const left = points[i - 1];
    const span = right.lambda - left.lambda;
    const t = span > 0 ? (lambda - left.lambda) / span : 1;
    return left.weights.map((w, j) => w + t * (right.weights[j] - w));
  }
  return [...last.weights];
}

/** λ limited to the path's range and rounded to a readable number of significant digits. */
export function clampLambda(path: LambdaPath, lambda: number): number {
  if (!Number.isFinite(lambda)) return 0;
  const max = path.lambda_star;
  const clamped = Math.min(Math.max(lambda, 0), max);
  return Number(clamped.toPrecision(4));
}
