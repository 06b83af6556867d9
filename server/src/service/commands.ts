/** The edits behind the server commands: pin the computed weights, set λ. */
import type { WorkspaceEdit } from 'vscode-languageserver-types';
import type { PlanJson, Strategy } from '../engine/types';
import { replaceTopLevelEdit, setValueEdit } from './recipeEdits';
import type { RecipeView } from './recipeView';
import { tableOf } from '../engine/nameTable';

const DECIMALS = 6;

/**
 * The weights of `strategy` (default: the selected one) rounded to 6 decimals, zeros dropped, with the
 * rounding error put on the largest weight so a sum of 1 stays exactly 1.
 */
export function pinnedWeights(plan: PlanJson, strategy: Strategy = plan.strategy): Record<string, number> | undefined {
  const result = plan.strategies[strategy];
  return result ? roundWeights(result.weights) : undefined;
}

/** Weights rounded to 6 decimals, zeros dropped; a sum of 1 stays exactly 1 (the largest absorbs the rounding). */
export function roundWeights(weights: Record<string, number>): Record<string, number> {
  const scale = 10 ** DECIMALS;
  const entries = Object.entries(weights).filter(([, w]) => Math.abs(w) > 1e-12 && Number.isFinite(w));
  const units = entries.map(([name, w]) => [name, Math.round(w * scale)] as [string, number]).filter(([, u]) => u !== 0);
  const sum = entries.reduce((s, [, w]) => s + w, 0);
  if (units.length && Math.abs(sum - 1) < 1e-6) {
    const drift = scale - units.reduce((s, [, u]) => s + u, 0);
    let largest = 0;
    units.forEach(([, u], i) => {
      if (Math.abs(u) > Math.abs(units[largest][1])) largest = i;
    });
    units[largest][1] += drift;
  }
  return tableOf(units.map(([name, u]) => [name, u / scale] as const));
}

/** `weights: {strategy: manual, manual: {...}}` with the computed weights; undefined without a plan. */
export function pinWeightsEdit(view: RecipeView, strategy?: Strategy): WorkspaceEdit | undefined {
  const plan = view.outcome?.plan;
  if (!plan) return undefined;
  const manual = pinnedWeights(plan, strategy ?? plan.strategy);
  if (!manual) return undefined;
  const edit = replaceTopLevelEdit(view.document, 'weights', { strategy: 'manual', manual });
  return { changes: { [view.uri]: [edit] } };
}

/** Sets `weights.rho` (= λ/λ*) or, when the recipe gives an absolute `lambda`, `weights.lambda` (the webview's λ slider). */
export function setLambdaEdit(view: RecipeView, lambda: number): WorkspaceEdit {
  if (!Number.isFinite(lambda) || lambda < 0) throw new RangeError(`λ must be a number ≥ 0 (got ${String(lambda)})`);
  // The chart picks an absolute λ; a recipe without an absolute `lambda` keeps the scale-free ρ = λ/λ*
  // (writing `lambda` beside `rho` would be an error).
  const lambdaStar = view.outcome?.plan?.lambda_path?.lambda_star ?? 0;
  if (!view.document.entry(['weights', 'lambda']) && lambdaStar > 0) {
    const rho = Number((lambda / lambdaStar).toPrecision(6));
    return { changes: { [view.uri]: [setValueEdit(view.document, ['weights', 'rho'], rho)] } };
  }
  const rounded = Number(lambda.toPrecision(6));
  return { changes: { [view.uri]: [setValueEdit(view.document, ['weights', 'lambda'], rounded)] } };
}
