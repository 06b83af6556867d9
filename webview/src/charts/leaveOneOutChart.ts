/** The leave-one-out chart: the mean relative ΔW error to the held-out adapters, one bar per strategy. */
import type { ChartConfiguration } from 'chart.js';
import { STRATEGIES } from '../../../server/src/engine/types';
import type { EvaluationResult } from '../../../server/src/protocol';
import type { ChartTheme } from '../theme';
import { baseOptions, strategyColor } from './common';

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
