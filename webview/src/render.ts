/**
 * render(state): the whole weights panel as a pure function of the ViewState (and the theme).
 * Each chart has an aria-label and a visually hidden table with the same numbers, for screen readers.
 */
import type { PlanJson } from '../../server/src/engine/types';
import {
  destroyCharts, differingParameters, drawChart, entryMetricNames, lambdaPathChartConfig, leaveOneOutChartConfig, looStrategies, metricEntries,
  metricNames, metricsChartConfig, parameterText, redraw, residualChartConfig, runLabel, shortTime, strategiesOf, strategyMetricChartConfig,
  weightsChartConfig,
} from './charts';
import { changedFields, comparisonRows } from './comparison';
import { clampLambda, weightsAt } from './lambdaPath';
import { readTheme, type ChartTheme } from './theme';
import type { EvaluationResult, ViewMessage, ViewState } from '../../server/src/protocol';
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
  // Focusable, so the Tab order reaches every chart and a screen reader reads its label.
  const canvas = el('canvas', { id, role: 'img', 'aria-label': label, tabindex: '0' });
  return { box: el('div', { class: 'chart-box' }, canvas), canvas };
}

function section(id: string, title: string, ...children: Child[]): HTMLElement {
  return el('section', { id, 'aria-labelledby': `${id}-title` }, el('h2', { id: `${id}-title` }, title), ...children);
}

