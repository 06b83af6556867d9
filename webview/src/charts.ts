/**
 * The four charts of the weights panel, built with Chart.js under a strict CSP (no eval, no inline styles):
 * only the components used are registered, and animation is off so a render is deterministic.
 */
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement,
  PointElement, ScatterController, Title, Tooltip,
  type ChartConfiguration, type Plugin,
} from 'chart.js';
import type { LambdaPath, PlanJson, Strategy, StrategyResult } from '../../server/src/engine/types';
import { STRATEGIES } from '../../server/src/engine/types';
import type { EvaluationResult, RunHistoryEntry } from '../../server/src/protocol';
import { type ChartTheme, withAlpha } from './theme';
import { ownValue } from '../../server/src/engine/nameTable';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement,
  PointElement, ScatterController, Legend, Title, Tooltip);

/** Strategies present in the plan, in the canonical order. */
export function strategiesOf(plan: PlanJson): [Strategy, StrategyResult][] {
  return STRATEGIES.filter((s) => plan.strategies[s]).map((s) => [s, plan.strategies[s] as StrategyResult]);
}

function baseOptions(theme: ChartTheme, xTitle: string, yTitle: string) {
  const axis = (title: string) => ({
    title: { display: true, text: title, color: theme.muted },
    ticks: { color: theme.foreground },
    grid: { color: theme.grid },
    border: { color: theme.grid },
  });
  return {
    animation: false as const,
    responsive: true,
    maintainAspectRatio: false,
    color: theme.foreground,
    font: { family: theme.fontFamily },
    plugins: {
      legend: { position: 'bottom' as const, labels: { color: theme.foreground, boxWidth: 12 } },
      tooltip: { enabled: true },
    },
    scales: { x: axis(xTitle), y: axis(yTitle) },
  };
}

/** A darker grid line at y = 0 so negative weights read as negative. */
function zeroLine(theme: ChartTheme) {
  return (ctx: { tick?: { value: number } }) => (ctx.tick?.value === 0 ? theme.zero : theme.grid);
}

export function weightsChartConfig(plan: PlanJson, theme: ChartTheme): ChartConfiguration<'bar'> {
  const names = plan.candidates.map((c) => c.name);
  const options = baseOptions(theme, 'adapter (nearest first)', 'weight');
  return {
    type: 'bar',
    data: {
      labels: names,
      datasets: strategiesOf(plan).map(([strategy, result]) => {
        const selected = strategy === plan.strategy;
        const color = theme.strategy[strategy];
        return {
          label: selected ? `${strategy} (selected)` : strategy,
          data: names.map((n) => ownValue(result.weights, n) ?? 0),
          backgroundColor: selected ? color : withAlpha(color, 0.4),
          borderColor: selected ? theme.foreground : color,
          borderWidth: selected ? 2 : 1,
        };
      }),
    },
    options: { ...options, scales: { ...options.scales, y: { ...options.scales.y, grid: { color: zeroLine(theme) } } } },
  };
}

/** A vertical line at the recipe's λ; `current.value` is read at draw time so the slider can move it. */
function lambdaMarker(current: { value: number | undefined }, theme: ChartTheme, lambdaStar = 0): Plugin<'scatter'> {
  return {
    id: 'lambdaMarker',
    afterDatasetsDraw(chart) {
      if (current.value === undefined) return;
      const x = chart.scales.x.getPixelForValue(current.value);
      const { top, bottom } = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = theme.marker;
      ctx.lineWidth = 2;
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = theme.marker;
      ctx.font = `12px ${theme.fontFamily}`;
      ctx.textAlign = x > (chart.chartArea.left + chart.chartArea.right) / 2 ? 'right' : 'left';
      const rho = lambdaStar > 0 ? ` · ρ = ${(current.value / lambdaStar).toPrecision(3)}` : '';
      ctx.fillText(` λ = ${current.value.toPrecision(3)}${rho} `, x, top + 12);
      ctx.restore();
    },
  };
}

export function lambdaPathChartConfig(
  path: LambdaPath,
  current: { value: number | undefined },
  theme: ChartTheme,
  onPick: (lambda: number) => void,
): ChartConfiguration<'scatter'> {
  const end = (path.form ?? 'constrained') === 'lasso' ? 'λ* = all 0; raw weights, before Σw = 1' : 'λ* = convex';
  const options = baseOptions(theme, `λ = ρ·λ* (${path.form ?? 'constrained'} form; 0 = lin, ${end})`, 'weight');
  const points = [...path.breakpoints].sort((a, b) => a.lambda - b.lambda);
  return {
    type: 'scatter',
    data: {
      // Colour is reserved for strategies: adapters are told apart by marker, dash and shade.
      datasets: path.names.map((name, i) => {
        const color = withAlpha(theme.foreground, 1 - 0.5 * ((i % 3) / 2));
        return {
          label: name,
          data: points.map((b) => ({ x: b.lambda, y: b.weights[i] })),
          showLine: true,
          borderColor: color,
          backgroundColor: color,
          borderDash: DASHES[i % DASHES.length],
          pointStyle: MARKERS[i % MARKERS.length],
          pointRadius: 4,
          tension: 0,
        };
      }),
    },
    options: {
      ...options,
      scales: {
        x: { ...options.scales.x, type: 'linear', min: 0, max: path.lambda_star > 0 ? path.lambda_star : 1 },
        y: { ...options.scales.y, grid: { color: zeroLine(theme) } },
      },
      onClick: (event, _elements, chart) => {
        if (event.x === null || event.x === undefined) return;
        const { left, right } = chart.chartArea;
        if (event.x < left || event.x > right) return;
        onPick(chart.scales.x.getValueForPixel(event.x) ?? 0);
      },
    },
    plugins: [lambdaMarker(current, theme, path.lambda_star)],
  };
}

