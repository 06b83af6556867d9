/**
 * The task metrics of this recipe's composites (the recipe's evaluator): the rows scored (base model,
 * held-out adapter, each strategy) and one bar chart per metric with the base and held-out as reference lines.
 */
import type { ChartConfiguration, Plugin } from 'chart.js';
import type { EvaluationResult } from '../../../server/src/protocol';
import type { ChartTheme } from '../theme';
import { inStrategyOrder, strategyBarsConfig } from './common';

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
  const rows: MetricEntry[] = [];
  if (target.base) rows.push({ entry: 'base model', kind: 'base', metrics: target.base });
  if (target.held_out_metrics) rows.push({ entry: `held-out (${target.held_out})`, kind: 'held-out', metrics: target.held_out_metrics });
  const strategies = inStrategyOrder(Object.keys(target.strategies));
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
  const bars = rows.filter((r) => r.kind === 'strategy');
  const refs = rows.filter((r) => r.kind !== 'strategy' && typeof r.metrics[metric] === 'number')
    .map((r) => ({ value: r.metrics[metric], label: r.kind === 'base' ? 'base model' : 'held-out', dash: r.kind === 'base' ? [6, 4] : [2, 3] }));
  return strategyBarsConfig(theme, `${metric} (${lower ? 'lower' : 'higher'} is better)`, metric,
    bars.map((r) => r.entry), bars.map((r) => (typeof r.metrics[metric] === 'number' ? r.metrics[metric] : null)),
    { ...(refs.length ? { suggestedMax: Math.max(...refs.map((r) => r.value)) * 1.08 } : {}), plugins: [referenceLines(refs, theme)] });
}
