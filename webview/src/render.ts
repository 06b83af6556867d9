/**
 * render(state): the whole weights panel as a pure function of the ViewState (and the theme).
 * Each chart has an aria-label and a visually hidden table with the same numbers, for screen readers.
 */
import type { PlanJson } from '../../server/src/engine/types';
import {
  destroyCharts, drawChart, lambdaPathChartConfig, metricNames, metricsChartConfig, redraw, residualChartConfig, runLabel,
  strategiesOf, weightsChartConfig,
} from './charts';
import { changedFields, comparisonRows } from './comparison';
import { clampLambda, weightsAt } from './lambdaPath';
import { readTheme, type ChartTheme } from './theme';
import type { ViewMessage, ViewState } from './viewState';
import { ownValue } from '../../server/src/engine/nameTable';

export interface PanelHost {
  postMessage(message: ViewMessage): void;
}

type Child = Node | string | null | undefined | false;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string>, ...children: Child[]): HTMLElementTagNameMap[K];
function el(tag: string, attrs?: Record<string, string>, ...children: Child[]): HTMLElement;
function el(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

const formatWeight = (w: number) => (Math.abs(w) < 5e-13 ? '0' : w.toFixed(3));
const formatNumber = (x: number) => String(Number(x.toPrecision(4)));

/** A screen-reader table: caption, header row, rows of cells. */
function dataTable(caption: string, header: string[], rows: string[][], className = 'visually-hidden'): HTMLTableElement {
  return el('table', { class: className },
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...header.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c, i) => (i === 0 ? el('th', { scope: 'row' }, c) : el('td', {}, c)))))),
  );
}

function chartBox(id: string, label: string): { box: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = el('canvas', { id, role: 'img', 'aria-label': label });
  return { box: el('div', { class: 'chart-box' }, canvas), canvas };
}

function section(id: string, title: string, ...children: Child[]): HTMLElement {
  return el('section', { id, 'aria-labelledby': `${id}-title` }, el('h2', { id: `${id}-title` }, title), ...children);
}

function header(state: ViewState, host: PanelHost): HTMLElement {
  const plan = state.plan;
  const facts: string[] = [];
  if (plan) {
    facts.push(`strategy ${plan.strategy}`, `${plan.candidates.length} candidates`);
    if (plan.library) facts.push(`library of ${plan.library.size} (v${plan.library.version})`);
    facts.push(`target ${plan.target.source} · dim ${plan.target.dim}`);
    if (plan.provider) facts.push(`encoder on ${plan.provider}`);
  }
  const compose = el('vscode-button', {
    id: 'compose', 'aria-label': 'Compose the adapter',
    ...(state.trusted && plan && !state.error ? {} : { disabled: '' }),
    title: state.trusted ? 'Compose the adapter from this plan' : 'Compose is disabled in an untrusted workspace',
  }, 'Compose');
  compose.addEventListener('click', () => {
    if (!compose.hasAttribute('disabled')) host.postMessage({ type: 'compose', uri: state.uri });
  });
  return el('header', {},
    el('div', { class: 'title-row' }, el('h1', {}, state.fileName), compose),
    plan ? el('p', { class: 'facts' }, facts.join(' · ')) : null,
    state.error ? el('p', { class: 'error', role: 'alert' }, state.stale ? `${state.error} (showing the last plan that worked)` : state.error) : null,
    !state.trusted ? el('p', { class: 'notice' }, 'Untrusted workspace: recipes are planned, but Compose and evaluators are off.') : null,
    plan && plan.warnings.length ? el('ul', { class: 'warnings', 'aria-label': 'warnings' }, ...plan.warnings.map((w) => el('li', {}, w))) : null,
  );
}

/** A section and how to draw its charts once it is in the document (charts measure their container). */
interface Built {
  node: HTMLElement;
  draw(): void;
}

function weightsSection(plan: PlanJson, theme: ChartTheme): Built {
  const names = plan.candidates.map((c) => c.name);
  const strategies = strategiesOf(plan);
  const { box, canvas } = chartBox('weights-chart',
    `Grouped bar chart: weights of ${names.length} adapters under ${strategies.length} strategies; the selected strategy is ${plan.strategy}.`);
  const table = dataTable('Weights by strategy', ['adapter', ...strategies.map(([s]) => (s === plan.strategy ? `${s} (selected)` : s))],
    names.map((n) => [n, ...strategies.map(([, r]) => formatWeight(ownValue(r.weights, n) ?? 0))]));
  return { node: section('weights', 'Weights by strategy', box, table), draw: () => drawChart(canvas, weightsChartConfig(plan, theme)) };
}

