/**
 * Composing LoRA adapters: per module ΔW = Σ wᵢ·sᵢ·Bᵢ·Aᵢ (modules an adapter lacks contribute zero),
 * written as a new adapter whose runtime scale is exactly 1 (the factors carry the coefficients).
 *   cat: concatenated factors, rank Σrᵢ, exact to the output dtype's rounding;
 *   svd: the best rank-r approximation, from the two R×R Grams of the factors (never the dense m×n
 *        matrix; see truncatedProduct.ts), with float32 output products when the output is bf16 or f16.
 *   ties, dare_linear, dare_ties, magnitude_prune: entry-wise on the dense wᵢ·ΔWᵢ, one module at a time
 *        (entrywiseMerge.ts), written back at rank r by a truncated SVD of the dense result (denseTruncation.ts).
 * Factors are decoded straight into concatenated panels in reused buffers (scratch.ts), one module
 * at a time, and each output tensor is encoded and written as soon as it is known.
 * The output folder is written atomically (staging folder + rename).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError } from '../errors';
import { createMatMulEngine, type MatMulEngine } from '../onnx/matmul';
import type { ProviderRequest } from '../onnx/session';
import type { LoraAdapter, LoraModule } from './adapter';
import { createStagingFolder, discardStagingFolder, publishStagingFolder, writeFailure } from './atomicFolder';
import { encodeCompositeFactor, type MergedFactors } from './compositeFactors';
import { layoutForFormat, outputTensors, WEIGHTS_FILE, type OutputLayout, type OutputModule, type OutputTensor } from './compositeLayout';
import { encodeFromFloat64, firstNonFiniteEncoded, fitsFloat32, FLOAT_MAX, parseFloatDType, widestFloatDType, type FloatDType } from './dtypes';
import { shortModuleName } from './describe';
import { openAdapter } from './formats';
import { entrywiseModule, isEntrywiseMethod, ENTRYWISE_METHODS, type EntrywiseMethod } from './entrywiseMerge';
import { truncateDense, type TruncationRoute } from './denseTruncation';
import { gramsJs, jsProducts, ortProducts, truncateModule, truncationMix, type FactorPanels, type PanelProducts } from './truncatedProduct';
import { SafetensorsStream } from './safetensors';
import { modulesToSaveRefused, noSharedModules, shapeConflict } from './mergeVerdicts';
import { adapterChangedError, adapterDrift, type RecordedFacts } from '../library/integrity';
import { Scratch } from './scratch';

export interface MergeInput {
  name: string;
  path: string;
  weight: number;
  /** The library row's facts: the bytes read must hash to its sha256 and the config give its ranks/α. */
  expect?: RecordedFacts;
}

export type MergeMethod = 'cat' | 'svd' | EntrywiseMethod;
export type ModulesToSavePolicy = 'refuse' | 'drop' | 'average';

export interface MergeProgress {
  modulesDone: number;
  modulesTotal: number;
  bytesWritten: number;
  bytesTotal: number;
}

