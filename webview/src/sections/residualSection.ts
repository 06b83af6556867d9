/** Residual vs non-zero weights: the residual chart and its table. */
import type { PlanJson } from '../../../server/src/engine/types';
import { drawChart, strategiesOf } from '../charts/common';
import { residualChartConfig } from '../charts/residualChart';
import type { ChartTheme } from '../theme';
import { type Built, caption, chartBox, dataTable, formatNumber, section } from './parts';

export function residualSection(plan: PlanJson, theme: ChartTheme): Built {
  const strategies = strategiesOf(plan);
  const { box, canvas } = chartBox('residual-chart',
    `Scatter chart: residual against the number of non-zero weights for ${strategies.length} strategies.`);
  const table = dataTable('Residual and non-zero weights by strategy', ['strategy', 'non-zero weights', 'residual', 'objective'],
    strategies.map(([s, r]) => [s === plan.strategy ? `${s} (selected)` : s, String(r.nonzero), formatNumber(r.residual), formatNumber(r.objective)]));
  return { node: section('residual', 'Residual vs non-zero weights',
    caption('residual', 'Residual = ‖t − Σwᵢpᵢ‖, how far each strategy\'s weighted mix of prototypes is from the target (lower is closer), against how many adapters it uses; ties are set side by side.'),
    box, table), draw: () => drawChart(canvas, residualChartConfig(plan, theme)) };
}
