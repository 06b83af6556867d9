/**
 * The weights problem: a target prototype, the k candidate prototypes retrieved for it and their
 * adapter names. Validation here is the single place that rejects inputs the solvers cannot use.
 */
import { ComposerError } from '../errors';

export interface WeightsProblem {
  target: Float64Array;
  prototypes: Float64Array[];
  /** Adapter names in candidate order (nearest first); the keys of every result's weights. */
  names: string[];
}

export function validateProblem(problem: WeightsProblem): void {
  const { target, prototypes, names } = problem;
  if (prototypes.length === 0) {
    throw new ComposerError('weights', 'no candidate adapters to weigh', undefined, 'check that the library holds adapters and that `candidates` (k) is at least 1');
  }
  if (names.length !== prototypes.length) {
    throw new ComposerError('internal', `weights: ${prototypes.length} prototypes but ${names.length} names`);
  }
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new ComposerError('weights', `candidate '${name}' appears twice`, undefined, 'adapter names in a library must be unique');
    seen.add(name);
  }
  const dim = target.length;
  if (dim === 0) throw new ComposerError('dimension', 'the target prototype is empty');
  requireFinite(target, 'the target prototype');
  prototypes.forEach((prototype, i) => {
    if (prototype.length !== dim) {
      throw new ComposerError('dimension', `prototype of '${names[i]}' has dimension ${prototype.length}, the target has ${dim}`, undefined, 'the library and the target must come from the same encoder');
    }
    requireFinite(prototype, `the prototype of '${names[i]}'`);
  });
}

/**
 * Everything validateProblem checks except the values' finiteness (an O(k·D) scan the cost matrix
 * makes unnecessary, see costMatrixOf): true when validateProblem would throw only for a non-finite
 * value. It never throws itself, so on false validateProblem reports the first problem in its order.
 */
export function hasValidShape(problem: WeightsProblem): boolean {
  const { target, prototypes, names } = problem;
  if (prototypes.length === 0 || names.length !== prototypes.length || target.length === 0) return false;
  if (new Set(names).size !== names.length) return false;
  for (const prototype of prototypes) if (prototype.length !== target.length) return false;
  return true;
}

function requireFinite(vector: Float64Array, what: string): void {
  for (let i = 0; i < vector.length; i++) {
    if (!Number.isFinite(vector[i])) {
      throw new ComposerError('non-finite', `${what} has a non-finite value (${vector[i]}) at index ${i}`, undefined, 'recompute the prototype; NaN or Inf usually comes from an empty sample set or a broken encoder output');
    }
  }
}
