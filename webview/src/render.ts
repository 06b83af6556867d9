/**
 * render(state): the whole weights panel as a pure function of the ViewState (and the theme).
 * Each chart has an aria-label and a visually hidden table with the same numbers, for screen readers.
 */
import { destroyCharts } from './charts/common';
import { readTheme } from './theme';
import type { ViewState } from '../../server/src/protocol';
import { comparisonSection } from './sections/comparisonSection';
import { evaluationSection } from './sections/evaluationSection';
import { header } from './sections/header';
import { lambdaSection } from './sections/lambdaSection';
import { leaveOneOutSection } from './sections/leaveOneOutSection';
import { type Built, el, type PanelHost } from './sections/parts';
import { residualSection } from './sections/residualSection';
import { weightsSection } from './sections/weightsSection';

export type { PanelHost } from './sections/parts';

/** Draws the panel into `root` from scratch; focus stays on the control that had it. */
export function render(state: ViewState | null, root: HTMLElement, host: PanelHost, emptyMessage?: string): void {
  const focusedId = (document.activeElement as HTMLElement | null)?.id;
  const theme = readTheme();
  destroyCharts(root);
  root.replaceChildren();
  if (!state) {
    root.append(el('p', { class: 'empty', id: 'empty' }, emptyMessage ?? 'Open a *.compose.yaml recipe to see its weights.'));
    return;
  }
  root.append(header(state, host));
  const plan = state.plan;
  if (!plan) {
    if (!state.error) root.append(el('p', { class: 'empty', id: 'planning' }, 'Planning…'));
    return;
  }
  const sections = [
    comparisonSection(state),
    weightsSection(plan, theme),
    lambdaSection(plan, state, theme, host),
    residualSection(plan, theme),
    leaveOneOutSection(state, theme, host),
    evaluationSection(state, theme),
  ].filter((s): s is Built => s !== null);
  root.append(...sections.map((s) => s.node));
  for (const s of sections) s.draw();
  if (focusedId) document.getElementById(focusedId)?.focus();
}
