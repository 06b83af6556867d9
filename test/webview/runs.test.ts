/** The runs chart and labels (webview/src/charts/runsChart.ts) and the residual chart's spread as pure functions: one y axis per metric, what differs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { differingParameters, metricsChartConfig, runLabel, shortTime } from '../../webview/src/charts/runsChart';
import { spreadOverlaps } from '../../webview/src/charts/residualChart';
import type { ChartTheme } from '../../webview/src/theme';

const theme = { foreground: '#000', muted: '#111', grid: '#222', zero: '#333', marker: '#444', fontFamily: 'sans', series: ['#a00', '#0a0', '#00a'], strategy: {} } as unknown as ChartTheme;
const history = [
  { time: '2026-01-02T10:00:00Z', strategy: 'sparse', parameters: { k: 5, rho: 0.25, form: 'constrained' }, metrics: { accuracy: 0.61, nll: 1.4 } },
  { time: '2026-01-02T11:00:00Z', strategy: 'convex', parameters: { k: 8, form: 'constrained' }, metrics: { accuracy: 0.66, nll: 1.2 } },
];

test('each metric gets its own y axis, titled with the metric', () => {
  const config = metricsChartConfig(history, theme);
  const datasets = config.data.datasets;
  assert.deepEqual(datasets.map((d) => d.label), ['accuracy', 'nll']);
  assert.notEqual(datasets[0].yAxisID, datasets[1].yAxisID);
  const scales = config.options!.scales as Record<string, { title: { text: string } }>;
  for (const d of datasets) assert.equal(scales[d.yAxisID!].title.text, d.label);
});

test('labels runs by the parameters that differ, and shortens the time', () => {
  assert.deepEqual(differingParameters(history), ['strategy', 'k', 'rho']);
  assert.equal(runLabel(history[0], 0, differingParameters(history)), '#1 sparse k=5 ρ=0.25');
  assert.equal(runLabel(history[1], 1, differingParameters(history)), '#2 convex k=8 ρ=—');
  assert.equal(shortTime('2026-01-02T11:07:59.999Z'), '01-02 11:07');
});

test('strategies at the same number of non-zero weights are set side by side, the others stay put', () => {
  const xs = spreadOverlaps([{ key: 'lin', x: 5 }, { key: 'sim', x: 5 }, { key: 'avg', x: 5 }, { key: 'sparse', x: 5 }, { key: 'nearest', x: 1 }]);
  assert.equal(xs.nearest, 1);
  const tied = ['lin', 'sim', 'avg', 'sparse'].map((k) => xs[k]);
  assert.equal(new Set(tied).size, 4, 'no two at the same x');
  assert.ok(tied.every((x) => Math.abs(x - 5) <= 0.15 + 1e-12), `${tied} stay near 5`);
  assert.ok(Math.abs(tied.reduce((s, x) => s + x, 0) / 4 - 5) < 1e-12, 'centred on 5');
});

test('each run\'s points are filled with its strategy colour (colour = strategy in every chart)', () => {
  const coloured = { ...theme, strategy: { sparse: '#aa00aa', convex: '#00aa00' } } as unknown as ChartTheme;
  const config = metricsChartConfig(history, coloured);
  for (const d of config.data.datasets) assert.deepEqual(d.pointBackgroundColor, history.map((run) => (coloured.strategy as Record<string, string>)[run.strategy]));
});

test('the evaluator\'s sample count stays in the table, off the chart\'s axes', () => {
  const counted = history.map((run) => ({ ...run, metrics: { ...run.metrics, samples: 600 } }));
  assert.deepEqual(metricsChartConfig(counted, theme).data.datasets.map((d) => d.label), ['accuracy', 'nll']);
});
