/**
 * The evaluation runs of a recipe: how runs are named (by the parameters that differ between them) and the
 * chart of their metrics across runs, one y axis per metric.
 */
import type { ChartConfiguration } from 'chart.js';
import type { RunHistoryEntry } from '../../../server/src/protocol';
import { type ChartTheme, withAlpha } from '../theme';
import { baseOptions, DASHES, MARKERS, strategyColor } from './common';

export function metricNames(history: RunHistoryEntry[]): string[] {
  return [...new Set(history.flatMap((run) => Object.keys(run.metrics ?? {})))].sort();
}

const PARAMETER_NAMES: Record<string, string> = { rho: 'ρ', lambda: 'λ', temperature: 'τ' };

/** A parameter as the panel names it: ρ, λ, τ for rho, lambda, temperature; the others by their key. */
export function parameterName(key: string): string {
  return PARAMETER_NAMES[key] ?? key;
}

/** A run's parameters as compared across runs: the strategy, then the lock's parameters (k, ρ, λ, τ, form, …). */
function runParameters(run: RunHistoryEntry): Record<string, unknown> {
  return { strategy: run.strategy, ...(run.parameters ?? {}) };
}

/** The parameters whose values differ between the runs (in a stable order): what tells the runs apart. */
export function differingParameters(history: RunHistoryEntry[]): string[] {
  const keys = new Set<string>();
  for (const run of history) for (const k of Object.keys(runParameters(run))) keys.add(k);
  const order = ['strategy', 'k', 'rho', 'lambda', 'form', 'temperature'];
  return [...keys]
    .filter((k) => new Set(history.map((run) => JSON.stringify(runParameters(run)[k] ?? null))).size > 1)
    .sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
}

export function parameterText(run: RunHistoryEntry, key: string): string {
  const value = runParameters(run)[key];
  if (value === undefined || value === null) return '—';
  if (typeof value === 'number') return String(Number(value.toPrecision(3)));
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `#2 sparse ρ=0.25`: the number and the parameters that differ from the other runs. */
export function runLabel(run: RunHistoryEntry, index: number, differing: string[] = []): string {
  const parts = [`#${index + 1}`];
  for (const key of differing) {
    const text = parameterText(run, key);
    parts.push(key === 'strategy' ? text : `${parameterName(key)}=${text}`);
  }
  if (differing.length === 0 && run.strategy) parts.push(run.strategy);
  return parts.join(' ');
}

/** `01-02 10:00` (UTC, as recorded): short enough for a table cell, still ordered. */
export function shortTime(iso: string | undefined): string {
  if (!iso) return '';
  const m = /^\d{4}-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  return m ? `${m[1]}-${m[2]} ${m[3]}:${m[4]}` : iso;
}

/** One y axis per metric (accuracy and loss have different ranges), alternating left and right. */
export function metricsChartConfig(history: RunHistoryEntry[], theme: ChartTheme): ChartConfiguration<'line'> {
  const differing = differingParameters(history);
  // `samples` (how many the evaluator scored) is a count, not a quality: in the table, not on an axis.
  const metrics = metricNames(history).filter((m) => m !== 'samples');
  const options = baseOptions(theme, 'run', 'value');
  const scales: Record<string, unknown> = { x: options.scales.x };
  const metricColor = (i: number) => withAlpha(theme.foreground, i % 2 === 0 ? 1 : 0.6);
  metrics.forEach((metric, i) => {
    const color = metricColor(i);
    scales[`y${i}`] = {
      ...options.scales.y,
      position: i % 2 === 0 ? 'left' : 'right',
      title: { display: true, text: metric, color },
      ticks: { color },
      grid: { ...options.scales.y.grid, drawOnChartArea: i === 0 },
    };
  });
  return {
    type: 'line',
    data: {
      labels: history.map((run, i) => runLabel(run, i, differing)),
      datasets: metrics.map((metric, i) => {
        const color = metricColor(i);
        return {
          label: metric,
          yAxisID: `y${i}`,
          data: history.map((run) => (typeof run.metrics?.[metric] === 'number' ? run.metrics[metric] : null)),
          borderColor: color,
          backgroundColor: color,
          spanGaps: true,
          // Colour = strategy, as in every chart: each point is filled with its run's strategy colour.
          pointBackgroundColor: history.map((run) => strategyColor(theme, run.strategy) ?? color),
          pointBorderColor: color,
          pointRadius: 5,
          pointStyle: MARKERS[i % MARKERS.length],
          borderDash: DASHES[i % DASHES.length],
        };
      }),
    },
    // the legend shows each metric's marker, as the λ-path's does (a dashed box read as a blob)
    options: { ...options, plugins: { ...options.plugins, legend: { ...options.plugins.legend, labels: { ...options.plugins.legend.labels, usePointStyle: true } } }, scales } as typeof options,
  };
}
