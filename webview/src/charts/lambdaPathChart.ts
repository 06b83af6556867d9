/**
 * The sparse λ-path chart: each adapter's weight from λ = 0 (lin) to λ* (one line per adapter), with the
 * recipe's λ as a vertical marker that the slider moves and a click on the chart picks.
 */
import type { ChartConfiguration, Plugin } from 'chart.js';
import type { LambdaPath } from '../../../server/src/engine/types';
import { type ChartTheme, withAlpha } from '../theme';
import { baseOptions, DASHES, MARKERS, zeroLine } from './common';

/** A vertical line at the recipe's λ; `current.value` is read at draw time so the slider can move it. */
function lambdaMarker(current: { value: number | undefined }, theme: ChartTheme, lambdaStar = 0): Plugin<'scatter'> {
  return {
    id: 'lambdaMarker',
    afterDatasetsDraw(chart) {
      if (current.value === undefined) return;
      const x = chart.scales.x.getPixelForValue(current.value);
      const { top, bottom } = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = theme.marker;
      ctx.lineWidth = 2;
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = theme.marker;
      ctx.font = `12px ${theme.fontFamily}`;
      ctx.textAlign = x > (chart.chartArea.left + chart.chartArea.right) / 2 ? 'right' : 'left';
      const rho = lambdaStar > 0 ? ` · ρ = ${(current.value / lambdaStar).toPrecision(3)}` : '';
      ctx.fillText(` λ = ${current.value.toPrecision(3)}${rho} `, x, top + 12);
      ctx.restore();
    },
  };
}

export function lambdaPathChartConfig(
  path: LambdaPath,
  current: { value: number | undefined },
  theme: ChartTheme,
  onPick: (lambda: number) => void,
): ChartConfiguration<'scatter'> {
  const end = (path.form ?? 'constrained') === 'lasso' ? 'λ* = all 0; raw weights, before Σw = 1' : 'λ* = convex';
  const options = baseOptions(theme, `λ = ρ·λ* (${path.form ?? 'constrained'} form; 0 = lin, ${end})`, 'weight');
  const points = [...path.breakpoints].sort((a, b) => a.lambda - b.lambda);
  return {
    type: 'scatter',
    data: {
      // Colour is reserved for strategies: adapters are told apart by marker, dash and shade.
      datasets: path.names.map((name, i) => {
        const color = withAlpha(theme.foreground, 1 - 0.5 * ((i % 3) / 2));
        return {
          label: name,
          data: points.map((b) => ({ x: b.lambda, y: b.weights[i] })),
          showLine: true,
          borderColor: color,
          backgroundColor: color,
          borderDash: DASHES[i % DASHES.length],
          pointStyle: MARKERS[i % MARKERS.length],
          pointRadius: 4,
          tension: 0,
        };
      }),
    },
    options: {
      ...options,
      // the legend shows each line's marker (the default box, drawn with the line's dash, was an unreadable blob)
      plugins: { ...options.plugins, legend: { ...options.plugins.legend, labels: { ...options.plugins.legend.labels, usePointStyle: true } } },
      scales: {
        x: { ...options.scales.x, type: 'linear', min: 0, max: path.lambda_star > 0 ? path.lambda_star : 1 },
        y: { ...options.scales.y, grid: { color: zeroLine(theme) } },
      },
      onClick: (event, _elements, chart) => {
        if (event.x === null || event.x === undefined) return;
        const { left, right } = chart.chartArea;
        if (event.x < left || event.x > right) return;
        onPick(chart.scales.x.getValueForPixel(event.x) ?? 0);
      },
    },
    plugins: [lambdaMarker(current, theme, path.lambda_star)],
  };
}