/** One line under a chart's heading saying what it shows and how to read it. */
function caption(id: string, text: string): HTMLElement {
  return el('p', { class: 'caption hint', id: `${id}-caption` }, text);
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
  return { node: section('weights', 'Weights by strategy',
    caption('weights', 'Each adapter\'s weight under each strategy (colour = strategy, the same in every chart); the selected strategy is solid, the others faded.'),
    box, table), draw: () => drawChart(canvas, weightsChartConfig(plan, theme)) };
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

/** How long the ρ control waits after the last change before it writes the recipe (one edit, not one per key). */
export const WRITE_BACK_PAUSE_MS = 400;

/** ρ as written back: 3 significant figures (0.05, 0.333), never a float like 0.0492896. */
export const roundRho = (rho: number) => Number(Math.min(Math.max(rho, 0), 1).toPrecision(3));

/**
 * The sparse strategy's control is the scale-free ρ ∈ [0, 1] (λ = ρ·λ*), with λ shown beside it. Both inputs
 * take any value (`step="any"`), so the recipe's value is never shown as invalid; moving them previews the
 * weights at once and writes the recipe on release or after a pause, rounded to 3 significant figures.
 */
function lambdaSection(plan: PlanJson, state: ViewState, theme: ChartTheme, host: PanelHost): Built | null {
  const path = plan.lambda_path;
  if (!path || path.breakpoints.length === 0) return null;
  const lambdaStar = path.lambda_star;
  const recipeLambda = plan.strategies.sparse?.lambda;
  const current = { value: recipeLambda === undefined ? undefined : clampLambda(path, recipeLambda) };
  const rhoOf = (lambda: number) => (lambdaStar > 0 ? lambda / lambdaStar : 0);
  const recipeRho = plan.strategies.sparse?.rho ?? rhoOf(current.value ?? 0);
  const { box, canvas } = chartBox('lambda-chart',
    `Line chart: each adapter's weight along the sparse λ-path from λ = 0 (lin) to λ* = ${formatNumber(lambdaStar)} (convex)` +
    (current.value === undefined ? '.' : `; the recipe's λ is ${formatNumber(current.value)}.`));
  const slider = el('input', {
    id: 'rho-slider', type: 'range', min: '0', max: '1', step: 'any',
    value: String(recipeRho), 'aria-label': 'ρ of the sparse strategy (λ = ρ·λ*)',
    ...(lambdaStar > 0 ? {} : { disabled: '' }),
  });
  const field = el('input', {
    id: 'rho-input', class: 'rho-field', type: 'number', min: '0', max: '1', step: 'any', inputmode: 'decimal',
    value: String(formatNumber(recipeRho)), 'aria-label': 'ρ value',
    ...(lambdaStar > 0 ? {} : { disabled: '' }),
  });
  const lambdaText = el('output', { id: 'lambda-value', for: 'rho-slider rho-input', 'aria-live': 'polite' });
  const readoutBody = el('tbody', {});
  const fillReadout = (lambda: number) => {
    const w = weightsAt(path, lambda);
    readoutBody.replaceChildren(...path.names.map((n, i) => el('tr', {}, el('th', { scope: 'row' }, n), el('td', {}, formatWeight(w[i])))));
    lambdaText.textContent = `λ = ${formatNumber(lambda)}`;
  };
  const readout = el('table', { class: 'readout', id: 'lambda-readout' },
    el('caption', {}, 'Weights at the chosen λ'),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'adapter'), el('th', { scope: 'col' }, 'weight'))),
    readoutBody);
  fillReadout(current.value ?? 0);

  /** Shows ρ (and its λ) without writing; `from` is the input being edited, left as the user typed it. */
  const preview = (rho: number, from?: HTMLInputElement) => {
    const r = Math.min(Math.max(Number.isFinite(rho) ? rho : 0, 0), 1);
    current.value = clampLambda(path, r * lambdaStar);
    if (from !== slider) slider.value = String(r);
    if (from !== field) field.value = String(formatNumber(r));
    fillReadout(current.value);
    redraw(canvas);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: number | undefined;
  const write = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending === undefined) return;
    const rho = roundRho(pending);
    pending = undefined;
    host.postMessage({ type: 'setLambda', uri: state.uri, lambda: Number((rho * lambdaStar).toPrecision(12)) });
  };
  const writeSoon = (rho: number) => {
    pending = rho;
    if (timer) clearTimeout(timer);
    timer = setTimeout(write, WRITE_BACK_PAUSE_MS);
  };
  const chooseLambda = (lambda: number) => {
    preview(rhoOf(clampLambda(path, lambda)));
    pending = rhoOf(clampLambda(path, lambda));
    write();
  };
  slider.addEventListener('input', () => preview(Number(slider.value), slider));
  // A release (mouse up, or a key press) schedules the write; further presses within the pause replace it.
  slider.addEventListener('change', () => writeSoon(Number(slider.value)));
  field.addEventListener('input', () => {
    const v = Number(field.value);
    if (field.value.trim() !== '' && Number.isFinite(v) && v >= 0 && v <= 1) {
      preview(v, field);
      writeSoon(v);
    }
  });
  field.addEventListener('change', () => {
    const v = Number(field.value);
    if (field.value.trim() !== '' && Number.isFinite(v)) {
      preview(v);
      pending = v;
      write();
    }
  });

  const table = dataTable('Breakpoints of the λ-path', ['λ', 'ρ', ...path.names],
    [...path.breakpoints].sort((a, b) => a.lambda - b.lambda).map((b) => [formatNumber(b.lambda), formatNumber(rhoOf(b.lambda)), ...b.weights.map(formatWeight)]));
  const form = path.form ?? 'constrained';
  const controls = el('div', { class: 'lambda-controls' },
    el('label', { for: 'rho-slider' }, 'ρ'), slider, field, lambdaText,
    el('span', { class: 'hint' }, `${form} form · ρ = 0 is lin · ρ = 1 is λ* = ${formatNumber(lambdaStar)} (${form === 'lasso' ? 'every weight 0' : 'convex'}) · click the chart or use the slider to set the recipe's ρ`));
  return {
    node: section('lambda-path', 'Sparse λ-path',
      caption('lambda-path', 'How each adapter\'s sparse weight changes with ρ (one line per adapter, told apart by marker and dash); the dashed vertical line is the recipe\'s ρ.'),
      controls, el('div', { class: 'lambda-row' }, box, readout), table),
    draw: () => drawChart(canvas, lambdaPathChartConfig(path, current, theme, chooseLambda)),
  };
}

