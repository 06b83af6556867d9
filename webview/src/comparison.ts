/**
 * The "Compare with HEAD" table as data: one row per adapter (old, new, Δ as text) and the bar of
 * each Δ as a signed fraction of the largest |Δ|. Pure, so it is tested without a browser.
 */
import type { CompareResult } from '../../server/src/protocol';

export interface ComparisonRow {
  adapter: string;
  /** 'added' | 'removed' | '' */
  status: string;
  old: string;
  new: string;
  delta: string;
  /** Δ / max|Δ|, in [−1, 1]; 0 when nothing changed. */
  bar: number;
}

const weight = (w: number | null) => (w === null ? '–' : Math.abs(w) < 5e-13 ? '0' : w.toFixed(4));

export function comparisonRows(result: CompareResult): ComparisonRow[] {
  const largest = Math.max(0, ...result.weights.map((w) => Math.abs(w.delta)));
  return result.weights.map((w) => ({
    adapter: w.adapter,
    status: w.old === null ? 'added' : w.new === null ? 'removed' : '',
    old: weight(w.old),
    new: weight(w.new),
    delta: w.delta === 0 ? '0' : `${w.delta > 0 ? '+' : '−'}${Math.abs(w.delta).toFixed(4)}`,
    bar: largest > 0 ? w.delta / largest : 0,
  }));
}

/** Changed fields as text; 64-hex hashes shortened to 12. */
export function changedFields(result: CompareResult): [string, string, string][] {
  const text = (v: unknown) => (v === null || v === undefined ? '–' : typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? `${v.slice(0, 12)}…` : typeof v === 'string' ? v : JSON.stringify(v));
  return result.changed.map((c) => [c.field, text(c.old), text(c.new)]);
}
