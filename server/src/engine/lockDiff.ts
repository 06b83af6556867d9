/**
 * What changed between two locks — the review of an adapter choice: adapters added and removed, each
 * weight old → new, every other recorded field (strategy, λ, k, merge, hashes of candidates, encoder,
 * target and output files) and, when the run history has them, the evaluator's metrics. A pure
 * function of two parsed locks, so the CLI (`diff`), the language server (Compare with HEAD) and the
 * tests share one definition. Output order is deterministic (no locale collation).
 */
import type { LockFile } from './lock';

export interface WeightChange {
  adapter: string;
  /** null where the adapter is not in that lock (neither a candidate nor weighted). */
  old: number | null;
  new: number | null;
  /** (new ?? 0) − (old ?? 0). */
  delta: number;
}

export type FieldValue = string | number | boolean | null | FieldValue[];

export interface FieldChange {
  /** A dotted path into the lock; list items by their key: `candidates[prostate-b].sha256`. Listed
   *  strategy, parameters, merge, candidates, library, encoder, target, recipe, output, then the rest. */
  field: string;
  old: FieldValue;
  new: FieldValue;
}

export interface MetricChange {
  metric: string;
  old: number | null;
  new: number | null;
}

export interface LockDiff {
  weights: WeightChange[];
  added: string[];
  removed: string[];
  changed: FieldChange[];
  metrics: MetricChange[];
  /** True when nothing at all differs (weights, fields, metrics). */
  same: boolean;
}

/** Below this, two weights are the same number written twice (solver round-off). */
const WEIGHT_EPS = 1e-12;

/** Codepoint order, the same on every machine (localeCompare is not). */
export function byCodepoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What a reviewer reads first: the choice (strategy, parameters, merge), then inputs, then outputs. */
const FIELD_ORDER = ['strategy', 'parameters', 'merge', 'candidates', 'library', 'encoder', 'target', 'recipe', 'output', 'provider', 'tool_version', 'format'];

function byReviewOrder(a: string, b: string): number {
  const rank = (f: string) => {
    const i = FIELD_ORDER.indexOf(/^[a-z_]+/.exec(f)?.[0] ?? f);
    return i < 0 ? FIELD_ORDER.length : i;
  };
  return rank(a) - rank(b) || byCodepoint(a, b);
}

/** The recorded weight (own property only: an adapter may be called `constructor`). */
export function weightOf(lock: LockFile, name: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(lock.weights, name) ? lock.weights[name] : undefined;
}

function adapters(lock: LockFile): Set<string> {
  return new Set([...lock.candidates.map((c) => c.name), ...Object.keys(lock.weights)]);
}

/**
 * Flattens a lock (without its weights, and without candidate distances, which follow from the
 * target and are summarised by the weights) into `field → value`. Lists of objects are keyed by
 * their `name` or `path`; other lists are values.
 */
export function flattenLock(lock: LockFile): Map<string, FieldValue> {
  const out = new Map<string, FieldValue>();
  const walk = (value: unknown, at: string) => {
    if (Array.isArray(value)) {
      const keyed = value.length > 0 && value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v) && (typeof (v as Record<string, unknown>).name === 'string' || typeof (v as Record<string, unknown>).path === 'string'));
      if (!keyed) {
        out.set(at, value.map(toValue));
        return;
      }
      for (const item of value as Record<string, unknown>[]) {
        const key = typeof item.name === 'string' ? item.name : String(item.path);
        for (const [k, v] of Object.entries(item)) {
          if (k === 'name' || (k === 'path' && typeof item.name !== 'string')) continue;
          if (at === 'candidates' && k === 'distance') continue;
          walk(v, `${at}[${key}].${k}`);
        }
      }
      return;
    }
    if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(v, at ? `${at}.${k}` : k);
      return;
    }
    out.set(at, toValue(value));
  };
  const { weights: _weights, ...rest } = lock;
  walk(rest, '');
  return out;
}

function toValue(v: unknown): FieldValue {
  if (v === undefined) return null;
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(toValue);
  return JSON.stringify(v);
}

function sameValue(a: FieldValue, b: FieldValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The fields of items only one side has (an added candidate's hash) are told by added/removed. */
function belongsToOneSide(field: string, onlyOld: Set<string>, onlyNew: Set<string>): boolean {
  const m = /^candidates\[(.*)\]\./.exec(field);
  return m !== null && (onlyOld.has(m[1]) || onlyNew.has(m[1]));
}

export function diffLocks(
  oldLock: LockFile,
  newLock: LockFile,
  metrics: { old?: Record<string, number>; new?: Record<string, number> } = {},
): LockDiff {
  const before = adapters(oldLock);
  const after = adapters(newLock);
  const added = [...after].filter((n) => !before.has(n)).sort(byCodepoint);
  const removed = [...before].filter((n) => !after.has(n)).sort(byCodepoint);

  const weights: WeightChange[] = [...new Set([...before, ...after])].map((adapter) => {
    const old = before.has(adapter) ? weightOf(oldLock, adapter) ?? 0 : null;
    const now = after.has(adapter) ? weightOf(newLock, adapter) ?? 0 : null;
    const delta = (now ?? 0) - (old ?? 0);
    return { adapter, old, new: now, delta: Math.abs(delta) < WEIGHT_EPS ? 0 : delta };
  });
  weights.sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || byCodepoint(a.adapter, b.adapter));

  const a = flattenLock(oldLock);
  const b = flattenLock(newLock);
  const onlyOld = new Set(removed);
  const onlyNew = new Set(added);
  const changed: FieldChange[] = [];
  for (const field of [...new Set([...a.keys(), ...b.keys()])].sort(byReviewOrder)) {
    if (belongsToOneSide(field, onlyOld, onlyNew)) continue;
    const old = a.has(field) ? a.get(field)! : null;
    const now = b.has(field) ? b.get(field)! : null;
    if (!sameValue(old, now)) changed.push({ field, old, new: now });
  }

  const metricChanges: MetricChange[] = [];
  const names = new Set([...Object.keys(metrics.old ?? {}), ...Object.keys(metrics.new ?? {})]);
  for (const metric of [...names].sort(byCodepoint)) {
    metricChanges.push({ metric, old: metrics.old?.[metric] ?? null, new: metrics.new?.[metric] ?? null });
  }
  const metricsDiffer = metricChanges.some((m) => m.old !== m.new);
  return {
    weights,
    added,
    removed,
    changed,
    metrics: metricChanges,
    same: added.length === 0 && removed.length === 0 && changed.length === 0 && weights.every((w) => w.delta === 0) && !metricsDiffer,
  };
}
