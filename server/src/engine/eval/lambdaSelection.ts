/**
 * `weights.lambda: auto`: λ chosen by leave-one-out on the library. Every adapter of the recipe's base
 * is held out and composed from its k nearest others along its own sparse λ-path; λ is compared across
 * problems in units of λ/λ* (λ* differs per problem), and the ratio with the smallest mean ΔW error
 * wins. The recipe then uses λ = ratio·λ* of its own problem.
 *
 * The planner runs per keystroke, so choices are cached by (library, version, base, k): the factors are
 * read once per library version. Concurrent requests share one computation.
 */
import { sameBase } from '../library/baseModels';
import type { AdapterRecord } from '../types';
import { leaveOneOut, type LambdaCurve } from './leaveOneOut';
import { DEFAULT_RHO } from '../weights/sparse';

export interface LambdaChoice {
  /** λ/λ* to use. */
  ratio: number;
  /** The curve it was read from (absent when there were too few adapters). */
  curve?: LambdaCurve;
  /** Held-out targets the curve averages. */
  targets: number;
  /** Why the default ratio was used instead, when it was. */
  fallback?: string;
}

export interface LambdaChoiceKey {
  libraryUri: string;
  version: number;
  base: string;
  k: number;
}

/** Without a curve (fewer than 3 adapters): halfway between lin and convex, as the sparse default. */
export const FALLBACK_RATIO = DEFAULT_RHO;

const choices = new Map<string, Promise<LambdaChoice>>();
const MAX_CACHED = 32;

export function chooseLambdaRatio(records: AdapterRecord[], key: LambdaChoiceKey): Promise<LambdaChoice> {
  const id = JSON.stringify([key.libraryUri, key.version, key.base, key.k]);
  const cached = choices.get(id);
  if (cached) return cached;
  const running = computeChoice(records.filter((r) => sameBase(r.base, key.base)), key.k);
  if (choices.size >= MAX_CACHED) choices.delete(choices.keys().next().value!);
  choices.set(id, running);
  // A failure (unreadable adapter) is not cached: the next plan tries again.
  running.catch(() => choices.delete(id));
  return running;
}

/** Forget cached choices (tests; a library rewritten without a version change). */
export function clearLambdaChoices(): void {
  choices.clear();
}

async function computeChoice(records: AdapterRecord[], k: number): Promise<LambdaChoice> {
  if (records.length < 3) {
    return { ratio: FALLBACK_RATIO, targets: 0, fallback: `only ${records.length} adapter${records.length === 1 ? '' : 's'} of this base: leave-one-out needs at least 3` };
  }
  const result = await leaveOneOut(records, { k, strategies: ['sparse'], lambda: 0, lambdaCurve: true });
  const curve = result.lambda_curve!;
  return { ratio: curve.best_ratio, curve, targets: curve.targets };
}

/** What the editor shows on `lambda: auto`. */
export function lambdaChoiceMessage(choice: LambdaChoice, lambda: number): string {
  const value = `λ = ${formatNumber(choice.ratio)}·λ* = ${formatNumber(lambda)}`;
  if (choice.fallback || !choice.curve) return `λ = auto → ${value} (default: ${choice.fallback ?? 'no leave-one-out curve'})`;
  const half = choice.curve.points.find((p) => p.ratio === FALLBACK_RATIO);
  const compare = half && choice.ratio !== FALLBACK_RATIO ? `; ${formatNumber(half.mean_delta_rel_error)} at λ*/2` : '';
  return `λ = auto → ${value}, chosen by leave-one-out over ${choice.targets} adapters of this base (mean ΔW error ${formatNumber(choice.curve.best_mean_delta_rel_error)}${compare}; \`adapter-composer eval --lambda-curve\` shows the curve)`;
}

function formatNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : Math.abs(x) >= 0.01 ? x.toFixed(3).replace(/0+$/, '') : x.toPrecision(3);
}
