/**
 * sim: wᵢ = softmax(−dᵢ/τ) with dᵢ = ‖t − pᵢ‖² = C_ii. τ defaults to the median of the k distances,
 * so the weights do not depend on the encoder's scale.
 */
import { ComposerError } from '../errors';

export interface SimilarityWeights {
  w: Float64Array;
  temperature: number;
}

export function medianDistance(c: Float64Array, k: number): number {
  // C_ii ≥ 0 is finite (validated), so the numeric sort of a typed array orders it as (a, b) => a − b did.
  const d = new Float64Array(k);
  for (let i = 0; i < k; i++) d[i] = c[i * k + i];
  d.sort();
  const mid = k >> 1;
  return k % 2 === 1 ? d[mid] : (d[mid - 1] + d[mid]) / 2;
}

export function similarityWeights(c: Float64Array, k: number, temperature?: number): SimilarityWeights {
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature > 0)) {
    throw new ComposerError('weights', `the sim temperature must be a positive number, got ${temperature}`, undefined, 'omit `temperature` to use the median distance');
  }
  const tau = temperature ?? medianDistance(c, k);
  const w = new Float64Array(k);
  if (!(tau > 0)) {
    // More than half of the candidates coincide with the target: they share the weight.
    let zeros = 0;
    for (let i = 0; i < k; i++) if (c[i * k + i] <= 0) zeros++;
    for (let i = 0; i < k; i++) if (c[i * k + i] <= 0) w[i] = 1 / zeros;
    return { w, temperature: 0 };
  }
  // Subtract the max exponent (the smallest distance) so exp never overflows.
  let smallest = Infinity;
  for (let i = 0; i < k; i++) smallest = Math.min(smallest, c[i * k + i]);
  let total = 0;
  for (let i = 0; i < k; i++) {
    w[i] = Math.exp(-(c[i * k + i] - smallest) / tau);
    total += w[i];
  }
  for (let i = 0; i < k; i++) w[i] /= total;
  return { w, temperature: tau };
}