function residualSection(plan: PlanJson, theme: ChartTheme): Built {
  const strategies = strategiesOf(plan);
  const { box, canvas } = chartBox('residual-chart',
    `Scatter chart: residual against the number of non-zero weights for ${strategies.length} strategies.`);
  const table = dataTable('Residual and non-zero weights by strategy', ['strategy', 'non-zero weights', 'residual', 'objective'],
    strategies.map(([s, r]) => [s === plan.strategy ? `${s} (selected)` : s, String(r.nonzero), formatNumber(r.residual), formatNumber(r.objective)]));
  return { node: section('residual', 'Residual vs non-zero weights',
    caption('residual', 'Residual = ‖t − Σwᵢpᵢ‖, how far each strategy\'s weighted mix of prototypes is from the target (lower is closer), against how many adapters it uses; ties are set side by side.'),
    box, table), draw: () => drawChart(canvas, residualChartConfig(plan, theme)) };
}

/** The run / cancel control of the leave-one-out section, with the progress of a running evaluation. */
function leaveOneOutControls(state: ViewState, host: PanelHost): HTMLElement {
  const view = state.evaluation;
  if (view?.state === 'running') {
    const bar = el('progress', { id: 'loo-progress', max: '100', 'aria-label': 'Progress of the leave-one-out evaluation', ...(view.percentage !== undefined ? { value: String(view.percentage) } : {}) });
    const cancel = el('vscode-button', { id: 'loo-cancel', secondary: '', 'aria-label': 'Cancel the leave-one-out evaluation' }, 'Cancel');
    cancel.addEventListener('click', () => host.postMessage({ type: 'cancelEvaluation', uri: state.uri }));
    const text = `${view.percentage !== undefined ? `${view.percentage} % · ` : ''}${view.message ?? 'running'}`;
    return el('div', { class: 'loo-controls' }, bar, el('span', { id: 'loo-status', role: 'status', 'aria-live': 'polite' }, text), cancel);
  }
  const enabled = state.trusted && Boolean(state.plan) && !state.error;
  const run = el('vscode-button', {
    id: 'loo-run', 'aria-label': 'Run the leave-one-out evaluation of the recipe\'s library',
    ...(enabled ? {} : { disabled: '' }),
    title: state.trusted ? 'Hold out each adapter of the library in turn and compose it from the others with every strategy' : 'The evaluation is disabled in an untrusted workspace',
  }, view?.state === 'done' || (view && 'result' in view && view.result) ? 'Run again' : 'Run leave-one-out');
  run.addEventListener('click', () => {
    if (!run.hasAttribute('disabled')) host.postMessage({ type: 'evaluate', uri: state.uri });
  });
  const note = view?.state === 'failed' ? el('p', { class: 'error', role: 'alert', id: 'loo-error' }, `The evaluation failed: ${view.message}`)
    : view?.state === 'cancelled' ? el('p', { class: 'hint', role: 'status', id: 'loo-cancelled' }, view.message)
      : null;
  return el('div', {}, el('div', { class: 'loo-controls' }, run), note);
}

/**
 * The leave-one-out evaluation of the recipe's library (ΔW distance to each held-out adapter, per strategy),
 * and, when the recipe has an evaluator, the task metrics of each strategy's composite of this recipe.
 */
