/**
 * Plans as text: a terminal table and a Markdown block for pull-request comments.
 */
import type { PlanJson, Strategy, StrategyResult } from '../engine/types';
import { ownValue } from '../engine/nameTable';
import { oneLine } from '../engine/recipe/problem';
import { mdCode, mdText } from '../engine/markdownText';

export function formatWeight(w: number): string {
  // A real minus sign: negative weights are the point of `lin`/`sparse`, make them stand out.
  const s = Math.abs(w) < 5e-5 ? '0' : Math.abs(w).toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
  return w < 0 && s !== '0' ? `−${s}` : s;
}

export function formatNumber(x: number | undefined, digits = 4): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3)) return x.toExponential(2);
  return Number(x.toPrecision(digits)).toString();
}

function strategyNames(plan: PlanJson): Strategy[] {
  return (Object.keys(plan.strategies) as Strategy[]).filter((s) => plan.strategies[s]);
}

/** Every strategy with the parameters it was computed with (selected or not). */
export function describeStrategy(name: Strategy, r: StrategyResult): string {
  if (name === 'sparse' && r.lambda !== undefined) {
    const form = r.form && r.form !== 'constrained' ? ` ${r.form}` : '';
    return `sparse${form} ${r.rho !== undefined ? `ρ=${formatNumber(r.rho)} ` : ''}λ=${formatNumber(r.lambda)}`;
  }
  if (name === 'sim' && r.temperature !== undefined) return `sim τ=${formatNumber(r.temperature)}`;
  return name;
}

/** Rows: candidates; columns: strategies. Then residual / objective / non-zero rows. */
function grid(plan: PlanJson): { header: string[]; rows: string[][] } {
  const names = strategyNames(plan);
  const header = ['adapter', 'distance', ...names.map((s) => describeStrategy(s, plan.strategies[s]!) + (s === plan.strategy ? ' *' : ''))];
  // names come from the library's rows (another tool's, a pull request's): shown with visible escapes
  const rows = plan.candidates.map((c) => [oneLine(c.name), formatNumber(c.distance), ...names.map((s) => formatWeight(ownValue(plan.strategies[s]!.weights, c.name) ?? 0))]);
  rows.push(['residual', '', ...names.map((s) => formatNumber(plan.strategies[s]!.residual))]);
  rows.push(['objective', '', ...names.map((s) => formatNumber(plan.strategies[s]!.objective))]);
  rows.push(['non-zero', '', ...names.map((s) => String(plan.strategies[s]!.nonzero))]);
  return { header, rows };
}

/** `sparse (constrained): ρ = 0.5, λ = 0.12 = ρ·λ*, λ* = 0.24 (…)` */
function lambdaLine(plan: PlanJson): string {
  const path = plan.lambda_path!;
  const sparse = plan.strategies.sparse;
  const form = path.form ?? 'constrained';
  const end = form === 'constrained' ? 'sparse equals convex for λ ≥ λ*' : 'for λ ≥ λ* only the adapter with the largest pᵢ·t is kept';
  const at = sparse?.lambda !== undefined ? `${sparse.rho !== undefined ? `ρ = ${formatNumber(sparse.rho)}, ` : ''}λ = ${formatNumber(sparse.lambda)}${sparse.rho !== undefined ? ' = ρ·λ*' : ''}, ` : '';
  return `sparse (${form}): ${at}λ* = ${formatNumber(path.lambda_star)} (${end}; ${path.breakpoints.length} breakpoints on the λ-path)`;
}

/** `merge: cat, exact (rank 24)` or the truncation an svd merge will make, predicted from the factors. */
export function mergeLine(merge: NonNullable<PlanJson['merge']>): string {
  if (merge.method === 'cat') return `merge: cat, exact (rank ${merge.total_rank} = Σ rᵢ)`;
  if (merge.method !== 'svd') return `merge: ${merge.method} density ${merge.density} → rank ${merge.rank} (entry-wise on the dense ΔWᵢ; the truncation error is reported when composing)`;
  if (merge.exact) return `merge: svd rank ${merge.rank}, exact (Σ rᵢ = ${merge.total_rank})`;
  const p = merge.predicted;
  const loss = p ? `: kept energy ${formatNumber(p.energy_kept.overall, 6)} (min over modules ${formatNumber(p.energy_kept.min, 6)}), relative ΔW error ${formatNumber(p.relative_error.overall)} (max ${formatNumber(p.relative_error.max)}) in ${p.truncated_modules} of ${p.modules} modules` : '';
  return `merge: svd rank ${merge.rank} TRUNCATES (Σ rᵢ = ${merge.total_rank})${loss}`;
}

export function planTable(plan: PlanJson): string {
  const { header, rows } = grid(plan);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = [
    `${plan.recipe}: target ${plan.target.source} (${plan.target.count} × ${plan.target.dim}-d), ${plan.candidates.length} candidates, strategy ${plan.strategy}`,
    '',
    line(header),
    line(widths.map((w) => '─'.repeat(w))),
    ...rows.slice(0, -3).map(line),
    line(widths.map((w) => '─'.repeat(w))),
    ...rows.slice(-3).map(line),
  ];
  if (plan.lambda_path) out.push('', lambdaLine(plan));
  if (plan.merge) out.push(mergeLine(plan.merge));
  for (const w of plan.warnings) out.push(`warning: ${w}`);
  return out.join('\n');
}

export function planMarkdown(plan: PlanJson): string {
  const { header, rows } = grid(plan);
  // a pull-request comment: the candidates' names are library rows another author wrote (`<!--` would
  // hide the rest of the comment), so every cell is Markdown-escaped text; the header is ours
  const esc = mdText;
  const md = [
    `### Adapter composition: ${mdCode(plan.recipe)}`,
    '',
    `Target: ${plan.target.source} (${plan.target.count} × ${plan.target.dim}-d) · strategy **${plan.strategy}** (marked *) · ${plan.candidates.length} candidates`,
    '',
    `| ${header.map((h) => h.replace(/\|/g, '\\|')).join(' | ')} |`,
    `| ${header.map((_, i) => (i < 1 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r, i) => `| ${r.map((c, j) => (i >= rows.length - 3 && j === 0 ? `_${c}_` : esc(c))).join(' | ')} |`),
  ];
  if (plan.lambda_path) md.push('', lambdaLine(plan));
  if (plan.merge) md.push('', mergeLine(plan.merge));
  for (const w of plan.warnings) md.push('', `> ⚠️ ${mdText(w)}`);
  return md.join('\n');
}
