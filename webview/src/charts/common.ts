/**
 * What every chart of the weights panel shares, built with Chart.js under a strict CSP (no eval, no inline styles):
 * only the components used are registered, and animation is off so a render is deterministic. The axes and
 * legend in the theme's colours, the zero line, the markers and dashes that tell adapters and metrics apart
 * (colour means strategy), and drawing / freeing a chart on a canvas. One chart per file beside this one.
 */
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement,
  PointElement, ScatterController, Title, Tooltip,
  type ChartConfiguration, type Plugin,
} from 'chart.js';
import type { PlanJson, Strategy, StrategyResult } from '../../../server/src/engine/types';
import { STRATEGIES } from '../../../server/src/engine/types';
import type { ChartTheme } from '../theme';

/** Longest chart-axis label drawn in full; longer ones keep their head and their distinguishing end. */
const MAX_LABEL = 30;

/** `meta-llama-3.1-8b-instruct-medical-qa-lora-r16-v1` → `meta-llama-…al-qa-lora-r16-v1` (the full name is in the tooltip and the table). */
export function shortLabel(name: string): string {
  return name.length <= MAX_LABEL ? name : `${name.slice(0, 11)}…${name.slice(-(MAX_LABEL - 12))}`;
}

interface HitBox { left: number; top: number; width: number; height: number }

/** The tallest a chart box grows to make room for its legend and axis labels; the least plot height it grows for. */
const MAX_BOX_HEIGHT = 2000;
const MIN_PLOT = 160;

/**
 * Every chart: when legend entries fall below the canvas (Chart.js gives a bottom legend at most half the
 * height and silently drops the rest — with 16 adapters the λ-path legend stopped after 6), or when axis labels
 * leave the plot under MIN_PLOT tall, the chart's box grows until they fit (Chart.js redraws on the resize). After each draw the canvas says what it drew:
 * `data-x-labels` (the x-axis labels shown), `data-plot-height`, `data-legend-items`, `data-legend-hidden`, `data-legend-point-style`.
 */
const fitLegend: Plugin = {
  id: 'fitLegend',
  afterDraw(chart) {
    const canvas = chart.canvas;
    const x = chart.scales.x;
    if (x) canvas.dataset.xLabels = JSON.stringify(x.ticks.map((t) => (Array.isArray(t.label) ? t.label.join(' ') : String(t.label ?? ''))));
    canvas.dataset.plotHeight = String(Math.round(chart.chartArea.height));
    const legend = chart.legend;
    if (!legend || legend.options.display === false) {
      canvas.dataset.legendHidden = '0';
      return;
    }
    // Chart.js keeps each entry's box in legendHitBoxes (not in its public types)
    const boxes = (legend as unknown as { legendHitBoxes?: HitBox[] }).legendHitBoxes ?? [];
    const hidden = boxes.filter((b) => b.top + b.height > chart.height + 0.5 || b.left + b.width > chart.width + 0.5);
    canvas.dataset.legendItems = String(boxes.length);
    canvas.dataset.legendHidden = String(hidden.length);
    canvas.dataset.legendPointStyle = String(Boolean(legend.options.labels.usePointStyle));
    const box = canvas.parentElement;
    if (!box) return;
    let grow = 0;
    // the legend may take half of what is added (the other half is the plot's)
    if (hidden.length) grow = 2 * Math.max(Math.max(...hidden.map((b) => b.top + b.height)) - chart.height + 10, 20);
    // long rotated axis labels (16 Hub-style names) left a plot 100 px tall: keep it at least MIN_PLOT
    else if (chart.chartArea.height < MIN_PLOT) grow = MIN_PLOT - chart.chartArea.height;
    if (grow > 0 && box.clientHeight < MAX_BOX_HEIGHT) box.style.height = `${Math.min(MAX_BOX_HEIGHT, Math.ceil(box.clientHeight + grow))}px`;
  },
};

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement,
  PointElement, ScatterController, Legend, Title, Tooltip, fitLegend);

/** Strategies present in the plan, in the canonical order. */
export function strategiesOf(plan: PlanJson): [Strategy, StrategyResult][] {
  return STRATEGIES.filter((s) => plan.strategies[s]).map((s) => [s, plan.strategies[s] as StrategyResult]);
}

export function baseOptions(theme: ChartTheme, xTitle: string, yTitle: string) {
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
      legend: { position: 'bottom' as const, labels: { color: theme.foreground, boxWidth: 12, usePointStyle: false } },
      tooltip: { enabled: true },
    },
    scales: { x: axis(xTitle), y: axis(yTitle) },
  };
}

/** A darker grid line at y = 0 so negative weights read as negative. */
export function zeroLine(theme: ChartTheme) {
  return (ctx: { tick?: { value: number } }) => (ctx.tick?.value === 0 ? theme.zero : theme.grid);
}

export const MARKERS = ['circle', 'rect', 'triangle', 'rectRot', 'star', 'crossRot', 'rectRounded'] as const;
export const DASHES = [[], [6, 3], [2, 3], [8, 3, 2, 3]];

export function strategyColor(theme: ChartTheme, strategy: string | undefined): string | undefined {
  return strategy && strategy in theme.strategy ? theme.strategy[strategy as Strategy] : undefined;
}

/** Strategy names in the canonical order (STRATEGIES), names it does not know last. */
export function inStrategyOrder(names: string[]): string[] {
  const known = STRATEGIES as readonly string[];
  return [...names].sort((a, b) => (known.indexOf(a) + 1 || 99) - (known.indexOf(b) + 1 || 99));
}

/** One bar per strategy (colour = strategy), no legend, the y axis from 0 (up to at least `suggestedMax`). */
export function strategyBarsConfig(
  theme: ChartTheme, yTitle: string, label: string, strategies: string[], values: (number | null)[],
  extra: { suggestedMax?: number; plugins?: Plugin<'bar'>[] } = {},
): ChartConfiguration<'bar'> {
  const options = baseOptions(theme, 'strategy', yTitle);
  return {
    type: 'bar',
    data: {
      labels: strategies,
      datasets: [{
        label,
        data: values,
        backgroundColor: strategies.map((s) => strategyColor(theme, s) ?? theme.foreground),
        borderColor: theme.foreground,
        borderWidth: 1,
      }],
    },
    options: {
      ...options,
      plugins: { ...options.plugins, legend: { display: false } },
      scales: {
        ...options.scales,
        y: { ...options.scales.y, beginAtZero: true, ...(extra.suggestedMax !== undefined ? { suggestedMax: extra.suggestedMax } : {}) },
      },
    },
    ...(extra.plugins ? { plugins: extra.plugins } : {}),
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
