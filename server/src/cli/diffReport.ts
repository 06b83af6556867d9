/**
 * A lock diff as text (terminal), Markdown (a pull-request comment) and JSON, and a lock as a short
 * readable summary (`lock show`, the git textconv). Deterministic: the same locks give the same bytes.
 */
import type { LockFile } from '../engine/lock';
import { byCodepoint, weightOf, type FieldValue, type LockDiff, type WeightChange } from '../engine/lockDiff';
import { formatNumber, formatWeight } from './planReport';
import { oneLine } from '../engine/recipe/problem';
import { mdCode, mdText } from '../engine/markdownText';

// Every string of a lock is the lock author's (a pull request's): printed raw, a name could move the
// cursor, write the clipboard (OSC 52) or start a line of its own — a forged row, or a `::error::` workflow
// command in a CI log — in `lock show` (git's textconv), `diff` and the Markdown posted as a comment. So
// every line goes through oneLine, the escaping the problem formatter uses.

/** A sha256 (64 hex digits) shortened to 12, as git shortens commits; anything else as it is. */
export function shortHash(s: string): string {
  return /^[0-9a-f]{64}$/.test(s) ? `${s.slice(0, 12)}…` : s;
}

function value(v: FieldValue | undefined): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') return shortHash(v);
  if (typeof v === 'boolean') return String(v);
  return `[${v.map((x) => value(x)).join(', ')}]`;
}

function weight(w: number | null): string {
  return w === null ? '–' : formatWeight(w);
}

/** Δ with an explicit sign (+ or a real minus), '0' when unchanged. */
export function formatDelta(d: number): string {
  const s = formatWeight(d);
  return s === '0' || s.startsWith('−') ? s : `+${s}`;
}

/** new − old of a metric, signed; '–' unless both sides have it. */
function metricDelta(old: number | null, now: number | null): string {
  if (old === null || now === null) return '–';
  const d = now - old;
  const s = formatNumber(Math.abs(d));
  return d === 0 ? '0' : `${d > 0 ? '+' : '−'}${s}`;
}

function note(w: WeightChange): string {
  return w.old === null ? ' (added)' : w.new === null ? ' (removed)' : '';
}

export interface DiffLabels {
  old: string;
  new: string;
}

export function diffJson(diff: LockDiff, labels: DiffLabels): unknown {
  return { old: labels.old, new: labels.new, ...diff };
}

export function diffText(diff: LockDiff, labels: DiffLabels): string {
  const out = [`${labels.old} → ${labels.new}`];
  if (diff.same) return [...out, 'no changes'].join('\n');
  if (diff.added.length) out.push(`added: ${diff.added.join(', ')}`);
  if (diff.removed.length) out.push(`removed: ${diff.removed.join(', ')}`);
  const rows = diff.weights.map((w) => [w.adapter + note(w), weight(w.old), weight(w.new), formatDelta(w.delta)]);
  out.push('', ...table(['adapter', 'old', 'new', 'Δ'], rows));
  if (diff.changed.length) out.push('', ...table(['field', 'old', 'new'], diff.changed.map((c) => [c.field, value(c.old), value(c.new)])));
  if (diff.metrics.length) out.push('', ...table(['metric', 'old', 'new', 'Δ'], diff.metrics.map((m) => [m.metric, value(m.old), value(m.new), metricDelta(m.old, m.new)])));
  return out.map(oneLine).join('\n');
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)];
}

const esc = mdText;