function leaveOneOutSection(state: ViewState, theme: ChartTheme, host: PanelHost): Built {
  const view = state.evaluation;
  const result = view && 'result' in view ? view.result : undefined;
  const intro = caption('leave-one-out', 'Each adapter of the library in turn is held out and composed from its k nearest others (same base) by every strategy; '
    + 'a bar is the mean relative ΔW error ‖Σwᵢ ΔWᵢ − ΔW_held-out‖ / ‖ΔW_held-out‖ over the held-out adapters (lower is better; colour = strategy). '
    + 'The same as `adapter-composer eval <recipe> --leave-one-out`.');
  const controls = leaveOneOutControls(state, host);
  if (!result) {
    const empty = view?.state === 'running' ? null : el('p', { class: 'empty', id: 'loo-empty' }, 'Not run yet for this recipe.');
    return { node: section('leave-one-out', 'Leave-one-out evaluation', intro, controls, empty), draw: () => undefined };
  }
  const loo = result.leaveOneOut;
  const strategies = looStrategies(result);
  const penalty = loo.rho !== undefined ? `ρ = ${formatNumber(loo.rho)}` : `λ = ${typeof loo.lambda === 'number' ? formatNumber(loo.lambda) : loo.lambda}`;
  const facts = el('p', { class: 'facts', id: 'loo-facts' }, [
    `${loo.targets.length} held-out adapters of a library of ${loo.library.size} (v${loo.library.version})`,
    `k = ${loo.k}`, penalty, ...(loo.form ? [`${loo.form} form`] : []),
    `${(result.total_ms / 1000).toFixed(1)} s`, `run ${shortTime(result.time)} UTC`,
  ].join(' · ') + (view?.state === 'running' ? ' (previous run)' : ''));
  const { box, canvas } = chartBox('loo-chart',
    `Bar chart: mean relative ΔW error to the held-out adapters for ${strategies.length} strategies; lowest: ${strategies.reduce((a, b) => (loo.summary[b]!.mean_delta_rel_error < loo.summary[a]!.mean_delta_rel_error ? b : a), strategies[0])}.`);
  const table = dataTable('Leave-one-out by strategy (over the held-out adapters)', ['strategy', 'mean ΔW error', 'median ΔW error', 'mean cosine', 'best on', 'mean non-zero'],
    strategies.map((s) => {
      const r = loo.summary[s]!;
      return [s, formatNumber(r.mean_delta_rel_error), formatNumber(r.median_delta_rel_error), formatNumber(r.mean_delta_cosine), `${r.wins} of ${loo.targets.length}`, formatNumber(r.mean_nonzero)];
    }), 'readout');
  table.id = 'loo-table';
  const warnings = loo.warnings.length || loo.skipped.length
    ? el('ul', { class: 'warnings', 'aria-label': 'evaluation notes' },
      ...loo.warnings.map((w) => el('li', {}, w)),
      ...loo.skipped.map((k) => el('li', {}, `${k.target} not held out: ${k.reason}`)))
    : null;
  const metrics = strategyMetricsPart(result, theme);
  return {
    node: section('leave-one-out', 'Leave-one-out evaluation', intro, controls, facts, warnings, box, table, metrics.node),
    draw: () => {
      drawChart(canvas, leaveOneOutChartConfig(result, theme));
      metrics.draw();
    },
  };
}

