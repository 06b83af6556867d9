/**
 * What a merge will write, decided before anything is written: the inputs and options checked, the
 * union of the adapters' modules with each contribution's coefficient wᵢ·sᵢ, the output layout, dtype
 * and per-module rank, and the modules_to_save tensors. Also the per-module read of the factors into
 * concatenated panels that the svd, cat and entry-wise paths (and the truncation prediction) share.
 */
import { ComposerError } from '../errors';
import type { LoraAdapter, LoraModule } from './adapter';
import type { MergedFactors } from './compositeFactors';
import { cloneofsimoLayoutRefusal } from './cloneofsimoFormat';
import { layoutForFormat, type OutputLayout, type OutputModule } from './compositeLayout';
import { fitsFloat32, parseFloatDType, widestFloatDType, type FloatDType } from './dtypes';
import { isEntrywiseMethod, ENTRYWISE_METHODS } from './entrywiseMerge';
import type { FactorPanels } from './factorPanels';
import { modulesToSaveRefused, noSharedModules, shapeConflict } from './mergeVerdicts';
import type { MergeInput, MergeOptions, ModulesToSavePolicy } from './mergeTypes';
import { mostCommon } from './moduleFacts';
import type { Scratch } from './scratch';

export interface Contribution {
  adapter: number;
  module: LoraModule;
  /** wᵢ·sᵢ */
  coefficient: number;
}

export interface ModulePlan {
  out: OutputModule;
  contributions: Contribution[];
  /** Σ rᵢ */
  innerRank: number;
}

export function validateInputs(inputs: MergeInput[], options: MergeOptions): void {
  if (inputs.length === 0) throw new ComposerError('merge', 'nothing to merge: no adapters given');
  const names = new Set<string>();
  for (const i of inputs) {
    if (names.has(i.name)) throw new ComposerError('merge', `adapter "${i.name}" is listed twice`);
    names.add(i.name);
    if (typeof i.weight !== 'number' || !Number.isFinite(i.weight)) throw new ComposerError('non-finite', `weight of "${i.name}" is ${i.weight}`);
  }
  if (options.method !== 'cat' && options.method !== 'svd' && !isEntrywiseMethod(options.method)) {
    throw new ComposerError('usage', `unknown merge method "${String(options.method)}"`, undefined, `use 'cat' (exact, rank Σrᵢ), 'svd' (best rank-r approximation) or one of ${ENTRYWISE_METHODS.join(', ')}`);
  }
  if (options.density !== undefined && !(typeof options.density === 'number' && options.density > 0 && options.density <= 1)) {
    throw new ComposerError('usage', `density must be a number in (0, 1], found ${options.density}`);
  }
  if (options.seed !== undefined && !(Number.isSafeInteger(options.seed) && options.seed >= 0)) {
    throw new ComposerError('usage', `seed must be a non-negative integer, found ${options.seed}`);
  }
  if (options.rank !== undefined && (!Number.isInteger(options.rank) || options.rank < 1)) {
    throw new ComposerError('usage', `rank must be a positive integer, found ${options.rank}`);
  }
}

/** Whether float32 holds every input factor of the module exactly (its panels are then float32). */
function panelsFitFloat32(adapters: LoraAdapter[], plan: ModulePlan): boolean {
  return plan.contributions.every((c) => [c.module.aKey, c.module.bKey].every((k) => fitsFloat32(adapters[c.adapter].file.info(k).dtype as FloatDType)));
}

/** The bytes readPanels holds for the module: A [R, n] and B [m, R], float32 or float64. */
export function panelBytes(adapters: LoraAdapter[], plan: ModulePlan): number {
  return plan.innerRank * (plan.out.inFeatures + plan.out.outFeatures) * (panelsFitFloat32(adapters, plan) ? 4 : 8);
}

/**
 * One module's factors, concatenated as they are decoded: A [R, n] and B [m, R] (Bᵀ [R, m] with
 * `bTransposed`), float32 when that holds every input exactly, in the scratch's panel slots named by
 * `slot` (valid until the next module is read into the same slot).
 */
