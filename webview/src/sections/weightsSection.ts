/** Weights by strategy: the weights chart and its table. */
import type { PlanJson } from '../../../server/src/engine/types';
import { ownValue } from '../../../server/src/engine/nameTable';
import { drawChart, strategiesOf } from '../charts/common';
import { weightsChartConfig } from '../charts/weightsChart';
import type { ChartTheme } from '../theme';
import { type Built, caption, chartBox, dataTable, formatWeight, section } from './parts';

export function weightsSection(plan: PlanJson, theme: ChartTheme): Built {
  const names = plan.candidates.map((c) => c.name);
  const strategies = strategiesOf(plan);
  const { box, canvas } = chartBox('weights-chart',
    `Grouped bar chart: weights of ${names.length} adapters under ${strategies.length} strategies; the selected strategy is ${plan.strategy}.`);
  const table = dataTable('Weights by strategy', ['adapter', ...strategies.map(([s]) => (s === plan.strategy ? `${s} (selected)` : s))],
    names.map((n) => [n, ...strategies.map(([, r]) => formatWeight(ownValue(r.weights, n) ?? 0))]));
  return { node: section('weights', 'Weights by strategy',
    caption('weights', 'Each adapter\'s weight under each strategy (colour = strategy, the same in every chart); the selected strategy is solid, the others faded.'),
    box, table), draw: () => drawChart(canvas, weightsChartConfig(plan, theme)) };
}
