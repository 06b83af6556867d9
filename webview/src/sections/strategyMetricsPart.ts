/** The task metrics part of the leave-one-out section: one small chart per metric, the table, the failed entries. */
import type { EvaluationResult } from '../../../server/src/protocol';
import { drawChart } from '../charts/common';
import { entryMetricNames, metricEntries, strategyMetricChartConfig } from '../charts/strategyMetricsChart';
import type { ChartTheme } from '../theme';
import { type Built, chartBox, dataTable, el, formatNumber } from './parts';

/** Task metrics of this recipe's composites per strategy (the recipe's evaluator), one small chart per metric. */
export function strategyMetricsPart(result: EvaluationResult, theme: ChartTheme): Built {
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
