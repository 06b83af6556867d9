/** Weight (of the chosen strategy) and squared distance to the target after each adapter name. */
import { InlayHintKind } from 'vscode-languageserver-types';
import type { InlayHint, Range } from 'vscode-languageserver-types';
import { shortNumber, weightText } from './numberText';
import { adapterReferences, distanceTo } from './recipeView';
import type { RecipeView } from './recipeView';
import { ownValue } from '../engine/nameTable';

export function inlayHints(view: RecipeView, range?: Range): InlayHint[] {
  const plan = view.outcome?.plan;
  if (!plan || !view.document.isRecipe) return [];
  const from = range ? view.document.offsetAt(range.start) : 0;
  const to = range ? view.document.offsetAt(range.end) : Number.POSITIVE_INFINITY;
  const weights = plan.strategies[plan.strategy]?.weights ?? {};
  const hints: InlayHint[] = [];
  for (const ref of adapterReferences(view)) {
    if (ref.span.end < from || ref.span.start > to) continue;
    const parts: string[] = [];
    const w = ownValue(weights, ref.name);
    // A manual key's weight is already written next to it; a listed adapter shows what the plan gave it.
    if (w !== undefined && ref.role !== 'manual') parts.push(`w ${weightText(w)}`);
    const d = distanceTo(view, ref.name);
    if (d !== undefined) parts.push(`d² ${shortNumber(d)}`);
    if (ref.role === 'exclude' && parts.length === 0) continue;
    if (parts.length === 0) parts.push(view.outcome?.adapters?.some((a) => a.name === ref.name) ? 'not a candidate' : 'not in library');
    hints.push({
      position: view.document.positionAt(ref.span.end),
      label: parts.join(' · '),
      kind: InlayHintKind.Parameter,
      paddingLeft: true,
      tooltip: `${ref.name}: weight under \`${plan.strategy}\` and squared L2 distance of its prototype to the target`,
    });
  }
  return hints;
}