export interface MergeOptions {
  method: MergeMethod;
  /** svd: the output rank (default: the largest input rank). */
  rank?: number;
  /** Entry-wise methods: the fraction of entries kept, in (0, 1] (default 0.2). */
  density?: number;
  /** DARE's seed, an integer (default 0). */
  seed?: number;
  /** Entry-wise methods: mergekit's normalize (divide by the contributing weights' sum); default false (sum). */
  normalize?: boolean;
  /** Entry-wise methods: how the dense result is truncated (default auto: exact up to min(m, n) = 1024). */
  truncation?: 'auto' | TruncationRoute;
  /** Output dtype (bf16, f16, f32, f64); default: the inputs' (the widest when they differ). */
  dtype?: string;
  /** Full replacement weights (PEFT modules_to_save): refuse (default), drop, or average with the merge weights. */
  modulesToSave?: ModulesToSavePolicy;
  /** Output layout; default: the inputs' format when they share one, else PEFT. */
  layout?: OutputLayout;
  signal?: AbortSignal;
  onProgress?: (p: MergeProgress) => void;
  /** Where the heavy products run: ONNX Runtime when it loads ('auto', default), or plain JS. */
  products?: 'auto' | 'js' | 'onnx' | PanelProducts;
  /** An ORT MatMul engine to reuse (otherwise one is created and disposed for this merge). */
  engine?: MatMulEngine;
  /** The execution provider the products ask for (the recipe's / the editor's setting; default cpu). */
  provider?: ProviderRequest;
  /**
   * The caller (compose) has checked that an existing output may be replaced; otherwise only an
   * empty folder or one holding compose's composition.json is.
   */
  outputChecked?: boolean;
  /** Called with the finished files before the output is replaced; throwing leaves the output as it was. */
  beforePublish?: (files: { path: string; sha256: string }[]) => void;
  /** The library the inputs' `expect` facts come from (named in the fix of a mismatch). */
  libraryUri?: string;
  /** The base model, written into the metadata of layouts that have no config for it (kohya, diffusers, cloneofsimo). */
  baseModel?: string;
  /** The composite's title (modelspec.title): the recipe's name. */
  title?: string;
}

export interface MergeResult {
  outputDir: string;
  method: MergeMethod;
  layout: OutputLayout;
  dtype: FloatDType;
  modules: number;
  /** The most common output rank; `ranks` lists every module. */
  rank: number;
  ranks: Record<string, number>;
  energyKept: { min: number; mean: number; perModule: Record<string, number> };
  files: { path: string; sha256: string }[];
  /** Per input, the sha256 of the weights-file bytes that were parsed and merged. */
  inputs: { name: string; sha256: string }[];
  modulesToSave: { policy: ModulesToSavePolicy; names: string[] };
  /** Where the heavy products ran (js, onnxruntime-cpu, …). */
  products: string;
  warnings: string[];
  /** Entry-wise methods: the parameters and, per module, the truncation's relative error and route. */
  entrywise?: { density: number; seed: number; normalize: boolean; relativeError: Record<string, number>; route: Record<string, TruncationRoute> };
}

interface Contribution {
  adapter: number;
  module: LoraModule;
  /** wᵢ·sᵢ */
  coefficient: number;
}

interface ModulePlan {
  out: OutputModule;
  contributions: Contribution[];
  /** Σ rᵢ */
  innerRank: number;
}

/**
 * These layouts have no config file, so the base model goes into the safetensors `__metadata__` as
 * kohya's sd-scripts write it: `ss_sd_model_name` (which kohya readers, ours included, take as the
 * base), `ss_base_model_version` for the Stable Diffusion families it names, and the SAI ModelSpec
 * keys (`modelspec.sai_model_spec`, `.architecture` when the family is known, `.implementation`,
 * `.title`, `.merged_from`).
 */
export function baseModelMetadata(layout: OutputLayout, options: Pick<MergeOptions, 'baseModel' | 'title'>, inputs: { name: string }[]): Record<string, string> {
  const out: Record<string, string> = {
    'modelspec.sai_model_spec': '1.0.0',
    'modelspec.implementation': layout === 'kohya' ? 'https://github.com/Stability-AI/generative-models' : 'diffusers',
    'modelspec.title': options.title ?? `adapter-composer composite of ${inputs.map((i) => i.name).join(', ')}`,
    'modelspec.merged_from': inputs.map((i) => i.name).join(', '),
  };
  const base = options.baseModel;
  if (!base) return out;
  out.ss_sd_model_name = base;
  const family = stableDiffusionFamily(base);
  if (family) {
    out.ss_base_model_version = family.kohya;
    out['modelspec.architecture'] = `${family.modelspec}/lora`;
  }
  return out;
}