export function readPanels(adapters: LoraAdapter[], plan: ModulePlan, scratch: Scratch, options: { bTransposed?: boolean; slot?: string } = {}): FactorPanels {
  const { outFeatures: m, inFeatures: n } = plan.out;
  const R = plan.innerRank;
  const bt = options.bTransposed === true;
  const slot = options.slot ?? 'panel';
  const narrow = panelsFitFloat32(adapters, plan);
  const a = narrow ? scratch.float32(`${slot}.a`, R * n) : scratch.float64(`${slot}.a`, R * n);
  const b = narrow ? scratch.float32(`${slot}.b`, m * R) : scratch.float64(`${slot}.b`, m * R);
  const coefficients = new Float64Array(R);
  let row = 0;
  for (const c of plan.contributions) {
    const adapter = adapters[c.adapter];
    const mod = c.module;
    const r = mod.rank;
    // MLX stores lora_a [in, r] = Aᵀ and lora_b [r, out] = Bᵀ
    const plain = mod.layout !== 'transposed';
    // B [m, r] goes to columns row… of B [m, R], or to rows row… of Bᵀ [R, m]
    const bAt = bt
      ? plain ? { offset: row * m, rowStride: 1, colStride: m } : { offset: row * m, rowStride: m, colStride: 1 }
      : plain ? { offset: row, rowStride: R, colStride: 1 } : { offset: row, rowStride: 1, colStride: R };
    const finite =
      adapter.file.readInto(mod.aKey, a, plain ? { offset: row * n, rowStride: n, colStride: 1 } : { offset: row * n, rowStride: 1, colStride: n }, scratch) &&
      adapter.file.readInto(mod.bKey, b, bAt, scratch);
    if (!finite) {
      throw new ComposerError('non-finite', `module "${mod.name}" has a non-finite value (NaN or ±Infinity)`, { file: adapter.weightsFile }, 'the adapter file is corrupt or was trained into overflow');
    }
    coefficients.fill(c.coefficient, row, row + r);
    row += r;
  }
  return bt ? { m, n, a, b, coefficients, bTransposed: true } : { m, n, a, b, coefficients };
}

/**
 * cat: the concatenated factors with √|c| folded into both sides and the sign into A. The scales are
 * applied as the tensors are encoded (float64 products, one rounding); `keep` copies the panels out
 * of the scratch slots when the module's tensors are not written back to back.
 */
export function concatenatedFactors(panels: FactorPanels, keep: boolean): MergedFactors {
  const R = panels.coefficients.length;
  const a = new Float64Array(R), b = new Float64Array(R);
  for (let t = 0; t < R; t++) {
    const c = panels.coefficients[t];
    b[t] = Math.sqrt(Math.abs(c));
    a[t] = Math.sign(c) * b[t];
  }
  return { a: keep ? panels.a.slice() : panels.a, b: keep ? panels.b.slice() : panels.b, k: R, scales: { a, b } };
}

/** Reads the adapters and decides the output: module plans, layout, dtype, extras. */
export function planMerge(inputs: MergeInput[], adapters: LoraAdapter[], options: MergeOptions, warnings: string[]) {
  // shapes must agree where adapters share a module (every adapter, weight 0 included: the union below relies on it)
  const conflict = shapeConflict(adapters.map((a, i) => ({ name: inputs[i].name, modules: a.modules.values() })));
  if (conflict) throw new ComposerError('dimension', conflict.message, { file: adapters[conflict.index].weightsFile }, conflict.hint);
  const union = new Map<string, Contribution[]>();
  adapters.forEach((adapter, index) => {
    const w = inputs[index].weight;
    if (w === 0) warnings.push(`${inputs[index].name} has weight 0 and contributes nothing`);
    for (const m of adapter.modules.values()) {
      const list = union.get(m.name) ?? [];
      if (w !== 0) list.push({ adapter: index, module: m, coefficient: w * m.scale });
      union.set(m.name, list);
    }
  });
  const unshared = noSharedModules(adapters.map((a, i) => ({ name: inputs[i].name, format: a.format, modules: a.modules.keys() })));
  if (unshared) throw new ComposerError('merge', unshared.message, { file: adapters[unshared.index].path }, unshared.hint);
  const bases = [...new Set(adapters.map((a) => a.base).filter((b): b is string => !!b))];
  if (bases.length > 1) warnings.push(`the adapters name different base models (${bases.join(', ')}); their module shapes agree`);

  const formats = [...new Set(adapters.map((a) => a.format))];
  const layout: OutputLayout = options.layout ?? (formats.length === 1 ? layoutForFormat(formats[0]) : 'peft');
  if (layout === 'cloneofsimo') {
    const refusal = cloneofsimoLayoutRefusal(union.keys());
    if (refusal) throw new ComposerError('usage', refusal, undefined, 'write the composite in the PEFT, kohya or diffusers layout');
  }
  let dtype: FloatDType;
  if (options.dtype !== undefined) {
    const parsed = parseFloatDType(options.dtype);
    if (!parsed) throw new ComposerError('usage', `unknown dtype "${options.dtype}"`, undefined, 'use bf16, f16, f32 or f64');
    dtype = parsed;
  } else {
    dtype = widestFloatDType(adapters.flatMap((a) => [...a.modules.values()].map((m) => m.dtype)));
  }

  const rankOption = options.rank ?? Math.max(...adapters.map((a) => mostCommon([...a.modules.values()].map((m) => m.rank))));
  const plans: ModulePlan[] = [];
  for (const [name, contributions] of [...union].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const innerRank = contributions.reduce((s, c) => s + c.module.rank, 0);
    if (innerRank === 0) continue; // every adapter with this module has weight 0
    const any = contributions[0].module;
    // the entry-wise methods' dense result is full rank: rank r, bounded by the module's shape only
    const rank = options.method === 'cat' ? innerRank : isEntrywiseMethod(options.method) ? Math.min(rankOption, any.outFeatures, any.inFeatures) : Math.min(rankOption, innerRank);
    plans.push({ out: { name, rank, inFeatures: any.inFeatures, outFeatures: any.outFeatures, kernel: any.kernel, embedding: any.embedding }, contributions, innerRank });
  }
  if (plans.length === 0) throw new ComposerError('merge', 'every adapter has weight 0: the composite would be empty');
  if (layout === 'mlx') {
    // MLX builds every LoRA layer with one rank: pad with zero directions (the product is unchanged)
    const maxRank = Math.max(...plans.map((p) => p.out.rank));
    for (const p of plans) p.out.rank = maxRank;
  }
  for (const [i, a] of adapters.entries()) {
    const tokens = a.extras.filter((e) => e.kind === 'token-embedding').map((e) => e.name);
    if (tokens.length > 0) warnings.push(`${inputs[i].name}: textual-inversion tokens ${tokens.join(', ')} are not merged (they name new tokens, not weight updates)`);
    if (a.notes.includes('fan_in_fan_out') !== adapters[0].notes.includes('fan_in_fan_out')) {
      warnings.push(`${inputs[i].name} and ${inputs[0].name} disagree on fan_in_fan_out; the output uses true when any input does (PEFT forces it for Conv1D layers anyway)`);
    }
  }
  return { plans, layout, dtype };
}

