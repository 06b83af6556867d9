/** Evaluation runs: the table of runs (the current lock marked) and the metrics chart across runs. */
import type { ViewState } from '../../../server/src/protocol';
import { drawChart } from '../charts/common';
import { differingParameters, metricNames, metricsChartConfig, parameterName, parameterText, runLabel, shortTime } from '../charts/runsChart';
import type { ChartTheme } from '../theme';
import { type Built, caption, chartBox, el, formatNumber, section } from './parts';

export function evaluationSection(state: ViewState, theme: ChartTheme): Built {
  const history = state.history ?? [];
  if (history.length === 0) {
    const note = el('p', { class: 'empty' }, 'No evaluation runs yet. Compose with an evaluate: section to record metrics.');
    return { node: section('evaluation', 'Evaluation runs', note), draw: () => undefined };
  }
  const metrics = metricNames(history);
  const differing = differingParameters(history);
  const columns = ['run', 'time (UTC)', ...differing.map(parameterName), ...metrics];
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