/** The Stable Diffusion family a base model id names, in kohya's and ModelSpec's spelling. */
function stableDiffusionFamily(base: string): { kohya: string; modelspec: string } | undefined {
  const b = base.toLowerCase();
  if (/(xl|sdxl)/.test(b) && /(diffusion|sd)/.test(b)) return { kohya: 'sdxl_base_v1-0', modelspec: 'stable-diffusion-xl-v1-base' };
  if (/stable-diffusion-2|sd-?2(\.|-|_)|sd_v2/.test(b)) return { kohya: 'sd_v2', modelspec: 'stable-diffusion-v2' };
  if (/stable-diffusion-v1|stable-diffusion-v-1|sd-?v?1(\.|-|_)|sd15|sd_v1|sd1\.5/.test(b)) return { kohya: 'sd_v1', modelspec: 'stable-diffusion-v1' };
  return undefined;
}

function cancelled(): ComposerError {
  return new ComposerError('cancelled', 'merge cancelled; the previous output (if any) is untouched');
}

function validateInputs(inputs: MergeInput[], options: MergeOptions): void {
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

function sameShape(a: LoraModule, b: LoraModule): boolean {
  return a.inFeatures === b.inFeatures && a.outFeatures === b.outFeatures && JSON.stringify(a.kernel ?? null) === JSON.stringify(b.kernel ?? null) && !!a.embedding === !!b.embedding;
}

function mostCommon(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = 0, bestCount = -1;
  for (const [v, c] of counts) if (c > bestCount || (c === bestCount && v > best)) [best, bestCount] = [v, c];
  return best;
}

async function chooseProducts(options: MergeOptions): Promise<{ products: PanelProducts; dispose?: () => Promise<void>; warning?: string }> {
  const choice = options.products ?? 'auto';
  if (typeof choice === 'object') return { products: choice };
  if (choice === 'js') return { products: jsProducts };
  if (options.engine) return { products: ortProducts(options.engine) };
  const engine = await createMatMulEngine({ provider: options.provider ?? 'cpu' });
  if (engine.provider === 'js') {
    await engine.dispose();
    if (choice === 'onnx') throw new ComposerError('merge', engine.fallback ?? 'ONNX Runtime is not available');
    return { products: jsProducts, warning: engine.fallback };
  }
  // A requested provider that did not load (cuda without its libraries) is said, not swallowed.
  return { products: ortProducts(engine), dispose: () => engine.dispose(), warning: engine.fallback };
}

/**
 * One module's factors, concatenated as they are decoded: A [R, n] and B [m, R], float32 when that
 * holds every input exactly, in the scratch's panel slots (valid until the next module is read).
 */
function readPanels(adapters: LoraAdapter[], plan: ModulePlan, scratch: Scratch): FactorPanels {
  const { outFeatures: m, inFeatures: n } = plan.out;
  const R = plan.innerRank;
  const narrow = plan.contributions.every((c) => [c.module.aKey, c.module.bKey].every((k) => fitsFloat32(adapters[c.adapter].file.info(k).dtype as FloatDType)));
  const a = narrow ? scratch.float32('panel.a', R * n) : scratch.float64('panel.a', R * n);
  const b = narrow ? scratch.float32('panel.b', m * R) : scratch.float64('panel.b', m * R);
  const coefficients = new Float64Array(R);
  let row = 0;
  for (const c of plan.contributions) {
    const adapter = adapters[c.adapter];
    const mod = c.module;
    const r = mod.rank;
    // MLX stores lora_a [in, r] = Aᵀ and lora_b [r, out] = Bᵀ
    const plain = mod.layout !== 'transposed';
    const finite =
      adapter.file.readInto(mod.aKey, a, plain ? { offset: row * n, rowStride: n, colStride: 1 } : { offset: row * n, rowStride: 1, colStride: n }, scratch) &&
      adapter.file.readInto(mod.bKey, b, plain ? { offset: row, rowStride: R, colStride: 1 } : { offset: row, rowStride: 1, colStride: R }, scratch);
    if (!finite) {
      throw new ComposerError('non-finite', `module "${mod.name}" has a non-finite value (NaN or ±Infinity)`, { file: adapter.weightsFile }, 'the adapter file is corrupt or was trained into overflow');
    }
    coefficients.fill(c.coefficient, row, row + r);
    row += r;
  }
  return { m, n, a, b, coefficients };
}

/**
 * cat: the concatenated factors with √|c| folded into both sides and the sign into A. The scales are
 * applied as the tensors are encoded (float64 products, one rounding); `keep` copies the panels out
 * of the scratch slots when the module's tensors are not written back to back.
 */
function concatenatedFactors(panels: FactorPanels, keep: boolean): MergedFactors {
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
function planMerge(inputs: MergeInput[], adapters: LoraAdapter[], options: MergeOptions, warnings: string[]) {
  // shapes must agree where adapters share a module
  const conflict = shapeConflict(adapters.map((a, i) => ({ name: inputs[i].name, modules: a.modules.values() })));
  if (conflict) throw new ComposerError('dimension', conflict.message, { file: adapters[conflict.index].weightsFile }, conflict.hint);
  const union = new Map<string, Contribution[]>();
  adapters.forEach((adapter, index) => {
    const w = inputs[index].weight;
    if (w === 0) warnings.push(`${inputs[index].name} has weight 0 and contributes nothing`);
    for (const m of adapter.modules.values()) {
      const list = union.get(m.name) ?? [];
      const first = list[0]?.module;
      if (first && !sameShape(first, m)) {
        const other = inputs[list[0].adapter].name;
        throw new ComposerError(
          'dimension',
          `module "${m.name}" is [${m.outFeatures}, ${m.inFeatures}] in ${inputs[index].name} but [${first.outFeatures}, ${first.inFeatures}] in ${other}`,
          { file: adapter.weightsFile },
          'the adapters were trained on different base models',
        );
      }
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
    const any = contributions[0]?.module ?? adapters.flatMap((a) => [...a.modules.values()]).find((m) => m.name === name)!;
    const innerRank = contributions.reduce((s, c) => s + c.module.rank, 0);
    if (innerRank === 0) continue; // every adapter with this module has weight 0
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

interface SavedModule {
  name: string;
  shape: number[];
  dtype: FloatDType;
  values: Float64Array;
}

function modulesToSave(inputs: MergeInput[], adapters: LoraAdapter[], policy: ModulesToSavePolicy, warnings: string[]): SavedModule[] {
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

function peftConfig(adapters: LoraAdapter[], plans: ModulePlan[], layoutRank: number, saved: SavedModule[], format: string): Record<string, unknown> {
  const first = adapters.find((a) => a.format === 'peft' && a.config)?.config ?? {};
  const ranks: Record<string, number> = {};
  for (const p of plans) if (p.out.rank !== layoutRank) ranks[p.out.name] = p.out.rank;
  const targets = [...new Set(plans.map((p) => shortModuleName(p.out.name, 'peft')))].sort();
  const config: Record<string, unknown> = {
    ...first,
    peft_type: 'LORA',
    base_model_name_or_path: adapters.find((a) => a.base)?.base ?? (first.base_model_name_or_path ?? null),
    r: layoutRank,
    lora_alpha: layoutRank,
    // every module's α equals its rank: scale 1, the factors carry wᵢ·sᵢ
    rank_pattern: ranks,
    alpha_pattern: { ...ranks },
    target_modules: targets,
    use_rslora: false,
    use_dora: false,
    fan_in_fan_out: adapters.some((a) => a.notes.includes('fan_in_fan_out')),
    modules_to_save: saved.length > 0 ? [...new Set(adapters.flatMap((a) => (Array.isArray(a.config?.modules_to_save) ? (a.config.modules_to_save as string[]) : [])))] : null,
    layers_to_transform: null,
    layers_pattern: null,
    inference_mode: true,
  };
  if (format !== 'peft') config.task_type = config.task_type ?? null;
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(config).sort()) sorted[k] = config[k];
  return sorted;
}

/**
 * Every output tensor is checked as encoded: a value beyond the dtype's range became ±Infinity (an
 * f16 composite of entries near 2e5, or an svd product near 3e38), and NaN must never be written.
 * Refuses with the module and the fix instead of writing a composite that silently breaks inference.
 */
function finiteOrRefuse(bytes: Uint8Array, dtype: FloatDType, key: string, module: string): Uint8Array {
  const at = firstNonFiniteEncoded(bytes, dtype);
  if (at < 0) return bytes;
  const wider = dtype === 'F16' ? '`merge.dtype: bf16` or `f32`' : dtype === 'BF16' || dtype === 'F32' ? '`merge.dtype: f64`' : 'inputs with finite values';
  throw new ComposerError('merge', `module "${module}": the composite overflows ${dtype.toLowerCase()} (tensor ${key}, element ${at} is beyond ±${FLOAT_MAX[dtype]} or not a number); nothing was written`, undefined,
    `set ${wider}, or lower the weights`);
}

function writeJsonFile(file: string, value: unknown): string {
  const text = JSON.stringify(value, null, 2) + '\n';
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return createHash('sha256').update(text).digest('hex');
}

/** `input` relative to the output folder, `/`-separated. */
function relativeToOutput(outputDir: string, input: string): string {
  return path.relative(path.resolve(outputDir), path.resolve(input)).split(path.sep).join('/') || '.';
}

/** What an svd merge to `rank` would lose, known before composing. */
export interface TruncationPrediction {
  rank: number;
  /** Modules whose summed rank exceeds `rank` (only those are truncated). */
  truncatedModules: number;
  modules: number;
  /** Fraction of ‖ΔW‖²_F kept: the smallest over modules, and over all modules together. */
  energyKept: { min: number; overall: number };
  /** ‖ΔW − ΔW_r‖_F / ‖ΔW‖_F: the largest over modules, and over all modules together. */
  relativeError: { max: number; overall: number };
}

/**
 * The truncation an svd merge would make, from the factors alone: per module the Grams A·Aᵀ and Bᵀ·B
 * of the concatenated factors (R×R, R = Σ rᵢ) and the eigenvalues of the small core give the
 * singular values of Σ wᵢ ΔWᵢ; what falls beyond `rank` is the loss. No dense ΔW, no output written.
 */
export async function predictTruncation(inputs: MergeInput[], rank: number): Promise<TruncationPrediction> {
  validateInputs(inputs, { method: 'svd', rank });
  const adapters = inputs.map((i) => openAdapter(i.path));
  const { plans } = planMerge(inputs, adapters, { method: 'svd', rank }, []);
  const scratch = new Scratch();
  let truncated = 0;
  let minKept = 1;
  let maxError = 0;
  let total = 0;
  let kept = 0;
  for (const plan of plans) {
    const panels = readPanels(adapters, plan, scratch);
    const grams = gramsJs(panels);
    // ‖B·diag(c)·A‖²_F = Σ_st c_s·c_t·(AAᵀ)_st·(BᵀB)_st
    const R = plan.innerRank;
    const c = panels.coefficients;
    let energy = 0;
    for (let x = 0; x < R; x++) for (let y = 0; y < R; y++) energy += c[x] * c[y] * grams.a[x * R + y] * grams.b[x * R + y];
    energy = Math.max(0, energy);
    total += energy;
    if (R <= rank) { kept += energy; continue; }
    truncated++;
    const mix = truncationMix(grams.a, grams.b, c, rank);
    minKept = Math.min(minKept, mix.energyKept);
    maxError = Math.max(maxError, Math.sqrt(Math.max(0, 1 - mix.energyKept)));
    kept += energy * mix.energyKept;
  }
  const overall = total > 0 ? kept / total : 1;
  return {
    rank,
    truncatedModules: truncated,
    modules: plans.length,
    energyKept: { min: minKept, overall },
    relativeError: { max: maxError, overall: Math.sqrt(Math.max(0, 1 - overall)) },
  };
}

export async function mergeAdapters(inputs: MergeInput[], options: MergeOptions, outputDir: string): Promise<MergeResult> {
  validateInputs(inputs, options);
  // Each weights file is hashed in the pass that reads its header, and its tensors come through the
  // same descriptor: the hash names the bytes merged, and must be the one the library recorded.
  const adapters: LoraAdapter[] = [];
  try {
    for (const input of inputs) {
      const adapter = openAdapter(input.path, { pin: true });
      adapters.push(adapter);
      if (input.expect) {
        const drift = adapterDrift(adapter, adapter.file.pinned!.sha256, input.expect);
        if (drift.length > 0) throw adapterChangedError(input.expect, drift, options.libraryUri, { file: adapter.weightsFile });
      }
    }
    return await mergeOpened(inputs, adapters, options, outputDir);
  } finally {
    for (const a of adapters) a.file.close();
  }
}

async function mergeOpened(inputs: MergeInput[], adapters: LoraAdapter[], options: MergeOptions, outputDir: string): Promise<MergeResult> {
  const warnings: string[] = [];
  const policy = options.modulesToSave ?? 'refuse';
  const saved = modulesToSave(inputs, adapters, policy, warnings);
  const { plans, layout, dtype } = planMerge(inputs, adapters, options, warnings);
  if (saved.length > 0 && layout !== 'peft') throw new ComposerError('merge', `modules_to_save can only be written in the PEFT layout, not ${layout}`, undefined, 'use modules_to_save: drop');
  if (options.signal?.aborted) throw cancelled();

  const tensors: OutputTensor[] = plans.flatMap((p) => outputTensors(layout, p.out, dtype));
  const byKey = new Map(tensors.map((t) => [t.key, t]));
  const planByName = new Map(plans.map((p) => [p.out.name, p]));
  const savedByKey = new Map(saved.map((s) => [`base_model.model.${s.name}`, s]));
  const streamTensors = [...tensors.map((t) => ({ name: t.key, dtype: t.dtype, shape: t.shape })), ...saved.map((s) => ({ name: `base_model.model.${s.name}`, dtype: s.dtype, shape: s.shape }))];
  const metadata: Record<string, string> = { format: 'pt' };
  if (layout === 'kohya') Object.assign(metadata, { ss_network_module: 'networks.lora', ss_network_dim: String(mostCommon(plans.map((p) => p.out.rank))), ss_network_alpha: String(mostCommon(plans.map((p) => p.out.rank))) });
  if (layout === 'cloneofsimo') {
    for (const [k, v] of Object.entries(adapters[0].metadata)) if (!k.includes(':') && v.startsWith('[')) metadata[k] = v;
    for (const p of plans) metadata[`${p.out.name}:rank`] = String(p.out.rank);
    delete metadata.format;
  }
  if (layout === 'kohya' || layout === 'diffusers' || layout === 'cloneofsimo') Object.assign(metadata, baseModelMetadata(layout, options, inputs));

  // cat only copies and scales: no products, so no ONNX Runtime session to open
  const chosen = options.method === 'cat' ? { products: { ...jsProducts, name: 'none (cat copies the factors)' } as PanelProducts, dispose: undefined, warning: undefined } : await chooseProducts(options);
  if (chosen.warning) warnings.push(chosen.warning);
  const staging = createStagingFolder(outputDir, { checked: options.outputChecked });
  const weightsPath = path.join(staging, WEIGHTS_FILE[layout]);
  const energy: Record<string, number> = {};
  const entrywise = isEntrywiseMethod(options.method)
    ? { density: options.density ?? 0.2, seed: options.seed ?? 0, normalize: options.normalize ?? false, relativeError: {} as Record<string, number>, route: {} as Record<string, TruncationRoute> }
    : undefined as (NonNullable<MergeResult['entrywise']> & { lastEnergy?: number }) | undefined;
  const files: { path: string; sha256: string }[] = [];
  let stream: SafetensorsStream | undefined;
  const scratch = new Scratch();
  try {
    stream = new SafetensorsStream(weightsPath, streamTensors, { metadata, atomic: false });
    const bytesTotal = stream.order.reduce((s, t) => s + t.shape.reduce((x, y) => x * y, 1) * (t.dtype === 'F64' ? 8 : t.dtype === 'F32' ? 4 : 2), 0);
    const pending = new Map<string, MergedFactors & { remaining: number }>();
    // reused buffers may hold a module's output only while no other module's tensor comes between its own
    const position = new Map(stream.order.map((t, i) => [t.name, i]));
    const contiguous = plans.every((p) => {
      const at = outputTensors(layout, p.out, dtype).map((t) => position.get(t.key)!);
      return Math.max(...at) - Math.min(...at) === at.length - 1;
    });
    let modulesDone = 0;
    for (let next = stream.next; next; next = stream.next) {
      if (options.signal?.aborted) throw cancelled();
      const savedTensor = savedByKey.get(next.name);
      if (savedTensor) {
        stream.push(finiteOrRefuse(encodeFromFloat64(savedTensor.values, savedTensor.dtype), savedTensor.dtype, next.name, savedTensor.name));
        continue;
      }
      const tensor = byKey.get(next.name)!;
      const plan = planByName.get(tensor.module)!;
      let merged = pending.get(plan.out.name);
      if (!merged) {
        const panels = readPanels(adapters, plan, scratch);
        let factors: MergedFactors;
        if (options.method === 'cat') {
          factors = concatenatedFactors(panels, !contiguous);
          energy[plan.out.name] = 1;
        } else if (entrywise) {
          factors = await entrywiseFactors(adapters, inputs, plan, panels, options.method as EntrywiseMethod, entrywise, chosen.products, scratch, options);
          energy[plan.out.name] = entrywise.lastEnergy!;
        } else {
          // float32 output products only where the output rounding is far coarser (bf16, f16)
          const precision = dtype === 'BF16' || dtype === 'F16' ? 'f32' : 'f64';
          const t = await truncateModule(panels, plan.out.rank, chosen.products, precision);
          factors = { a: t.a, b: t.b, k: t.rank };
          energy[plan.out.name] = t.energyKept;
        }
        merged = { ...factors, remaining: outputTensors(layout, plan.out, dtype).length };
        pending.set(plan.out.name, merged);
      }
      stream.push(finiteOrRefuse(encodeCompositeFactor(layout, tensor, plan.out, merged, scratch), tensor.dtype, tensor.key, plan.out.name));
      if (--merged.remaining === 0) {
        pending.delete(plan.out.name);
        modulesDone++;
        options.onProgress?.({ modulesDone, modulesTotal: plans.length, bytesWritten: stream.bytes, bytesTotal });
      }
    }
    stream.commit();
    files.push({ path: WEIGHTS_FILE[layout], sha256: stream.sha256() });
    stream = undefined;

    const layoutRank = mostCommon(plans.map((p) => p.out.rank));
    if (layout === 'peft') {
      files.push({ path: 'adapter_config.json', sha256: writeJsonFile(path.join(staging, 'adapter_config.json'), peftConfig(adapters, plans, layoutRank, saved, adapters[0].format)) });
    } else if (layout === 'mlx') {
      const first = adapters.find((a) => a.format === 'mlx')?.config ?? {};
      const params = { ...((first.lora_parameters as Record<string, unknown>) ?? {}), rank: layoutRank, scale: 1.0 };
      if ('alpha' in params) params.alpha = layoutRank;
      files.push({ path: 'adapter_config.json', sha256: writeJsonFile(path.join(staging, 'adapter_config.json'), { ...first, fine_tune_type: 'lora', lora_parameters: params }) });
    }
    const perModule = energy;
    const values = Object.values(perModule);
    const composition = {
      tool: 'adapter-composer',
      method: options.method,
      layout,
      dtype,
      rank: layoutRank,
      // input paths relative to the composite (an absolute path would leak this machine's layout into a committed folder)
      inputs: inputs.map((inp, i) => ({ name: inp.name, path: relativeToOutput(outputDir, inp.path), weight: inp.weight, format: adapters[i].format })),
      modules_to_save: { policy, names: saved.map((s) => s.name) },
      energy_kept: { min: Math.min(...values), mean: values.reduce((s, v) => s + v, 0) / values.length },
      ...(entrywise ? { density: entrywise.density, seed: entrywise.seed, normalize: entrywise.normalize, relative_error_max: Math.max(...Object.values(entrywise.relativeError)) } : {}),
    };
    files.push({ path: 'composition.json', sha256: writeJsonFile(path.join(staging, 'composition.json'), composition) });
    if (options.signal?.aborted) throw cancelled();
    for (const a of adapters) a.file.checkUnchanged();
    options.beforePublish?.([...files].sort((a, b) => (a.path < b.path ? -1 : 1)));
    publishStagingFolder(staging, outputDir);
    const ranks: Record<string, number> = {};
    for (const p of plans) ranks[p.out.name] = p.out.rank;
    return {
      outputDir: path.resolve(outputDir),
      method: options.method,
      layout,
      dtype,
      modules: plans.length,
      rank: layoutRank,
      ranks,
      energyKept: { min: Math.min(...values), mean: values.reduce((s, v) => s + v, 0) / values.length, perModule },
      files: files.sort((a, b) => (a.path < b.path ? -1 : 1)),
      inputs: inputs.map((inp, i) => ({ name: inp.name, sha256: adapters[i].file.pinned!.sha256 })),
      modulesToSave: { policy, names: saved.map((s) => s.name) },
      products: chosen.products.name,
      warnings,
      ...(entrywise ? { entrywise: { density: entrywise.density, seed: entrywise.seed, normalize: entrywise.normalize, relativeError: entrywise.relativeError, route: entrywise.route } } : {}),
    };
  } catch (e) {
    stream?.abort();
    discardStagingFolder(staging);
    throw writeFailure(e, outputDir);
  } finally {
    scratch.close();
    await chosen.dispose?.();
  }
}

/** ties / dare / magnitude_prune on one module: the dense merge, then its rank-r truncation. */
async function entrywiseFactors(
  adapters: LoraAdapter[],
  inputs: MergeInput[],
  plan: ModulePlan,
  panels: FactorPanels,
  method: EntrywiseMethod,
  state: NonNullable<MergeResult['entrywise']> & { lastEnergy?: number },
  products: PanelProducts,
  scratch: Scratch,
  options: MergeOptions,
): Promise<MergedFactors> {
  let row = 0;
  const groups = plan.contributions.map((c) => {
    const g = { key: inputs[c.adapter].name, row, rank: c.module.rank, weight: inputs[c.adapter].weight };
    row += c.module.rank;
    return g;
  });
  const { m, n } = panels;
  const dense = scratch.float64('dense', m * n);
  await entrywiseModule(panels, groups, plan.out.name, { method, density: state.density, seed: state.seed, normalize: state.normalize }, products, dense, options.signal);
  const t = await truncateDense(dense, m, n, plan.out.rank, products, { route: options.truncation, seed: state.seed });
  state.relativeError[plan.out.name] = t.relativeError;
  state.route[plan.out.name] = t.route;
  state.lastEnergy = t.energyKept;
  return { a: t.a, b: t.b, k: t.rank };
}

/** Reads a composite (or any adapter) back in the normalised form. */
export function readComposite(dir: string): LoraAdapter {
  return openAdapter(dir);
}
