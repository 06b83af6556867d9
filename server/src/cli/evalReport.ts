/**
 * Leave-one-out results as text: a terminal table and Markdown (for a README or a pull request).
 * Per target the ΔW relative error of each strategy (best marked), then the per-strategy summary.
 */
import type { LambdaCurve, StrategySummary } from '../engine/eval/leaveOneOut';
import type { LibraryEvaluation } from '../engine/eval/evaluateLibrary';
import { formatNumber } from './planReport';
import { oneLine } from '../engine/recipe/problem';
import { mdCode, mdText } from '../engine/markdownText';

interface Table {
  header: string[];
  rows: string[][];
  /** Columns (after the first) that are numbers: right-aligned. */
  numeric: boolean;
}

function lambdaText(result: LibraryEvaluation): string {
  const form = result.form ? ` (${result.form} form)` : '';
  if (result.lambda === 'auto') return `λ auto (ρ·λ*, ρ chosen on the other targets)${form}`;
  return result.rho !== undefined ? `ρ = ${formatNumber(result.rho)} (λ = ρ·λ* of each problem)${form}` : `λ = ${formatNumber(result.lambda)}${form}`;
}

function fixed(x: number | undefined, digits = 4): string {
  return x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

function targetTable(result: LibraryEvaluation, mark: (s: string) => string): Table {
  const strategies = result.strategies;
  const rows = result.targets.map((t) => {
    const errors = strategies.map((s) => t.strategies[s]?.delta_rel_error ?? Infinity);
    const best = Math.min(...errors);
    return [oneLine(t.target), ...errors.map((e) => (e <= best + 1e-12 * Math.max(1, best) ? mark(fixed(e, 3)) : fixed(e, 3)))];
  });
  return { header: ['held-out adapter', ...strategies], rows, numeric: true };
}

function summaryTable(result: LibraryEvaluation): Table {
  const rows = result.strategies
    .filter((s) => result.summary[s])
    .map((s) => {
      const x = result.summary[s] as StrategySummary;
      return [s, fixed(x.mean_delta_rel_error), fixed(x.median_delta_rel_error), fixed(x.mean_delta_cosine), fixed(x.mean_residual), x.mean_nonzero.toFixed(2), String(x.wins)];
    });
  return { header: ['strategy', 'mean ΔW err', 'median', 'cosine', 'proto residual', 'non-zero', 'wins'], rows, numeric: true };
}

function curveTable(curve: LambdaCurve, mark: (s: string) => string): Table {
  const rows = curve.points.map((p) => {
    const cells = [p.ratio.toFixed(2), fixed(p.mean_delta_rel_error), fixed(p.median_delta_rel_error), fixed(p.mean_residual), p.mean_nonzero.toFixed(2)];
    return p.ratio === curve.best_ratio ? cells.map((c, i) => (i === 1 ? mark(c) : c)) : cells;
  });
  return { header: ['λ/λ*', 'mean ΔW err', 'median', 'proto residual', 'non-zero'], rows, numeric: true };
}

function textTable(t: Table): string[] {
  const widths = t.header.map((h, i) => Math.max(h.length, ...t.rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || !t.numeric ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(t.header), line(widths.map((w) => '─'.repeat(w))), ...t.rows.map(line)];
}

/**
 * The first column holds names (held-out adapters: library rows another author wrote) and is
 * Markdown-escaped text; the other cells are our numbers with their `**best**` marks.
 */
function markdownTable(t: Table): string[] {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${t.header.map(esc).join(' | ')} |`,
    `| ${t.header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map((c, i) => (i === 0 ? mdText(c) : esc(c))).join(' | ')} |`),
  ];
}

function heading(result: LibraryEvaluation, libraryShown: string): string {
  return `Leave-one-out on ${libraryShown} (version ${result.library.version}): ${result.targets.length} held-out adapters, k = ${result.k}, ${lambdaText(result)}`;
}

export function evalText(result: LibraryEvaluation, libraryShown: string, options: { curve?: boolean } = {}): string {
  const out = [heading(result, libraryShown), '', 'ΔW relative error ‖Σwᵢ·ΔWᵢ − ΔW_held-out‖/‖ΔW_held-out‖ (lower is better; * best on the row):', ''];
  out.push(...textTable(targetTable(result, (s) => `${s}*`)));
  out.push('', 'Summary over the held-out adapters (wins = best ΔW error on a target, ties count for each):', '');
  out.push(...textTable(summaryTable(result)));
  if (options.curve && result.lambda_curve) {
    out.push('', `λ-curve (sparse at λ = ρ·λ* of each problem; * the ρ with the smallest mean ΔW error):`, '');
    out.push(...textTable(curveTable(result.lambda_curve, (s) => `${s}*`)));
  }
  for (const s of result.skipped) out.push(`skipped ${s.target}: ${s.reason}`);
  for (const w of result.warnings) out.push(`warning: ${w}`);
  out.push('', `${result.stats.adapters} adapters, ${result.stats.tensor_reads} factor tensors read once each; products ${result.stats.products}; ${result.stats.total_ms} ms (delta inner products ${result.stats.gram_ms} ms)`);
  return out.join('\n');
}

export function evalMarkdown(result: LibraryEvaluation, libraryShown: string, options: { curve?: boolean } = {}): string {
  const out = [`### ${heading(result, mdCode(libraryShown))}`, ''];
  out.push('ΔW relative error ‖Σwᵢ·ΔWᵢ − ΔW‖_F / ‖ΔW‖_F of each composition against the held-out adapter (lower is better; **bold**: best on the row).', '');
  out.push(...markdownTable(targetTable(result, (s) => `**${s}**`)));
  out.push('', 'Summary (wins: best ΔW error on a held-out adapter, ties count for each):', '');
  out.push(...markdownTable(summaryTable(result)));
  if (options.curve && result.lambda_curve) {
    out.push('', 'λ-curve: sparse at λ = ρ·λ* of each problem (**bold**: the ρ that `weights.lambda: auto` picks).', '');
    out.push(...markdownTable(curveTable(result.lambda_curve, (s) => `**${s}**`)));
  }
  for (const s of result.skipped) out.push('', `> skipped ${mdText(s.target)}: ${mdText(s.reason)}`);
  for (const w of result.warnings) out.push('', `> ⚠️ ${mdText(w)}`);
  return out.join('\n');
}
