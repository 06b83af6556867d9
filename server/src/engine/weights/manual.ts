/** manual: weights given by name in the recipe, used as given (never renormalised). */
import { ComposerError } from '../errors';
import type { WeightsProblem } from './problem';

/** Σ of the given weights, so the caller can warn when it is not 1. */
export function sumOfWeights(weights: Record<string, number>): number {
  let total = 0;
  for (const value of Object.values(weights)) total += value;
  return total;
}

export function manualWeights(names: readonly string[], manual: Record<string, number>): Float64Array {
  const index = new Map(names.map((name, i) => [name, i] as const));
  const w = new Float64Array(names.length);
  for (const [name, value] of Object.entries(manual)) {
    const i = index.get(name);
    if (i === undefined) {
      throw new ComposerError('weights', `manual weight for '${name}', which is not among the candidates (${names.join(', ')})`, undefined, 'use the name of an adapter in the library (`library ls` lists them)');
    }
    if (!Number.isFinite(value)) {
      throw new ComposerError('non-finite', `manual weight for '${name}' is not a finite number (${value})`);
    }
    w[i] = value;
  }
  return w;
}

/**
 * ‖t − Σwᵢpᵢ‖² straight from the vectors: for weights that do not sum to 1 the translation-invariant
 * wᵀCw is not the residual.
 */
export function directSquaredResidual(problem: WeightsProblem, w: ArrayLike<number>): number {
  const { target, prototypes } = problem;
  let total = 0;
  for (let d = 0; d < target.length; d++) {
    let value = target[d];
    for (let i = 0; i < prototypes.length; i++) if (w[i] !== 0) value -= w[i] * prototypes[i][d];
    total += value * value;
  }
  return total;
}
