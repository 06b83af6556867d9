/**
 * What the planner checks against the library: the names a recipe mentions (did-you-mean, base), and
 * what `compose` would refuse or lose about the adapters it would merge, decided by the same functions
 * the merge calls (mergeVerdicts.ts, integrity.ts). Each finding is reported at the recipe path that
 * names the adapter.
 */
import { closestMatch } from '../recipe/didYouMean';
import type { Recipe } from '../recipe/parse';
import { isUri, type RecipePaths } from '../recipe/paths';
import type { RecipePath, Severity } from '../recipe/problem';
import type { AdapterRecord } from '../types';
import { describeDrift, driftHint, type AdapterVerifier } from '../library/integrity';
import { modulesToSaveRefused, noSharedModules, shapeConflict } from '../lora/mergeVerdicts';
import type { LoraAdapter } from '../lora/adapter';
import { openAdapter } from '../lora/formats';
import { baseOverride, sameBase } from '../library/baseModels';
import { parseDetails } from '../library/schema';
import { RecipeProblem, type ReportProblem } from './recipeProblem';

/** Adapter names the recipe mentions must exist (did-you-mean), and be of the recipe's base. */
export function checkNames(recipe: Recipe, byName: Map<string, AdapterRecord>, allNames: string[] | undefined, report: ReportProblem): boolean {
  const spec = recipe.spec;
  let errors = false;
  // Did-you-mean over the whole library when it is small enough to hold; else over the names found.
  const names = allNames ?? [...byName.keys()];
  const check = (name: unknown, path: RecipePath, part: 'value' | 'key', severity: Severity) => {
    if (typeof name !== 'string') return;
    const record = byName.get(name);
    if (!record) {
      const suggestion = closestMatch(name, names);
      if (severity === 'error') errors = true;
      report(new RecipeProblem(severity, 'unknown-adapter', `no adapter \`${name}\` in the library${suggestion ? ` — did you mean \`${suggestion}\`?` : ''}`, path, part, suggestion ? { suggestion } : undefined));
    } else if (typeof spec.base === 'string' && !sameBase(record.base, spec.base)) {
      report(new RecipeProblem('error', 'base-mismatch', `adapter \`${name}\` is for base \`${record.base}\`, the recipe's base is \`${spec.base}\``, path, part));
    }
  };
  spec.retrieve.exclude.forEach((n, i) => check(n, ['retrieve', 'exclude', i], 'value', 'warning'));
  (spec.retrieve.adapters ?? []).forEach((n, i) => check(n, ['retrieve', 'adapters', i], 'value', 'error'));
  if (spec.weights.strategy === 'manual') {
    for (const n of Object.keys(spec.weights.manual ?? {})) check(n, ['weights', 'manual', n], 'key', 'error');
  }
  return errors;
}

/** Where a recipe names an adapter: its pin, its manual weight, or (retrieved) the `retrieve` key. */
export function adapterLocation(recipe: Recipe, name: string): { path: RecipePath; part: 'key' | 'value' } {
  const spec = recipe.spec;
  const pinned = (spec.retrieve.adapters ?? []).indexOf(name);
  if (pinned >= 0) return { path: ['retrieve', 'adapters', pinned], part: 'value' };
  if (spec.weights.manual && Object.prototype.hasOwnProperty.call(spec.weights.manual, name)) return { path: ['weights', 'manual', name], part: 'key' };
  return { path: ['retrieve'], part: 'key' };
}

/**
 * What `compose` would refuse about the adapters it merges (the selected strategy's non-zero
 * weights), decided by the same functions the merge calls: modules_to_save under `refuse`, no
 * module in common, and an adapter whose files no longer match its row (integrity.ts).
 */
