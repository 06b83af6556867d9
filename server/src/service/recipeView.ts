/**
 * What every editor feature receives: the buffer (parsed for positions), its file, and the latest
 * plan outcome from the engine. Plus the few file-system questions a feature may ask (a seam, so
 * the service stays testable without a disk).
 */
import type { PlanOutcome } from '../engine/planner';
import type { AdapterRecord, PlanJson } from '../engine/types';
import type { RecipeDocument, RecipeEntry, Span } from './recipeDocument';

export interface RecipeView {
  uri: string;
  /** Absolute path of the recipe file (for relative paths in it). */
  file: string;
  document: RecipeDocument;
  /** The newest finished plan of this buffer (may lag the text by a keystroke). */
  outcome?: PlanOutcome;
  /** While the text does not plan: the newest plan that worked (shown as stale). */
  lastPlan?: PlanJson;
}

export interface FileSystemView {
  readDirectory(dir: string): { name: string; isDirectory: boolean }[];
  isFile(path: string): boolean;
  isDirectory(path: string): boolean;
}

export type AdapterRole = 'exclude' | 'adapters' | 'manual';

/** A place in the recipe where an adapter of the library is named. */
export interface AdapterReference {
  name: string;
  span: Span;
  role: AdapterRole;
  entry: RecipeEntry;
}

/** Adapter names: items of `exclude:`/`adapters:` lists and keys of the `manual:` weights map. */
export function adapterReferences(view: RecipeView): AdapterReference[] {
  const out: AdapterReference[] = [];
  for (const entry of view.document.entries) {
    const role = adapterRoleOf(entry);
    if (!role) continue;
    if (role === 'manual' && entry.key) out.push({ name: entry.key.text, span: entry.key.span, role, entry });
    else if (role !== 'manual' && entry.value?.kind === 'scalar' && typeof entry.value.scalar === 'string') {
      out.push({ name: entry.value.scalar, span: entry.value.span, role, entry });
    }
  }
  return out;
}

export function adapterRoleOf(entry: RecipeEntry): AdapterRole | undefined {
  const p = entry.path;
  if (p.length >= 2 && typeof p[p.length - 1] === 'number') {
    const parent = p[p.length - 2];
    if (parent === 'exclude' || parent === 'adapters') return parent;
  }
  if (p.length >= 2 && typeof p[p.length - 1] === 'string' && p[p.length - 2] === 'manual' && entry.key) return 'manual';
  return undefined;
}

/** The adapter named where the cursor is (on a `manual:` key, or on an `exclude:` / `adapters:` item); else undefined. */
export function adapterNameAt(entry: RecipeEntry, part: 'key' | 'value'): string | undefined {
  const role = adapterRoleOf(entry);
  return role === 'manual' && part === 'key' ? entry.key?.text : role && role !== 'manual' && part === 'value' ? String(entry.value?.scalar ?? '') : undefined;
}

export function adapterByName(view: RecipeView, name: string): AdapterRecord | undefined {
  return view.outcome?.adapters?.find((a) => a.name === name);
}

/** Squared distance of `name` to the target: from the candidates, or from the prototypes when the plan carries the target. */
export function distanceTo(view: RecipeView, name: string): number | undefined {
  const plan = view.outcome?.plan;
  if (!plan) return undefined;
  const candidate = plan.candidates.find((c) => c.name === name);
  if (candidate) return candidate.distance;
  const target = view.outcome?.target;
  const adapter = adapterByName(view, name);
  if (!target || !adapter || adapter.prototype.length !== target.length) return undefined;
  let d = 0;
  for (let i = 0; i < target.length; i++) d += (target[i] - adapter.prototype[i]) ** 2;
  return d;
}
