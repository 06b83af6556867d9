/** The weights chart: one group of bars per adapter, one bar per strategy, the selected strategy solid. */
import type { ChartConfiguration } from 'chart.js';
import type { PlanJson } from '../../../server/src/engine/types';
import { ownValue } from '../../../server/src/engine/nameTable';
import { type ChartTheme, withAlpha } from '../theme';
import { baseOptions, shortLabel, strategiesOf, zeroLine } from './common';

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
    options: {
      ...options,
      scales: {
        ...options.scales,
        // every adapter named (Chart.js skipped every other label at k = 16), long names shortened in the middle
        x: { ...options.scales.x, ticks: { ...options.scales.x.ticks, autoSkip: false, callback: (_value: unknown, index: number) => shortLabel(names[index] ?? '') } },
        y: { ...options.scales.y, grid: { color: zeroLine(theme) } },
      },
    },
  };
}