const MARKERS = ['circle', 'rect', 'triangle', 'rectRot', 'star', 'crossRot', 'rectRounded'] as const;
const DASHES = [[], [6, 3], [2, 3], [8, 3, 2, 3]];

/**
 * Strategies with the same number of non-zero weights (four at x = 5, say) are spread side by side around
 * their x, each with its own marker, so none hides another; the table beside the chart has the exact values.
 */
export function spreadOverlaps(points: { key: string; x: number }[], width = 0.3): Record<string, number> {
  const out: Record<string, number> = {};
  const byX = new Map<number, string[]>();
  for (const p of points) byX.set(p.x, [...(byX.get(p.x) ?? []), p.key]);
  for (const [x, keys] of byX) {
    keys.forEach((key, i) => {
      out[key] = keys.length === 1 ? x : x - width / 2 + (width * i) / (keys.length - 1);
    });
  }
  return out;
}

export function residualChartConfig(plan: PlanJson, theme: ChartTheme): ChartConfiguration<'scatter'> {
  const options = baseOptions(theme, 'non-zero weights (adapters used)', 'residual ‖t − Σwᵢpᵢ‖ (lower is closer)');
  const strategies = strategiesOf(plan);
  const xs = spreadOverlaps(strategies.map(([s, r]) => ({ key: s, x: r.nonzero })));
  return {
    type: 'scatter',
    data: {
      datasets: strategies.map(([strategy, result], i) => {
        const selected = strategy === plan.strategy;
        return {
          label: selected ? `${strategy} (selected)` : strategy,
          data: [{ x: xs[strategy], y: result.residual }],
          backgroundColor: theme.strategy[strategy],
          borderColor: selected ? theme.foreground : theme.strategy[strategy],
          borderWidth: selected ? 2 : 1,
          pointRadius: selected ? 8 : 6,
          pointStyle: MARKERS[i % MARKERS.length],
        };
      }),
    },
    options: {
      ...options,
      scales: {
        x: { ...options.scales.x, type: 'linear', min: 0, max: Math.max(1, plan.candidates.length) + 0.5, ticks: { ...options.scales.x.ticks, stepSize: 1 } },
        y: { ...options.scales.y, beginAtZero: true },
      },
    },
  };
}

export function metricNames(history: RunHistoryEntry[]): string[] {
  return [...new Set(history.flatMap((run) => Object.keys(run.metrics ?? {})))].sort();
}

const PARAMETER_NAMES: Record<string, string> = { rho: 'ρ', lambda: 'λ', temperature: 'τ', k: 'k', form: 'form' };

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
    parts.push(key === 'strategy' ? text : `${PARAMETER_NAMES[key] ?? key}=${text}`);
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
    options: { ...options, scales } as typeof options,
  };
}

function strategyColor(theme: ChartTheme, strategy: string | undefined): string | undefined {
  return strategy && strategy in theme.strategy ? theme.strategy[strategy as Strategy] : undefined;
}

/** Strategies of a leave-one-out result that have a summary row, in the canonical order. */
export function looStrategies(result: EvaluationResult): string[] {
  const known = STRATEGIES as readonly string[];
  return result.leaveOneOut.strategies.filter((s) => result.leaveOneOut.summary[s]).sort((a, b) => (known.indexOf(a) + 1 || 99) - (known.indexOf(b) + 1 || 99));
}

/** Mean relative ΔW error to the held-out adapters, one bar per strategy (colour = strategy). */
export function leaveOneOutChartConfig(result: EvaluationResult, theme: ChartTheme): ChartConfiguration<'bar'> {
  const strategies = looStrategies(result);
  const options = baseOptions(theme, 'strategy', 'mean relative ΔW error (lower is better)');
  return {
    type: 'bar',
    data: {
      labels: strategies,
      datasets: [{
        label: 'mean relative ΔW error',
        data: strategies.map((s) => result.leaveOneOut.summary[s]!.mean_delta_rel_error),
        backgroundColor: strategies.map((s) => strategyColor(theme, s) ?? theme.foreground),
        borderColor: theme.foreground,
        borderWidth: 1,
      }],
    },
    options: {
      ...options,
      plugins: { ...options.plugins, legend: { display: false } },
      scales: { ...options.scales, y: { ...options.scales.y, beginAtZero: true } },
    },
  };
}

