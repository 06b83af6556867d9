/**
 * Code lenses, computed from the cached plan. On the `weights:` line: the actions first (client commands,
 * invoked with [uri]) so they are never pushed off-screen, then the chosen strategy's top weights (the full
 * list is in the hover on `weights:` and in the panel). The other strategies sit on the `strategy:` line and
 * a truncating svd merge's warning on the `merge:` line: VS Code draws a line's lenses as one unwrapped run,
 * and on one line they were cut off in a half-width editor (each falls back to `weights:` without its key).
 */
import type { CodeLens, Range } from 'vscode-languageserver-types';
import { ClientCommands } from '../protocol';
import type { LensCommand, LensCommandTypes } from '../protocol';
import type { PlanJson, Strategy, StrategyResult } from '../engine/types';
import { STRATEGIES } from '../engine/types';
import { diagnostics } from './diagnostics';
import { shortNumber, weightText } from './numberText';
import type { RecipeView } from './recipeView';

/** At most this many names in the weights lens; the rest are counted ("+n more"). */
const MAX_NAMES = 3;

/** What the terse lens titles mean (shown on hover over the lens). */
const SELECTED_TOOLTIP = 'The selected strategy\'s largest weights (the full list: hover `weights:` or Show chart). residual = ‖t − Σwᵢpᵢ‖, how far the weighted mix of prototypes is from the target (lower is closer).';
const OTHERS_TOOLTIP = 'The other strategies: r = their residual ‖t − Σwᵢpᵢ‖ (lower is closer to the target); (n) = how many adapters get a non-zero weight. Click for the chart.';

export function codeLenses(view: RecipeView): CodeLens[] {
  const { document, outcome } = view;
  if (!document.isRecipe || !outcome?.isRecipe) return [];
  const range = lensRange(view);
  const plan = outcome.plan;
  if (!plan) {
    // Counted as the Problems panel counts them: every diagnostic of this document.
    const count = diagnostics(view).length;
    const problems = `${count} problem${count === 1 ? '' : 's'}`;
    const last = view.lastPlan;
    if (last) {
      // While typing: keep the last plan, marked stale, until the recipe plans again (no Compose/Pin on it).
      return [
        { range, command: { title: `⚠ stale: ${count ? `${problems}, ` : ''}showing the last plan`, command: '' } },
        lens(range, 'Show chart', ClientCommands.showChart, [view.uri]),
        lens(range, selectedTitle(last), ClientCommands.showChart, [view.uri]),
        ...warningLenses(view, last, range),
      ];
    }
    const title = count ? `Adapter Composer: ${problems} — no plan yet` : 'Adapter Composer: no plan yet';
    return [{ range, command: { title, command: '' } }];
  }
  const lenses: CodeLens[] = [
    lens(range, '▶ Compose', ClientCommands.compose, [view.uri]),
    lens(range, 'Show chart', ClientCommands.showChart, [view.uri]),
    lens(range, 'Pin weights', ClientCommands.pinWeights, [view.uri]),
    lens(range, selectedTitle(plan), ClientCommands.showChart, [view.uri], SELECTED_TOOLTIP),
  ];
  const others = othersTitle(plan);
  if (others) lenses.push(lens(keyRange(view, ['weights', 'strategy']) ?? range, others, ClientCommands.showChart, [view.uri], OTHERS_TOOLTIP));
  lenses.push(...warningLenses(view, plan, range));
  return lenses;
}

/** `⚠ svd rank 16 < Σr 54: truncates …` above `merge:` when the svd merge loses rank (plain text, no action). */
function warningLenses(view: RecipeView, plan: PlanJson, fallback: Range): CodeLens[] {
  const title = truncationWarning(plan);
  if (!title) return [];
  return [{ range: keyRange(view, ['merge']) ?? fallback, command: { title, command: '', tooltip: TRUNCATION_TOOLTIP } }];
}

export function truncationWarning(plan: PlanJson): string | undefined {
  if (!plan.merge || plan.merge.method !== 'svd' || plan.merge.exact) return undefined;
  return `⚠ svd rank ${plan.merge.rank} < Σr ${plan.merge.total_rank}: truncates the composite (merge.method cat is exact)`;
}

const TRUNCATION_TOOLTIP = 'merge.rank is below the sum of the candidates\' ranks, so the svd merge keeps only the largest singular directions; `adapter-composer plan` predicts the loss and Compose reports the energy kept.';

/** The range of a key's name when the recipe writes that key as a block on a line of its own. */
function keyRange(view: RecipeView, path: string[]): Range | undefined {
  const key = view.document.entry(path)?.key;
  return key ? view.document.rangeOf(key.span) : undefined;
}

/** A lens that runs a client command, with the arguments protocol.ts declares for it. */
function lens<C extends LensCommand>(range: Range, title: string, command: C, args: LensCommandTypes[C], tooltip?: string): CodeLens {
  return { range, command: { title, ...(tooltip ? { tooltip } : {}), command, arguments: args } };
}

/** `sparse ρ=0.5 λ=0.05 · prostate-f 0.99 · prostate-b 0.47 · prostate-a −0.49 · residual 3.1` */
export function selectedTitle(plan: PlanJson): string {
  const result = plan.strategies[plan.strategy];
  if (!result) return `${plan.strategy}: no weights`;
  const parts = [strategyLabel(plan.strategy, result)];
  const nonzero = Object.entries(result.weights).filter(([, w]) => Math.abs(w) > 1e-12);
  // Show the largest |w| when there are many, in descending order of weight.
  const shown = [...nonzero].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, MAX_NAMES).sort((a, b) => b[1] - a[1]);
  for (const [name, w] of shown) parts.push(`${name} ${weightText(w)}`);
  if (nonzero.length > shown.length) parts.push(`+${nonzero.length - shown.length} more`);
  parts.push(`residual ${shortNumber(result.residual)}`);
  return parts.join(' · ');
}

/** `avg r=4.1 · sim τ=650 r=3.9 · lin r=2.0 (5) · convex r=3.0 (2)`: each with the parameters it was computed with. */
export function othersTitle(plan: PlanJson): string | undefined {
  const k = plan.candidates.length;
  const parts: string[] = [];
  for (const s of STRATEGIES) {
    const result = plan.strategies[s];
    if (s === plan.strategy || !result) continue;
    const count = result.nonzero < k || s === 'lin' || s === 'sparse' || s === 'convex' ? ` (${result.nonzero})` : '';
    parts.push(`${strategyLabel(s, result)} r=${shortNumber(result.residual)}${count}`);
  }
  return parts.length ? parts.join(' · ') : undefined;
}

function strategyLabel(strategy: Strategy, r: StrategyResult): string {
  if (strategy === 'sparse' && r.lambda !== undefined) {
    const form = r.form && r.form !== 'constrained' ? ` ${r.form}` : '';
    return `sparse${form} ${r.rho !== undefined ? `ρ=${shortNumber(r.rho, 3)} ` : ''}λ=${shortNumber(r.lambda, 3)}`;
  }
  if (strategy === 'sim' && r.temperature !== undefined) return `sim τ=${shortNumber(r.temperature, 3)}`;
  return strategy;
}

/** The `weights:` key line, else `retrieve:`, else `compose:`. */
function lensRange(view: RecipeView): Range {
  const doc = view.document;
  const anchor = doc.topLevel.get('weights') ?? doc.topLevel.get('retrieve') ?? doc.topLevel.get('compose');
  if (!anchor?.key) return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return doc.rangeOf(anchor.key.span);
}