/** Task metrics of this recipe's composites per strategy (the recipe's evaluator), one small chart per metric. */
function strategyMetricsPart(result: EvaluationResult, theme: ChartTheme): Built {
  const title = el('h3', { id: 'strategy-metrics-title' }, 'Task metrics of this recipe\'s composites, per strategy');
  const rows = metricEntries(result);
  if (rows.length === 0) {
    return { node: el('div', { id: 'strategy-metrics' }, title, el('p', { class: 'hint', id: 'strategy-metrics-note' }, result.metricsNote ?? 'The evaluator scored nothing.')), draw: () => undefined };
  }
  const metrics = entryMetricNames(rows);
  const charts = metrics.map((m) => ({ metric: m, ...chartBox(`strategy-metric-${m.replace(/[^\w-]/g, '_')}-chart`, `Bar chart: ${m} of the base model, the held-out adapter and each strategy's composite of this recipe.`) }));
  const held = rows.find((r) => r.kind === 'held-out');
  const note = el('p', { class: 'caption hint', id: 'strategy-metrics-caption' },
    'Each strategy\'s composite of this recipe merged exactly (cat, Σ wᵢΔWᵢ) and scored by the recipe\'s evaluator (colour = strategy); '
    + 'the dashed line is the base model alone' + (held ? ', the dotted line the held-out adapter trained on the target\'s labels (the upper bound)' : '') + '. '
    + 'The same as `adapter-composer eval --leave-one-out --with-evaluator <recipe>`.');
  const table = dataTable('Task metrics per strategy', ['composite', ...metrics], rows.map((r) => [
    r.entry, ...metrics.map((m) => (typeof r.metrics[m] === 'number' ? formatNumber(r.metrics[m]) : r.status && r.status !== 'ok' ? r.status : '—')),
  ]), 'readout');
  table.id = 'strategy-metrics-table';
  const failed = rows.filter((r) => r.status && r.status !== 'ok');
  return {
    node: el('div', { id: 'strategy-metrics', role: 'group', 'aria-labelledby': 'strategy-metrics-title' }, title, note,
      el('div', { class: 'small-multiples' }, ...charts.map((c) => c.box)), table,
      failed.length ? el('ul', { class: 'warnings' }, ...failed.map((r) => el('li', {}, `${r.entry}: ${r.status}${r.message ? ` (${r.message})` : ''}`))) : null),
    draw: () => { for (const c of charts) drawChart(c.canvas, strategyMetricChartConfig(rows, c.metric, theme)); },
  };
}

function evaluationSection(state: ViewState, theme: ChartTheme): Built {
  const history = state.history ?? [];
  if (history.length === 0) {
    const note = el('p', { class: 'empty' }, 'No evaluation runs yet. Compose with an evaluate: section to record metrics.');
    return { node: section('evaluation', 'Evaluation runs', note), draw: () => undefined };
  }
  const metrics = metricNames(history);
  const differing = differingParameters(history);
  const names: Record<string, string> = { rho: 'ρ', lambda: 'λ', temperature: 'τ' };
  const columns = ['run', 'time (UTC)', ...differing.map((k) => names[k] ?? k), ...metrics];
  const current = (run: (typeof history)[number]) => Boolean(state.lockSha256 && run.lock_sha256 === state.lockSha256);
  const table = el('vscode-table', { id: 'runs-table', zebra: '', 'bordered-rows': '', 'aria-label': 'Evaluation runs; the current lock is marked' },
    el('vscode-table-header', { slot: 'header' }, ...columns.map((c) => el('vscode-table-header-cell', {}, c))),
    el('vscode-table-body', { slot: 'body' }, ...history.map((run, i) => el('vscode-table-row', current(run) ? { class: 'current-run', 'data-current': 'true' } : {},
      el('vscode-table-cell', {}, current(run) ? `${runLabel(run, i, differing)} ● current lock` : runLabel(run, i, differing)),
      el('vscode-table-cell', { title: run.time ?? '' }, shortTime(run.time)),
      ...differing.map((k) => el('vscode-table-cell', {}, parameterText(run, k))),
      ...metrics.map((m) => el('vscode-table-cell', {}, typeof run.metrics?.[m] === 'number' ? formatNumber(run.metrics[m]) : '—')),
    ))));
  const { box, canvas } = chartBox('metrics-chart', `Line chart: ${metrics.filter((m) => m !== 'samples').join(', ')} across ${history.length} evaluation runs.`);
  return { node: section('evaluation', 'Evaluation runs',
    caption('evaluation', 'The evaluator\'s metrics of each compose of this recipe across runs, one y axis per metric (told apart by marker and dash); each point is filled with its run\'s strategy colour; runs are named by what differs between them.'),
    table, box), draw: () => drawChart(canvas, metricsChartConfig(history, theme)) };
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
    leaveOneOutSection(state, theme, host),
    evaluationSection(state, theme),
  ].filter((s): s is Built => s !== null);
  root.append(...sections.map((s) => s.node));
  for (const s of sections) s.draw();
  if (focusedId) document.getElementById(focusedId)?.focus();
}
