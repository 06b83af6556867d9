/**
 * The refusals of a merge that are known before any tensor is read: adapters that share no module,
 * full replacement weights (modules_to_save) under the default policy. One function per verdict,
 * called by the merge on the opened adapters and by the planner on the library rows, so `check`,
 * the editor and `compose` can never disagree on them.
 */

export interface Verdict {
  /** The input at fault (index into the list given). */
  index: number;
  message: string;
  hint: string;
}

/** Adapters that share nothing with the first one are almost surely for another model or format. */
export function noSharedModules(adapters: { name: string; format: string; modules: Iterable<string> }[]): Verdict | undefined {
  if (adapters.length < 2) return undefined;
  const first = new Set(adapters[0].modules);
  for (let i = 1; i < adapters.length; i++) {
    if (![...adapters[i].modules].some((m) => first.has(m))) {
      return {
        index: i,
        message: `${adapters[i].name} (${adapters[i].format}) and ${adapters[0].name} (${adapters[0].format}) adapt no module in common`,
        hint: 'they were trained for different base models, or their formats name modules differently (kohya and cloneofsimo names only match adapters of the same format)',
      };
    }
  }
  return undefined;
}

/** modules_to_save tensors are not low-rank updates: refused unless the recipe says drop or average. */
export function modulesToSaveRefused(holders: { index: number; name: string; modules: string[] }[], policy: string): Verdict | undefined {
  const withHeads = holders.filter((h) => h.modules.length > 0);
  if (withHeads.length === 0 || policy !== 'refuse') return undefined;
  const names = [...new Set(withHeads.flatMap((h) => h.modules))].sort();
  return {
    index: withHeads[0].index,
    message: `${withHeads.map((h) => h.name).join(', ')} carr${withHeads.length === 1 ? 'ies' : 'y'} full replacement weights (modules_to_save: ${names.join(', ')}); they are not low-rank updates, so Σ wᵢ·ΔWᵢ does not apply to them`,
    hint: "set `merge.modules_to_save: drop` (the base model's own weights are used) or `average` (a weighted average of the replacements)",
  };
}

/** Adapters that share a module must agree on its shape (else they were trained on different models). */
export function shapeConflict(adapters: { name: string; modules: Iterable<{ name: string; inFeatures: number; outFeatures: number; kernel?: number[]; embedding?: boolean }> }[]): Verdict | undefined {
  const seen = new Map<string, { index: number; m: { inFeatures: number; outFeatures: number; kernel?: number[]; embedding?: boolean } }>();
  for (const [index, a] of adapters.entries()) {
    for (const m of a.modules) {
      const first = seen.get(m.name);
      if (!first) {
        seen.set(m.name, { index, m });
        continue;
      }
      const same = first.m.inFeatures === m.inFeatures && first.m.outFeatures === m.outFeatures && JSON.stringify(first.m.kernel ?? null) === JSON.stringify(m.kernel ?? null) && !!first.m.embedding === !!m.embedding;
      if (!same) {
        return {
          index,
          message: `module "${m.name}" is [${m.outFeatures}, ${m.inFeatures}] in ${a.name} but [${first.m.outFeatures}, ${first.m.inFeatures}] in ${adapters[first.index].name}`,
          hint: 'the adapters were trained on different base models',
        };
      }
    }
  }
  return undefined;
}
