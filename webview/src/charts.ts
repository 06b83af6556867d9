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
import type { RunHistoryEntry } from './viewState';
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
      datasets: path.names.map((name, i) => {
        const color = theme.series[i % theme.series.length];
        return {
          label: name,
          data: points.map((b) => ({ x: b.lambda, y: b.weights[i] })),
          showLine: true,
          borderColor: color,
          backgroundColor: color,
          borderDash: i >= theme.series.length ? [6, 3] : [],
          pointRadius: 3,
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

export function residualChartConfig(plan: PlanJson, theme: ChartTheme): ChartConfiguration<'scatter'> {
  const options = baseOptions(theme, 'non-zero weights', 'residual ‖t − Σwᵢpᵢ‖');
  return {
    type: 'scatter',
    data: {
      datasets: strategiesOf(plan).map(([strategy, result]) => {
        const selected = strategy === plan.strategy;
        return {
          label: selected ? `${strategy} (selected)` : strategy,
          data: [{ x: result.nonzero, y: result.residual }],
          backgroundColor: theme.strategy[strategy],
          borderColor: selected ? theme.foreground : theme.strategy[strategy],
          borderWidth: selected ? 2 : 1,
          pointRadius: selected ? 8 : 5,
          pointStyle: selected ? 'rectRot' : 'circle',
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

export function runLabel(run: RunHistoryEntry, index: number): string {
  return `#${index + 1}${run.strategy ? ` ${run.strategy}` : ''}`;
}

export function metricsChartConfig(history: RunHistoryEntry[], theme: ChartTheme): ChartConfiguration<'line'> {
  return {
    type: 'line',
    data: {
      labels: history.map(runLabel),
      datasets: metricNames(history).map((metric, i) => {
        const color = theme.series[i % theme.series.length];
        return {
          label: metric,
          data: history.map((run) => (typeof run.metrics?.[metric] === 'number' ? run.metrics[metric] : null)),
          borderColor: color,
          backgroundColor: color,
          spanGaps: true,
          pointRadius: 4,
        };
      }),
    },
    options: baseOptions(theme, 'run', 'value'),
  };
}

/** Creates a chart on a canvas, replacing the one drawn there before. */
export function drawChart(canvas: HTMLCanvasElement, config: ChartConfiguration<'bar' | 'scatter' | 'line'>): Chart {
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, config as ChartConfiguration);
}

export function redraw(canvas: HTMLCanvasElement): void {
  Chart.getChart(canvas)?.draw();
}

/** Frees the charts drawn inside `root` before it is cleared. */
export function destroyCharts(root: HTMLElement): void {
  for (const canvas of Array.from(root.querySelectorAll('canvas'))) Chart.getChart(canvas)?.destroy();
}
