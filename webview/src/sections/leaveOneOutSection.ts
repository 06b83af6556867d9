/** The leave-one-out section: run / cancel with progress, the chart and table per strategy, and the task metrics. */
import type { ViewState } from '../../../server/src/protocol';
import { drawChart } from '../charts/common';
import { leaveOneOutChartConfig, looStrategies } from '../charts/leaveOneOutChart';
import { shortTime } from '../charts/runsChart';
import type { ChartTheme } from '../theme';
import { type Built, caption, chartBox, dataTable, el, formatNumber, type PanelHost, section } from './parts';
import { strategyMetricsPart } from './strategyMetricsPart';

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
export function leaveOneOutSection(state: ViewState, theme: ChartTheme, host: PanelHost): Built {
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
