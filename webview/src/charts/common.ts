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

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement,
  PointElement, ScatterController, Legend, Title, Tooltip);

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
      legend: { position: 'bottom' as const, labels: { color: theme.foreground, boxWidth: 12 } },
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