/** One row per entry scored by the recipe's evaluator: the base model, the held-out adapter, each strategy. */
export interface MetricEntry {
  entry: string;
  kind: 'base' | 'held-out' | 'strategy';
  metrics: Record<string, number>;
  status?: string;
  message?: string;
}

/** The evaluator's metrics of this recipe (its first target), base and held-out first, then each strategy. */
export function metricEntries(result: EvaluationResult): MetricEntry[] {
  const target = result.metrics?.targets[0];
  if (!target) return [];
  const known = STRATEGIES as readonly string[];
  const rows: MetricEntry[] = [];
  if (target.base) rows.push({ entry: 'base model', kind: 'base', metrics: target.base });
  if (target.held_out_metrics) rows.push({ entry: `held-out (${target.held_out})`, kind: 'held-out', metrics: target.held_out_metrics });
  const strategies = Object.keys(target.strategies).sort((a, b) => (known.indexOf(a) + 1 || 99) - (known.indexOf(b) + 1 || 99));
  for (const s of strategies) {
    const r = target.strategies[s]!;
    rows.push({ entry: s, kind: 'strategy', metrics: r.metrics, status: r.status, ...(r.message ? { message: r.message } : {}) });
  }
  return rows;
}

/** Metric names of the entries (without `samples`, a count), sorted. */
export function entryMetricNames(rows: MetricEntry[]): string[] {
  return [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))].filter((m) => m !== 'samples').sort();
}

/** Horizontal reference lines (the base model, the held-out adapter) across a bar chart, each labelled. */
function referenceLines(lines: { value: number; label: string; dash: number[] }[], theme: ChartTheme): Plugin<'bar'> {
  return {
    id: 'referenceLines',
    afterDatasetsDraw(chart) {
      const { left, right } = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = theme.foreground;
      ctx.fillStyle = theme.foreground;
      ctx.lineWidth = 2;
      ctx.font = `11px ${theme.fontFamily}`;
      ctx.textAlign = 'right';
      for (const line of lines) {
        const y = chart.scales.y.getPixelForValue(line.value);
        ctx.setLineDash(line.dash);
        ctx.beginPath();
        ctx.moveTo(left, y);
        ctx.lineTo(right, y);
        ctx.stroke();
        ctx.fillText(`${line.label} ${Number(line.value.toPrecision(3))}`, right - 4, y - 4);
      }
      ctx.setLineDash([]);
      ctx.restore();
    },
  };
}

/**
 * One metric of this recipe's composites: one bar per strategy (colour = strategy), with the base model
 * (dashed) and the held-out adapter (dotted; trained on the target's labels: the upper bound) as reference lines.
 */
export function strategyMetricChartConfig(rows: MetricEntry[], metric: string, theme: ChartTheme): ChartConfiguration<'bar'> {
  const lower = /loss|nll|error|perplexity/i.test(metric);
  const options = baseOptions(theme, 'strategy', `${metric} (${lower ? 'lower' : 'higher'} is better)`);
  const bars = rows.filter((r) => r.kind === 'strategy');
  const refs = rows.filter((r) => r.kind !== 'strategy' && typeof r.metrics[metric] === 'number')
    .map((r) => ({ value: r.metrics[metric], label: r.kind === 'base' ? 'base model' : 'held-out', dash: r.kind === 'base' ? [6, 4] : [2, 3] }));
  return {
    type: 'bar',
    data: {
      labels: bars.map((r) => r.entry),
      datasets: [{
        label: metric,
        data: bars.map((r) => (typeof r.metrics[metric] === 'number' ? r.metrics[metric] : null)),
        backgroundColor: bars.map((r) => strategyColor(theme, r.entry) ?? theme.foreground),
        borderColor: theme.foreground,
        borderWidth: 1,
      }],
    },
    options: {
      ...options,
      plugins: { ...options.plugins, legend: { display: false } },
      scales: {
        ...options.scales,
        y: { ...options.scales.y, beginAtZero: true, ...(refs.length ? { suggestedMax: Math.max(...refs.map((r) => r.value)) * 1.08 } : {}) },
      },
    },
    plugins: [referenceLines(refs, theme)],
  };
}

/** Creates a chart on a canvas, replacing the one drawn there before. */
export function drawChart(canvas: HTMLCanvasElement, config: ChartConfiguration<'bar' | 'scatter' | 'line'>): Chart {
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, config);
}

export function redraw(canvas: HTMLCanvasElement): void {
  Chart.getChart(canvas)?.draw();
}

/** Frees the charts drawn inside `root` before it is cleared. */
export function destroyCharts(root: HTMLElement): void {
  for (const canvas of Array.from(root.querySelectorAll('canvas'))) Chart.getChart(canvas)?.destroy();
}
