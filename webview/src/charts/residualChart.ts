/** The residual chart: each strategy's residual ‖t − Σwᵢpᵢ‖ against how many adapters it uses. */
import type { ChartConfiguration } from 'chart.js';
import type { PlanJson } from '../../../server/src/engine/types';
import type { ChartTheme } from '../theme';
import { baseOptions, MARKERS, strategiesOf } from './common';

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