export function diffMarkdown(diff: LockDiff, labels: DiffLabels): string {
  const md = [`### Adapter composition: ${mdCode(labels.old)} → ${mdCode(labels.new)}`, ''];
  if (diff.same) return [...md, 'No changes.'].join('\n');
  const summary: string[] = [];
  if (diff.added.length) summary.push(`**added** ${diff.added.map(mdCode).join(', ')}`);
  if (diff.removed.length) summary.push(`**removed** ${diff.removed.map(mdCode).join(', ')}`);
  if (summary.length) md.push(summary.join(' · '), '');
  md.push('| adapter | old | new | Δ |', '| --- | ---: | ---: | ---: |');
  for (const w of diff.weights) md.push(`| ${esc(w.adapter)}${note(w)} | ${weight(w.old)} | ${weight(w.new)} | ${formatDelta(w.delta)} |`);
  if (diff.changed.length) {
    md.push('', '| field | old | new |', '| --- | --- | --- |');
    for (const c of diff.changed) md.push(`| ${esc(c.field)} | ${esc(value(c.old))} | ${esc(value(c.new))} |`);
  }
  if (diff.metrics.length) {
    md.push('', '| metric | old | new | Δ |', '| --- | ---: | ---: | ---: |');
    for (const m of diff.metrics) md.push(`| ${esc(m.metric)} | ${value(m.old)} | ${value(m.new)} | ${metricDelta(m.old, m.new)} |`);
  }
  return md.join('\n');
}

/**
 * A lock in a few lines, one fact per line so that a line diff of two summaries reads as a review
 * (`git diff` with the textconv). Weights sorted by weight, largest first, then by name.
 */
export function lockSummary(lock: LockFile): string {
  const params = Object.keys(lock.parameters).sort(byCodepoint).map((k) => `${k}=${value(toField(lock.parameters[k]))}`);
  const byName = new Map(lock.candidates.map((c) => [c.name, c]));
  const names = [...new Set([...lock.candidates.map((c) => c.name), ...Object.keys(lock.weights)])];
  const rows = names
    .map((name) => ({ name, w: weightOf(lock, name) ?? 0 }))
    .sort((a, b) => b.w - a.w || byCodepoint(a.name, b.name));
  const width = Math.max(0, ...rows.map((r) => r.name.length));
  const weightWidth = Math.max(0, ...rows.map((r) => formatWeight(r.w).length));
  const out = [
    `recipe    ${lock.recipe.path} (${shortHash(lock.recipe.sha256)})`,
    `strategy  ${lock.strategy}${params.length ? ` ${params.join(' ')}` : ''}`,
    `merge     ${lock.merge.method} rank ${lock.merge.rank} ${lock.merge.dtype} modules_to_save=${lock.merge.modules_to_save}${lock.merge.density !== undefined ? ` density=${lock.merge.density}` : ''}${lock.merge.seed !== undefined ? ` seed=${lock.merge.seed}` : ''}${lock.merge.normalize !== undefined ? ` normalize=${lock.merge.normalize}` : ''}`,
    `library   ${lock.library.uri} v${lock.library.version} (${lock.library.size} adapters)`,
    `encoder   ${lock.encoder.sha256 === null ? 'none' : shortHash(lock.encoder.sha256)} ${lock.encoder.dim}-d`,
    `target    ${lock.target.source} ${lock.target.count} × ${lock.target.dim}-d (${shortHash(lock.target.sha256)})`,
    `weights   ${rows.length} adapter${rows.length === 1 ? '' : 's'}`,
    ...rows.map((r) => {
      const c = byName.get(r.name);
      const detail = c ? `  ${shortHash(c.sha256)}  d=${formatNumber(c.distance)}` : '';
      return `  ${r.name.padEnd(width)}  ${formatWeight(r.w).padStart(weightWidth)}${detail}`;
    }),
    `output    ${lock.output.path}`,
    ...[...lock.output.files].sort((a, b) => byCodepoint(a.path, b.path)).map((f, _, all) => `  ${f.path.padEnd(Math.max(...all.map((x) => x.path.length)))}  ${shortHash(f.sha256)}`),
    `tool      adapter-composer ${lock.tool_version}${lock.provider ? `, provider ${lock.provider}` : ''}`,
  ];
  return out.map(oneLine).join('\n');
}

function toField(v: unknown): FieldValue {
  if (v === undefined) return null;
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(toField);
  return JSON.stringify(v);
}