export function mergeVerdicts(recipe: Recipe, merged: AdapterRecord[], paths: RecipePaths, verifier: AdapterVerifier, report: ReportProblem): void {
  const spec = recipe.spec;
  const where = (name: string) => adapterLocation(recipe, name);
  const heads = modulesToSaveRefused(merged.map((c, index) => ({ index, name: `\`${c.name}\``, modules: detailsOf(c).modules_to_save ?? [] })), spec.merge.modules_to_save);
  if (heads) report(new RecipeProblem('error', 'modules-to-save', heads.message, ['merge'], 'key', { hint: heads.hint }));
  const withModules = merged.filter((c) => detailsOf(c).ranks);
  const unshared = noSharedModules(withModules.map((c) => ({ name: `\`${c.name}\``, format: c.format, modules: Object.keys(detailsOf(c).ranks ?? {}) })));
  if (unshared) {
    const at = where(withModules[unshared.index].name);
    report(new RecipeProblem('error', 'no-shared-modules', unshared.message, at.path, at.part, { hint: unshared.hint }));
  }
  // the adapters' headers and configs (kilobytes): shapes, and the integrity check below
  const opened = new Map<string, LoraAdapter | { unreadable: string }>();
  for (const record of merged) {
    if (isUri(record.path)) continue;
    try {
      opened.set(record.name, openAdapter(record.path));
    } catch (e) {
      opened.set(record.name, { unreadable: e instanceof Error ? e.message : String(e) });
    }
  }
  const readable = merged.filter((r) => { const a = opened.get(r.name); return a && !('unreadable' in a); });
  const conflict = shapeConflict(readable.map((r) => ({ name: `\`${r.name}\``, modules: (opened.get(r.name) as LoraAdapter).modules.values() })));
  if (conflict) {
    const at = where(readable[conflict.index].name);
    report(new RecipeProblem('error', 'dimension', conflict.message, at.path, at.part, { hint: conflict.hint }));
  }
  for (const record of merged) {
    const declared = baseOverride(record);
    if (declared !== undefined) {
      const at = where(record.name);
      report(new RecipeProblem('warning', 'base-overridden', `adapter \`${record.name}\`: base \`${record.base}\` was set by \`library add --override-base\`; the adapter itself names \`${declared}\``, at.path, at.part));
    }
    if (isUri(record.path)) continue;
    const adapter = opened.get(record.name)!;
    const drift = 'unreadable' in adapter ? adapter : verifier.verify(record, adapter);
    const at = where(record.name);
    if (!Array.isArray(drift)) {
      report(new RecipeProblem('error', 'adapter-unreadable', `adapter \`${record.name}\` cannot be read from ${record.path}: ${drift.unreadable}`, at.path, at.part, { hint: `restore its files, or remove it from the library (\`library rm ${paths.library} ${record.name}\`)` }));
      continue;
    }
    if (drift.length === 0) continue;
    report(new RecipeProblem('error', 'adapter-changed', `adapter \`${record.name}\` changed since it was added to the library (${describeDrift(drift)})`, at.path, at.part, { hint: driftHint(paths.library, record.name) }));
  }
}

/** Facts that make `compose` impossible or lossy, known from the library rows alone. */
export function checkMergeable(recipe: Recipe, candidates: AdapterRecord[], report: ReportProblem): void {
  const merge = recipe.spec.merge;
  const totalRank = candidates.reduce((s, c) => s + c.rank, 0);
  if (merge.method === 'svd' && merge.rank >= totalRank) {
    report(new RecipeProblem('information', 'rank-exact', `rank ${merge.rank} ≥ the candidates' total rank ${totalRank}: the svd merge is exact (rank ≤ ${totalRank})`, ['merge', 'rank']));
  }
  const moduleSets = new Set(candidates.map((c) => [...c.target_modules].sort().join(',')));
  if (moduleSets.size > 1) {
    report(new RecipeProblem('information', 'modules-differ', `the candidates adapt different modules (${[...moduleSets].map((s) => `[${s}]`).join(' vs ')}); a module missing from an adapter contributes zero`, ['merge'], 'key'));
  }
}

export function unknownBase(base: string, adapters: AdapterRecord[]): RecipeProblem {
  const bases = [...new Set(adapters.map((a) => a.base))].sort();
  const suggestion = closestMatch(base, bases);
  return new RecipeProblem('error', 'unknown-base', `no adapter in the library is for base model \`${base}\` (it has: ${bases.slice(0, 12).join(', ')}${bases.length > 12 ? ', …' : ''})`, ['base'], 'value', suggestion ? { suggestion } : undefined);
}

export function detailsOf(record: AdapterRecord): { modules_to_save?: string[]; ranks?: Record<string, number> } {
  const details: { modules_to_save?: string[]; ranks?: Record<string, number> } = parseDetails(record.details) ?? {};
  return details;
}