/** "Compare with HEAD": old / new / Δ per adapter with a bar for Δ, then the other changed fields. */
function comparisonSection(state: ViewState): Built | null {
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

function lambdaSection(plan: PlanJson, state: ViewState, theme: ChartTheme, host: PanelHost): Built | null {
  const path = plan.lambda_path;
  if (!path || path.breakpoints.length === 0) return null;
  const lambdaStar = path.lambda_star;
  const recipeLambda = plan.strategies.sparse?.lambda;
  const current = { value: recipeLambda === undefined ? undefined : clampLambda(path, recipeLambda) };
  const { box, canvas } = chartBox('lambda-chart',
    `Line chart: each adapter's weight along the sparse λ-path from λ = 0 (lin) to λ* = ${formatNumber(lambdaStar)} (convex)` +
    (current.value === undefined ? '.' : `; the recipe's λ is ${formatNumber(current.value)}.`));
  const step = lambdaStar > 0 ? Number((lambdaStar / 200).toPrecision(2)) : 1;
  const slider = el('input', {
    id: 'lambda-slider', type: 'range', min: '0', max: String(lambdaStar), step: String(step),
    value: String(current.value ?? 0), 'aria-label': 'λ of the sparse strategy',
    ...(lambdaStar > 0 ? {} : { disabled: '' }),
  });
  const field = el('vscode-textfield', {
    id: 'lambda-input', type: 'number', min: '0', max: String(lambdaStar), step: String(step),
    value: String(current.value ?? 0), 'aria-label': 'λ value', label: 'λ',
  });
  const readoutBody = el('tbody', {});
  const fillReadout = (lambda: number) => {
    const w = weightsAt(path, lambda);
    readoutBody.replaceChildren(...path.names.map((n, i) => el('tr', {}, el('th', { scope: 'row' }, n), el('td', {}, formatWeight(w[i])))));
  };
  const readout = el('table', { class: 'readout', id: 'lambda-readout' },
    el('caption', {}, 'Weights at the chosen λ'),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'adapter'), el('th', { scope: 'col' }, 'weight'))),
    readoutBody);
  fillReadout(current.value ?? 0);

  const preview = (lambda: number) => {
    current.value = clampLambda(path, lambda);
    slider.value = String(current.value);
    field.value = String(current.value);
    fillReadout(current.value);
    redraw(canvas);
  };
  const choose = (lambda: number) => {
    preview(lambda);
    host.postMessage({ type: 'setLambda', uri: state.uri, lambda: current.value as number });
  };
  slider.addEventListener('input', () => preview(Number(slider.value)));
  slider.addEventListener('change', () => choose(Number(slider.value)));
  field.addEventListener('change', () => {
    const v = Number(field.value);
    if (Number.isFinite(v)) choose(v);
  });

  const table = dataTable('Breakpoints of the λ-path', ['λ', ...path.names],
    [...path.breakpoints].sort((a, b) => a.lambda - b.lambda).map((b) => [formatNumber(b.lambda), ...b.weights.map(formatWeight)]));
  const controls = el('div', { class: 'lambda-controls' },
    el('label', { for: 'lambda-slider' }, 'λ'), slider, field,
    el('span', { class: 'hint' }, `${path.form ?? 'constrained'} form · 0 = lin · ${formatNumber(lambdaStar)} = λ* (${(path.form ?? 'constrained') === 'lasso' ? 'every weight 0' : 'convex'}) · ρ = λ/λ*${plan.strategies.sparse?.rho !== undefined ? ` = ${formatNumber(plan.strategies.sparse.rho)}` : ''} · click the chart or use the slider to set the recipe's ρ`));
  return {
    node: section('lambda-path', 'Sparse λ-path', controls, el('div', { class: 'lambda-row' }, box, readout), table),
    draw: () => drawChart(canvas, lambdaPathChartConfig(path, current, theme, choose)),
  };
}

function residualSection(plan: PlanJson, theme: ChartTheme): Built {
  const strategies = strategiesOf(plan);
  const { box, canvas } = chartBox('residual-chart',
    `Scatter chart: residual against the number of non-zero weights for ${strategies.length} strategies.`);
  const table = dataTable('Residual and non-zero weights by strategy', ['strategy', 'non-zero weights', 'residual', 'objective'],
    strategies.map(([s, r]) => [s === plan.strategy ? `${s} (selected)` : s, String(r.nonzero), formatNumber(r.residual), formatNumber(r.objective)]));
  return { node: section('residual', 'Residual vs non-zero weights', box, table), draw: () => drawChart(canvas, residualChartConfig(plan, theme)) };
}

function evaluationSection(state: ViewState, theme: ChartTheme): Built {
  const history = state.history ?? [];
  if (history.length === 0) {
    const note = el('p', { class: 'empty' }, 'No evaluation runs yet. Compose with an evaluate: section to record metrics.');
    return { node: section('evaluation', 'Evaluation runs', note), draw: () => undefined };
  }
  const metrics = metricNames(history);
  const columns = ['run', 'time', 'strategy', ...metrics];
  const table = el('vscode-table', { id: 'runs-table', zebra: '', 'bordered-rows': '' },
    el('vscode-table-header', { slot: 'header' }, ...columns.map((c) => el('vscode-table-header-cell', {}, c))),
    el('vscode-table-body', { slot: 'body' }, ...history.map((run, i) => el('vscode-table-row', {},
      el('vscode-table-cell', {}, runLabel(run, i)),
      el('vscode-table-cell', {}, run.time ?? ''),
      el('vscode-table-cell', {}, run.strategy ?? ''),
      ...metrics.map((m) => el('vscode-table-cell', {}, typeof run.metrics?.[m] === 'number' ? formatNumber(run.metrics[m]) : '—')),
    ))));
  const { box, canvas } = chartBox('metrics-chart', `Line chart: ${metrics.join(', ')} across ${history.length} evaluation runs.`);
  return { node: section('evaluation', 'Evaluation runs', table, box), draw: () => drawChart(canvas, metricsChartConfig(history, theme)) };
}

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
    evaluationSection(state, theme),
  ].filter((s): s is Built => s !== null);
  root.append(...sections.map((s) => s.node));
  for (const s of sections) s.draw();
  if (focusedId) document.getElementById(focusedId)?.focus();
}
