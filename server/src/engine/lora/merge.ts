/**
 * Composing LoRA adapters: per module ΔW = Σ wᵢ·sᵢ·Bᵢ·Aᵢ (modules an adapter lacks contribute zero),
 * written as a new adapter whose runtime scale is exactly 1 (the factors carry the coefficients).
 *   cat: concatenated factors, rank Σrᵢ, exact to the output dtype's rounding;
 *   svd: the best rank-r approximation, from the two R×R Grams of the factors (never the dense m×n
 *        matrix; see truncatedProduct.ts), with float32 output products when the output is bf16 or f16;
 *        a module's R×R steps run on a worker thread (mixPool.ts) while the next one is decoded and its
 *        Grams computed here.
 *   ties, dare_linear, dare_ties, magnitude_prune: entry-wise on the dense wᵢ·ΔWᵢ, one module at a time
 *        (entrywiseMerge.ts), written back at rank r by a truncated SVD of the dense result (denseTruncation.ts).
 * Factors are decoded straight into concatenated panels in reused buffers (scratch.ts), one module
 * at a time, and each output tensor is encoded and written as soon as it is known.
 * The output folder is written atomically (staging folder + rename).
 *
 * This file is the streaming loop; what it writes is decided in mergePlanning.ts, each layout's
 * config and metadata come from its format file (compositeLayout.ts), and the loss of an svd merge is
 * predicted in truncationPrediction.ts.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError } from '../errors';
import { createMatMulEngine } from '../onnx/matmul';
import type { LoraAdapter } from './adapter';
import { createStagingFolder, discardStagingFolder, publishStagingFolder, writeFailure } from './atomicFolder';
import { encodeCompositeFactor, type MergedFactors } from './compositeFactors';
import { compositeConfig, compositeMetadata, outputTensors, WEIGHTS_FILE, type OutputTensor } from './compositeLayout';
import { encodeFromFloat64, firstNonFiniteEncoded, FLOAT_MAX, type FloatDType } from './dtypes';
import { openAdapter } from './formats';
import { entrywiseModule, isEntrywiseMethod, type EntrywiseMethod } from './entrywiseMerge';
import { truncateDense, type TruncationRoute } from './denseTruncation';
import type { FactorPanels } from './factorPanels';
import { concatenatedFactors, modulesToSave, panelBytes, planMerge, readPanels, validateInputs, type ModulePlan } from './mergePlanning';
import type { MergeInput, MergeOptions, MergeResult } from './mergeTypes';
import { mostCommon } from './moduleFacts';
import { jsProducts, ortProducts, type PanelProducts } from './panelProducts';
import { MixPool, type Mix } from './mixPool';
import { svdThreads } from './mergeThreads';
import { SafetensorsStream } from './safetensors';
import { adapterChangedError, adapterDrift } from '../library/integrity';
import { Scratch } from './scratch';


export type { MergeInput, MergeMethod, MergeOptions, MergeProgress, MergeResult, ModulesToSavePolicy } from './mergeTypes';

function cancelled(): ComposerError {
  return new ComposerError('cancelled', 'merge cancelled; the previous output (if any) is untouched');
}

async function chooseProducts(options: MergeOptions, intraOpThreads?: number): Promise<{ products: PanelProducts; dispose?: () => Promise<void>; warning?: string }> {
  const choice = options.products ?? 'auto';
  if (typeof choice === 'object') return { products: choice };
  if (choice === 'js') return { products: jsProducts };
  if (options.engine) return { products: ortProducts(options.engine, { intraOpThreads }) };
  const engine = await createMatMulEngine({ provider: options.provider ?? 'cpu' });
  if (engine.provider === 'js') {
    await engine.dispose();
    if (choice === 'onnx') throw new ComposerError('merge', engine.fallback ?? 'ONNX Runtime is not available');
    return { products: jsProducts, warning: engine.fallback };
  }
  // A requested provider that did not load (cuda without its libraries) is said, not swallowed.
  return { products: ortProducts(engine, { intraOpThreads }), dispose: () => engine.dispose(), warning: engine.fallback };
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
  const metadata = compositeMetadata(layout, plans.map((p) => p.out), adapters, options, inputs);

  const svd = options.method === 'svd';
  // mixing workers: as asked (or the default for the cores), no more than the modules whose panels fit in memory ahead
  const threads = svd ? svdThreads({ modules: plans.length, innerRank: Math.max(...plans.map((p) => p.innerRank)), panelBytes: Math.max(...plans.map((p) => panelBytes(adapters, p))), requested: options.mixThreads }) : { mix: 0, ort: undefined };
  // cat only copies and scales: no products, so no ONNX Runtime session to open
  const chosen = options.method === 'cat' ? { products: { ...jsProducts, name: 'none (cat copies the factors)' } as PanelProducts, dispose: undefined, warning: undefined } : await chooseProducts(options, threads.ort);
  if (chosen.warning) warnings.push(chosen.warning);
  const staging = createStagingFolder(outputDir, { checked: options.outputChecked, within: options.outputWithin });
  const weightsPath = path.join(staging, WEIGHTS_FILE[layout]);
  const energy: Record<string, number> = {};
  const entrywise = isEntrywiseMethod(options.method)
    ? { density: options.density ?? 0.2, seed: options.seed ?? 0, normalize: options.normalize ?? false, relativeError: {} as Record<string, number>, route: {} as Record<string, TruncationRoute> }
    : undefined as (NonNullable<MergeResult['entrywise']> & { lastEnergy?: number }) | undefined;
  const files: { path: string; sha256: string }[] = [];
  let stream: SafetensorsStream | undefined;
  const scratch = new Scratch();
  const mixPool = svd ? new MixPool(threads.mix) : undefined;
  // svd: a module's R×R steps (on mixPool's threads) overlap the next modules' decode and Grams here:
  // `ahead` modules are prepared beyond the one being written, so ahead + 1 modules' panels are live
  // at once, in rotating scratch slots; svd reads Bᵀ (row panels: its Grams are products of
  // contiguous row blocks)
  const ahead = Math.max(1, mixPool?.size ?? 0);
  const prepared = new Map<string, Promise<{ panels: FactorPanels; mix: Promise<Mix> }>>();
  const prepare = async (plan: ModulePlan, slot: string) => {
    const panels = readPanels(adapters, plan, scratch, { bTransposed: true, slot });
    const grams = await chosen.products.grams(panels);
    const mix = mixPool!.mix(grams.a, grams.b, panels.coefficients, plan.out.rank);
    mix.catch(() => undefined); // awaited (and thrown) where the module is written
    return { panels, mix };
  };
  let published = false;
  try {
    stream = new SafetensorsStream(weightsPath, streamTensors, { metadata, atomic: false });
    // the whole file, as bytesWritten counts it: the header (written when the stream opened) and every tensor
    const bytesTotal = stream.bytes + stream.order.reduce((s, t) => s + t.shape.reduce((x, y) => x * y, 1) * (t.dtype === 'F64' ? 8 : t.dtype === 'F32' ? 4 : 2), 0);
    const pending = new Map<string, MergedFactors & { remaining: number }>();
    // reused buffers may hold a module's output only while no other module's tensor comes between its own
    const position = new Map(stream.order.map((t, i) => [t.name, i]));
    const contiguous = plans.every((p) => {
      const at = outputTensors(layout, p.out, dtype).map((t) => position.get(t.key)!);
      return Math.max(...at) - Math.min(...at) === at.length - 1;
    });
    // the svd modules in the order their tensors are written
    const firstAt = new Map<string, number>();
    stream.order.forEach((t, i) => {
      const module = byKey.get(t.name)?.module;
      if (module !== undefined && !firstAt.has(module)) firstAt.set(module, i);
    });
    const moduleOrder = svd ? [...plans].sort((x, y) => firstAt.get(x.out.name)! - firstAt.get(y.out.name)!) : [];
    const orderIndex = new Map(moduleOrder.map((p, i) => [p.out.name, i]));
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
      if (!merged && svd) {
        const at = orderIndex.get(plan.out.name)!;
        const current = await (prepared.get(plan.out.name) ?? prepare(plan, `panel${at % (ahead + 1)}`));
        prepared.delete(plan.out.name);
        // one Grams at a time on this thread; their mixes queue for the workers
        for (let d = 1; d <= ahead && at + d < moduleOrder.length; d++) {
          const following = moduleOrder[at + d];
          if (prepared.has(following.out.name)) continue;
          const next = prepare(following, `panel${(at + d) % (ahead + 1)}`);
          next.catch(() => undefined);
          prepared.set(following.out.name, next);
          await next;
        }
        const mix = await current.mix;
        // float32 output products only where the output rounding is far coarser (bf16, f16)
        const precision = dtype === 'BF16' || dtype === 'F16' ? 'f32' : 'f64';
        const out = await chosen.products.factors(current.panels, mix.mixA, mix.mixB, mix.rank, precision);
        energy[plan.out.name] = mix.energyKept;
        merged = { a: out.a, b: out.b, k: mix.rank, remaining: outputTensors(layout, plan.out, dtype).length };
        pending.set(plan.out.name, merged);
      }
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
          throw new ComposerError('internal', `no merge path for method ${options.method}`);
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
    const config = compositeConfig(layout, adapters, plans.map((p) => p.out), layoutRank, saved.length > 0);
    if (config) files.push({ path: 'adapter_config.json', sha256: writeJsonFile(path.join(staging, 'adapter_config.json'), config) });
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
      // the folder's other files and their hashes: what makes it compose's own (outputGuard.ts), so
      // a composition.json committed into a user's folder cannot claim the files beside it
      files: [...files].sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => ({ path: f.path, sha256: f.sha256 })),
    };
    files.push({ path: 'composition.json', sha256: writeJsonFile(path.join(staging, 'composition.json'), composition) });
    if (options.signal?.aborted) throw cancelled();
    for (const a of adapters) a.file.checkUnchanged();
    options.beforePublish?.([...files].sort((a, b) => (a.path < b.path ? -1 : 1)), inputs.map((inp, i) => ({ name: inp.name, sha256: adapters[i].file.pinned!.sha256 })));
    publishStagingFolder(staging, outputDir);
    published = true;
    options.afterPublish?.();
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
    // afterPublish's own error: the output is in place, nothing to discard
    if (published) throw e;
    stream?.abort();
    throw discardStagingFolder(staging, outputDir) ?? writeFailure(e, outputDir);
  } finally {
    await mixPool?.close();
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
