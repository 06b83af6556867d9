/** The "Compare with HEAD" section (a table, no chart). */
import type { ViewState } from '../../../server/src/protocol';
import { changedFields, comparisonRows } from '../comparison';
import { type Built, dataTable, el, section } from './parts';

/** "Compare with HEAD": old / new / Δ per adapter with a bar for Δ, then the other changed fields. */
export function comparisonSection(state: ViewState): Built | null {
  const result = state.comparison;
  if (!result) return null;
  const title = `Compared with ${result.old.split(':')[0]}`;
  if (result.same) return { node: section('comparison', title, el('p', { class: 'empty' }, `No changes: ${result.new} is the same as ${result.old}.`)), draw: () => undefined };
  const rows = comparisonRows(result);
  const bar = (fraction: number) => {
    // Through the CSSOM: the panel's CSP forbids inline style attributes.
    const node = el('span', { class: `delta-bar ${fraction < 0 ? 'negative' : 'positive'}` });
    node.style.width = `${(Math.abs(fraction) * 50).toFixed(1)}%`;
    if (fraction < 0) node.style.right = '50%';
    else node.style.left = '50%';
    return node;
  };
  const table = el('table', { class: 'readout comparison', id: 'comparison-table' },
    el('caption', {}, `${result.old} → ${result.new}`),
    el('thead', {}, el('tr', {}, ...['adapter', 'old', 'new', 'Δ', ''].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', { 'data-adapter': r.adapter },
      el('th', { scope: 'row' }, r.status ? `${r.adapter} (${r.status})` : r.adapter),
      el('td', {}, r.old), el('td', {}, r.new), el('td', {}, r.delta),
      el('td', { class: 'bar-cell', 'aria-hidden': 'true' }, el('span', { class: 'delta-track' }, bar(r.bar))),
    ))));
  const fields = changedFields(result);
  const fieldTable = fields.length ? dataTable('Other changes', ['field', 'old', 'new'], fields, 'readout') : null;
  return { node: section('comparison', title, table, fieldTable), draw: () => undefined };
}
