/** The leave-one-out chart: the mean relative ΔW error to the held-out adapters, one bar per strategy. */
import type { ChartConfiguration } from 'chart.js';
import type { EvaluationResult } from '../../../server/src/protocol';
import type { ChartTheme } from '../theme';
import { inStrategyOrder, strategyBarsConfig } from './common';

/** Strategies of a leave-one-out result that have a summary row, in the canonical order. */
export function looStrategies(result: EvaluationResult): string[] {
  return inStrategyOrder(result.leaveOneOut.strategies.filter((s) => result.leaveOneOut.summary[s]));
}

/** Mean relative ΔW error to the held-out adapters, one bar per strategy (colour = strategy). */
export function leaveOneOutChartConfig(result: EvaluationResult, theme: ChartTheme): ChartConfiguration<'bar'> {
  const strategies = looStrategies(result);
  return strategyBarsConfig(theme, 'mean relative ΔW error (lower is better)', 'mean relative ΔW error',
    strategies, strategies.map((s) => result.leaveOneOut.summary[s]!.mean_delta_rel_error));
}
