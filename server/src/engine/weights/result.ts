/** Turns a weight vector into the StrategyResult the plan, the editor and the webview show. */
import type { SparseForm, StrategyResult } from '../types';
import { quadraticForm } from './costMatrix';
import { tableOf } from '../nameTable';

/** |w| ≤ this (relative to the largest weight) is rounding noise of an exact zero. */
const ZERO_RELATIVE = 1e-13;
/** What the plan counts as a nonzero weight. */
export const NONZERO_THRESHOLD = 1e-12;

/** Exact zeros where the solution is zero; -0 becomes 0 (stable JSON, bit-identical outputs). */
export function cleanWeights(w: ArrayLike<number>, into?: Float64Array): Float64Array {
  const out = into && into.length === w.length ? into : new Float64Array(w.length);
  for (let i = 0; i < out.length; i++) out[i] = w[i];
  let largest = 0;
  for (let i = 0; i < out.length; i++) largest = Math.max(largest, Math.abs(out[i]));
  for (let i = 0; i < out.length; i++) if (Math.abs(out[i]) <= ZERO_RELATIVE * largest) out[i] = 0;
  return out;
}

export function weightsByName(names: readonly string[], w: ArrayLike<number>): Record<string, number> {
  if (!plainNames(names)) return tableOf(names.map((name, i) => [name, w[i]] as const));
  // No name is an inherited member (`__proto__`, `constructor`, …): plain assignment makes each an own
  // property, as setOwn would, without its two lookups per name.
  const out: Record<string, number> = {};
  for (let i = 0; i < names.length; i++) out[names[i]] = w[i];
  return out;
}

/** The names checked last (a session's results share one array) and whether none is inherited. */
let checkedNames: readonly string[] | undefined;
let checkedPlain = false;

function plainNames(names: readonly string[]): boolean {
  if (names !== checkedNames) {
    checkedPlain = names.every((name) => !(name in Object.prototype));
    checkedNames = names;
  }
  return checkedPlain;
}

let cleanScratch: Float64Array = new Float64Array(0);

export interface ResultExtras {
  lambda?: number;
  lambda_star?: number;
  rho?: number;
  form?: SparseForm;
  temperature?: number;
  /** Overrides wᵀCw as ‖t − Σwᵢpᵢ‖² (manual weights that do not sum to 1). */
  squaredResidual?: number;
  /** Overrides the objective (the lasso form reports the objective it minimised, on its raw weights). */
  objective?: number;
}

export function strategyResult(c: Float64Array, names: readonly string[], weights: ArrayLike<number>, extras: ResultExtras = {}): StrategyResult {
  const k = names.length;
  // The cleaned weights are read only here (the table copies them): one buffer serves every result.
  if (cleanScratch.length !== k) cleanScratch = new Float64Array(k);
  const w = cleanWeights(weights, cleanScratch);
  const squared = extras.squaredResidual ?? quadraticForm(c, k, w);
  let objective = squared;
  if (extras.objective !== undefined) objective = extras.objective;
  else if (extras.lambda !== undefined) {
    let l1 = 0;
    for (let i = 0; i < k; i++) l1 += Math.abs(w[i]);
    objective += extras.lambda * l1;
  }
  let nonzero = 0;
  for (let i = 0; i < k; i++) if (Math.abs(w[i]) > NONZERO_THRESHOLD) nonzero++;
  const result: StrategyResult = {
    weights: weightsByName(names, w),
    objective,
    residual: Math.sqrt(Math.max(0, squared)),
    nonzero,
  };
  if (extras.lambda !== undefined) result.lambda = extras.lambda;
  if (extras.lambda_star !== undefined) result.lambda_star = extras.lambda_star;
  if (extras.rho !== undefined) result.rho = extras.rho;
  if (extras.form !== undefined) result.form = extras.form;
  if (extras.temperature !== undefined) result.temperature = extras.temperature;
  return result;
}
