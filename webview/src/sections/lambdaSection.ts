/** The sparse λ-path section: the ρ slider and field, the λ-path chart, the weights at the chosen λ. */
import type { PlanJson } from '../../../server/src/engine/types';
import type { ViewState } from '../../../server/src/protocol';
import { drawChart, redraw } from '../charts/common';
import { lambdaPathChartConfig } from '../charts/lambdaPathChart';
import { clampLambda, weightsAt } from '../lambdaPath';
import type { ChartTheme } from '../theme';
import { type Built, caption, chartBox, dataTable, el, formatNumber, formatWeight, type PanelHost, section } from './parts';

/** How long the ρ control waits after the last change before it writes the recipe (one edit, not one per key). */
export const WRITE_BACK_PAUSE_MS = 400;

/** ρ as written back: 3 significant figures (0.05, 0.333), never a float like 0.0492896. */
export const roundRho = (rho: number) => Number(Math.min(Math.max(rho, 0), 1).toPrecision(3));

/**
 * The sparse strategy's control is the scale-free ρ ∈ [0, 1] (λ = ρ·λ*), with λ shown beside it. Both inputs
 * take any value (`step="any"`), so the recipe's value is never shown as invalid; moving them previews the
 * weights at once and writes the recipe on release or after a pause, rounded to 3 significant figures.
 */
export function lambdaSection(plan: PlanJson, state: ViewState, theme: ChartTheme, host: PanelHost): Built | null {
  const path = plan.lambda_path;
  if (!path || path.breakpoints.length === 0) return null;
  const lambdaStar = path.lambda_star;
  const recipeLambda = plan.strategies.sparse?.lambda;
  const current = { value: recipeLambda === undefined ? undefined : clampLambda(path, recipeLambda) };
  const rhoOf = (lambda: number) => (lambdaStar > 0 ? lambda / lambdaStar : 0);
  const recipeRho = plan.strategies.sparse?.rho ?? rhoOf(current.value ?? 0);
  const { box, canvas } = chartBox('lambda-chart',
    `Line chart: each adapter's weight along the sparse λ-path from λ = 0 (lin) to λ* = ${formatNumber(lambdaStar)} (convex)` +
    (current.value === undefined ? '.' : `; the recipe's λ is ${formatNumber(current.value)}.`));
  const slider = el('input', {
    id: 'rho-slider', type: 'range', min: '0', max: '1', step: 'any',
    value: String(recipeRho), 'aria-label': 'ρ of the sparse strategy (λ = ρ·λ*)',
    ...(lambdaStar > 0 ? {} : { disabled: '' }),
  });
  const field = el('input', {
    id: 'rho-input', class: 'rho-field', type: 'number', min: '0', max: '1', step: 'any', inputmode: 'decimal',
    value: String(formatNumber(recipeRho)), 'aria-label': 'ρ value',
    ...(lambdaStar > 0 ? {} : { disabled: '' }),
  });
  const lambdaText = el('output', { id: 'lambda-value', for: 'rho-slider rho-input', 'aria-live': 'polite' });
  const readoutBody = el('tbody', {});
  const fillReadout = (lambda: number) => {
    const w = weightsAt(path, lambda);
    readoutBody.replaceChildren(...path.names.map((n, i) => el('tr', {}, el('th', { scope: 'row' }, n), el('td', {}, formatWeight(w[i])))));
    lambdaText.textContent = `λ = ${formatNumber(lambda)}`;
  };
  const readout = el('table', { class: 'readout', id: 'lambda-readout' },
    el('caption', {}, 'Weights at the chosen λ'),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'adapter'), el('th', { scope: 'col' }, 'weight'))),
    readoutBody);
  fillReadout(current.value ?? 0);

  /** Shows ρ (and its λ) without writing; `from` is the input being edited, left as the user typed it. */
  const preview = (rho: number, from?: HTMLInputElement) => {
    const r = Math.min(Math.max(Number.isFinite(rho) ? rho : 0, 0), 1);
    current.value = clampLambda(path, r * lambdaStar);
    if (from !== slider) slider.value = String(r);
    if (from !== field) field.value = String(formatNumber(r));
    fillReadout(current.value);
    redraw(canvas);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: number | undefined;
  const write = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending === undefined) return;
    const rho = roundRho(pending);
    pending = undefined;
    host.postMessage({ type: 'setLambda', uri: state.uri, lambda: Number((rho * lambdaStar).toPrecision(12)) });
  };
  const writeSoon = (rho: number) => {
    pending = rho;
    if (timer) clearTimeout(timer);
    timer = setTimeout(write, WRITE_BACK_PAUSE_MS);
  };
  const chooseLambda = (lambda: number) => {
    preview(rhoOf(clampLambda(path, lambda)));
    pending = rhoOf(clampLambda(path, lambda));
    write();
  };
  slider.addEventListener('input', () => preview(Number(slider.value), slider));
  // A release (mouse up, or a key press) schedules the write; further presses within the pause replace it.
  slider.addEventListener('change', () => writeSoon(Number(slider.value)));
  field.addEventListener('input', () => {
    const v = Number(field.value);
    if (field.value.trim() !== '' && Number.isFinite(v) && v >= 0 && v <= 1) {
      preview(v, field);
      writeSoon(v);
    }
  });
  field.addEventListener('change', () => {
    const v = Number(field.value);
    if (field.value.trim() !== '' && Number.isFinite(v)) {
      preview(v);
      pending = v;
      write();
    }
  });

  const table = dataTable('Breakpoints of the λ-path', ['λ', 'ρ', ...path.names],
    [...path.breakpoints].sort((a, b) => a.lambda - b.lambda).map((b) => [formatNumber(b.lambda), formatNumber(rhoOf(b.lambda)), ...b.weights.map(formatWeight)]));
  const form = path.form ?? 'constrained';
  const controls = el('div', { class: 'lambda-controls' },
    el('label', { for: 'rho-slider' }, 'ρ'), slider, field, lambdaText,
    el('span', { class: 'hint' }, `${form} form · ρ = 0 is lin · ρ = 1 is λ* = ${formatNumber(lambdaStar)} (${form === 'lasso' ? 'every weight 0' : 'convex'}) · click the chart or use the slider to set the recipe's ρ`));
  return {
    node: section('lambda-path', 'Sparse λ-path',
      caption('lambda-path', 'How each adapter\'s sparse weight changes with ρ (one line per adapter, told apart by marker and dash); the dashed vertical line is the recipe\'s ρ.'),
      controls, el('div', { class: 'lambda-row' }, box, readout), table),
    draw: () => drawChart(canvas, lambdaPathChartConfig(path, current, theme, chooseLambda)),
  };
}
