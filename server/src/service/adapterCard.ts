/** The markdown card of one library adapter, shared by hover and completion. */
import type { AdapterRecord } from '../engine/types';
import { STRATEGIES } from '../engine/types';
import { shortNumber, weightText } from './numberText';
import { distanceTo } from './recipeView';
import type { RecipeView } from './recipeView';
import { ownValue } from '../engine/nameTable';
import { mdLines, mdText } from '../engine/markdownText';

export function adapterCard(view: RecipeView, adapter: AdapterRecord): string {
  // the row is another author's (a committed library): its text is escaped, so that a description's
  // image or link is not fetched or shown as one when the card is hovered
  const lines: string[] = [`**${mdText(adapter.name)}** — LoRA adapter`, ''];
  if (adapter.description) lines.push(mdLines(adapter.description), '');
  const facts: [string, string][] = [
    ['base', adapter.base || '—'],
    ['rank', String(adapter.rank)],
    ['α', String(adapter.alpha)],
    ['format', adapter.format],
    ['modules', adapter.target_modules.length ? adapter.target_modules.join(', ') : '—'],
  ];
  if (adapter.tags.length) facts.push(['tags', adapter.tags.join(', ')]);
  const d = distanceTo(view, adapter.name);
  if (d !== undefined) facts.push(['distance² to target', shortNumber(d, 3)]);
  for (const [k, v] of facts) lines.push(`- ${k}: ${mdText(v)}`);
  const plan = view.outcome?.plan;
  const isCandidate = plan?.candidates.some((c) => c.name === adapter.name);
  if (plan && !isCandidate) lines.push('', `_Not among the ${plan.candidates.length} candidates of this recipe._`);
  if (plan && isCandidate) {
    const rows = STRATEGIES.filter((s) => plan.strategies[s]).map((s) => {
      const w = ownValue(plan.strategies[s]?.weights, adapter.name);
      return `| ${s}${s === plan.strategy ? ' (selected)' : ''} | ${w === undefined ? '—' : weightText(w)} |`;
    });
    if (rows.length) lines.push('', '| strategy | weight |', '| --- | ---: |', ...rows);
  }
  return lines.join('\n');
}

/** One line for completion details: `base · r=16 · tags · d²=1.2`. */
export function adapterSummary(view: RecipeView, adapter: AdapterRecord): string {
  const parts = [adapter.base || '—', `r=${adapter.rank}`];
  if (adapter.tags.length) parts.push(adapter.tags.join(','));
  const d = distanceTo(view, adapter.name);
  if (d !== undefined) parts.push(`d²=${shortNumber(d)}`);
  return parts.join(' · ');
}
