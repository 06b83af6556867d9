/**
 * What the Compose notification says: what was written (rank, size, the top weights, the kept energy when
 * the merge truncated) and the evaluator's metrics. A pure function of the server's compose result, so it
 * is tested without VS Code.
 */

/** The fields of the server's compose result (ComposeJson) the summary reads; all optional, read tolerantly. */
export interface ComposeSummaryInput {
  output?: string;
  strategy?: string;
  weights?: Record<string, number>;
  rank?: number;
  method?: string;
  energy_kept?: { min: number; mean: number };
  evaluation?: { status: string; metrics: Record<string, number>; message?: string };
}

const TOP = 3;

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) { value /= 1024; i++; }
  return `${Number(value.toPrecision(3))} ${units[i]}`;
}

const num = (x: number) => String(Number(x.toPrecision(3))).replace('-', '\u2212');

/** `Composed out: rank 16, 2.1 MiB · sparse: a 0.62, b 0.38 · kept energy ≥ 97% · accuracy 0.91, nll 0.31` */
export function composeSummary(result: ComposeSummaryInput, name: string, bytes?: number): string {
  const parts: string[] = [];
  const written: string[] = [];
  if (typeof result.rank === 'number') written.push(`rank ${result.rank}`);
  if (bytes !== undefined) written.push(formatBytes(bytes));
  parts.push(`Composed ${name}${written.length ? `: ${written.join(', ')}` : ''}`);
  const weights = Object.entries(result.weights ?? {}).filter(([, w]) => Math.abs(w) > 1e-12).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  if (weights.length) {
    const shown = weights.slice(0, TOP).map(([n, w]) => `${n} ${num(w)}`).join(', ');
    parts.push(`${result.strategy ?? 'weights'}: ${shown}${weights.length > TOP ? ` +${weights.length - TOP} more` : ''}`);
  }
  // An exact merge keeps all the energy; a truncating one says how much (the least kept in any module).
  const kept = result.energy_kept;
  if (kept && kept.min < 1 - 1e-9) parts.push(`truncated: kept energy ≥ ${(kept.min * 100).toFixed(1)}% (mean ${(kept.mean * 100).toFixed(1)}%)`);
  const evaluation = result.evaluation;
  if (evaluation) {
    const metrics = Object.entries(evaluation.metrics ?? {});
    if (evaluation.status !== 'ok') parts.push(`evaluator ${evaluation.status}${evaluation.message ? `: ${evaluation.message}` : ''}`);
    else if (metrics.length) parts.push(metrics.map(([k, v]) => `${k} ${num(v)}`).join(', '));
  }
  return parts.join(' · ');
}