export interface SavedModule {
  name: string;
  shape: number[];
  dtype: FloatDType;
  values: Float64Array;
}

export function modulesToSave(inputs: MergeInput[], adapters: LoraAdapter[], policy: ModulesToSavePolicy, warnings: string[]): SavedModule[] {
  const holders = adapters.map((a, i) => ({ i, extras: a.extras.filter((e) => e.kind === 'modules_to_save') })).filter((h) => h.extras.length > 0);
  if (holders.length === 0) return [];
  const names = [...new Set(holders.flatMap((h) => h.extras.map((e) => e.name)))].sort();
  const refused = modulesToSaveRefused(holders.map((h) => ({ index: h.i, name: inputs[h.i].name, modules: h.extras.map((e) => e.name) })), policy);
  if (refused) throw new ComposerError('unsupported-adapter', refused.message, { file: adapters[refused.index].path }, refused.hint);
  if (policy === 'drop') {
    warnings.push(`modules_to_save dropped: ${names.join(', ')}`);
    return [];
  }
  const saved: SavedModule[] = [];
  for (const name of names) {
    let sum: Float64Array | undefined;
    let shape: number[] = [];
    let weightSum = 0;
    const dtypes: FloatDType[] = [];
    for (const h of holders) {
      const extra = h.extras.find((e) => e.name === name);
      if (!extra) continue;
      const values = adapters[h.i].file.readFloat64(extra.key);
      if (sum && JSON.stringify(shape) !== JSON.stringify(extra.shape)) {
        throw new ComposerError('dimension', `modules_to_save tensor "${name}" has shape [${extra.shape.join(', ')}] in ${inputs[h.i].name} but [${shape.join(', ')}] elsewhere`, { file: adapters[h.i].weightsFile });
      }
      shape = extra.shape;
      sum ??= new Float64Array(values.length);
      const w = inputs[h.i].weight;
      for (let k = 0; k < values.length; k++) sum[k] += w * values[k];
      weightSum += w;
      dtypes.push(adapters[h.i].file.info(extra.key).dtype as FloatDType);
    }
    if (!sum) continue;
    if (weightSum === 0) throw new ComposerError('merge', `cannot average modules_to_save tensor "${name}": the weights of the adapters that have it sum to 0`);
    for (let k = 0; k < sum.length; k++) sum[k] /= weightSum;
    saved.push({ name, shape, dtype: widestFloatDType(dtypes), values: sum });
  }
  warnings.push(`modules_to_save averaged with the merge weights (renormalised over the adapters that have them): ${names.join(', ')}`);
  return saved;
}
