/**
 * lin: argmin wᵀCw s.t. 1ᵀw = 1 — the affine combination of the prototypes closest to the target.
 * When the minimiser is not unique (duplicate or affinely dependent prototypes, k > D + 1) this is
 * the minimum-norm one (see affineHull.ts).
 */
import { solveOnAffineHull } from './affineHull';

export function linearWeights(c: Float64Array, k: number): Float64Array {
  const all: number[] = [];
  for (let i = 0; i < k; i++) all.push(i);
  return solveOnAffineHull(c, k, all, null, 1).w;
}
