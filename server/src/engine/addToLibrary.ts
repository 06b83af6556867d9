/**
 * `library add`: read an adapter's facts from its config and tensor header, compute or read its
 * prototype, and write one row. Everything is checked before the single write, so a refused adapter
 * (unsupported kind, wrong base, NaN prototype, wrong dimension) leaves the library as it was.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { glob } from 'tinyglobby';
import { ComposerError } from './errors';
import type { Library } from './library/library';
import { isLocalPath, normaliseBase } from './library/baseModels';
import { checkFiniteWeights, describeAdapter, type AdapterDescription } from './lora/describe';
import { openEncoder, prototypeFromFeatures, prototypeFromFile, prototypeFromSamples } from './prototype/encoder';
import type { AdapterRecord } from './types';

export type PrototypeSource = { prototype: string } | { features: string } | { samples: string[] } | { vector: Float64Array };

export interface AddAdapterInput {
  adapterPath: string;
  name: string;
  /** Required unless the adapter's config names its base model (legacy Hub names are normalised). */
  base?: string;
  /** Record `base` even though the adapter names another base model (kept as details.base_declared). */
  overrideBase?: boolean;
  tags?: string[];
  description?: string;
  source: PrototypeSource;
  provider?: string;
  /** Working folder for relative sample globs. */
  cwd?: string;
}

export async function adapterRecord(library: Library, input: AddAdapterInput): Promise<AdapterRecord> {
  const adapterPath = path.resolve(input.cwd ?? '.', input.adapterPath);
  if (!fs.existsSync(adapterPath)) throw new ComposerError('io', `no adapter at ${adapterPath}`, { file: adapterPath });
  const facts = describeAdapter(adapterPath);
  checkFiniteWeights(adapterPath);
  const given = input.base === undefined ? undefined : normaliseBase(input.base);
  const declared = facts.base === undefined ? undefined : normaliseBase(facts.base);
  const base = given ?? declared;
  if (!base) {
    // kohya, diffusers and cloneofsimo files have no config at all: "its config" would send the user looking for one
    const what = facts.format === 'peft' || facts.format === 'mlx' ? `the adapter's config names no base model` : `a ${facts.format} adapter records no base model (the format has no config file)`;
    throw new ComposerError('usage', what, { file: adapterPath }, 'pass --base MODEL (the base model the adapter was trained on)');
  }
  if (declared && isLocalPath(declared) && !given) {
    throw new ComposerError('usage', `the adapter names its base model by a local path (${declared}), not a model id`, { file: adapterPath }, 'pass --base MODEL (the Hub id of that model); it is recorded as overriding the path');
  }
  // An explicit --base over the adapter's own: allowed for a local path, else only with --override-base; recorded either way.
  const overridden = given !== undefined && declared !== undefined && given !== declared;
  if (overridden && !isLocalPath(declared) && !input.overrideBase) {
    throw new ComposerError('library', `--base ${input.base} differs from the adapter's own base model ${facts.base}`, { file: adapterPath },
      'every adapter of a recipe must declare the same base model; pass the one it was trained on, or add --override-base if you know the adapter fits B (it is recorded and shown as overridden)');
  }
  const info = await library.info();
  const prototype = await computePrototype(library, input, info.dim);
  const details = { ...detailsOf(facts), ...(overridden ? { base_declared: facts.base, base_override: true } : {}) };
  return {
    name: input.name,
    base,
    rank: facts.rank,
    alpha: facts.alpha,
    target_modules: facts.target_modules,
    format: facts.format,
    path: adapterPath,
    sha256: facts.sha256,
    prototype: Array.from(prototype),
    description: input.description ?? '',
    tags: [...new Set(input.tags ?? [])].sort(),
    created_at: new Date().toISOString(),
    details: JSON.stringify(details),
  };
}

/** The row's `details` JSON fields for an adapter's facts (add, add --replace, verify --fix). */
export function detailsOf(facts: AdapterDescription): Record<string, unknown> {
  return {
    ranks: facts.ranks,
    alphas: facts.alphas,
    dtype: facts.dtype,
    rslora: facts.rslora,
    modules_to_save: facts.modules_to_save,
    weights_file: facts.weights_file,
    weights_size: facts.weights_size,
    weights_mtime_ms: facts.weights_mtime_ms,
    tensor_count: facts.tensor_count,
    module_count: facts.module_count,
    ...(facts.notes.length ? { notes: facts.notes } : {}),
  };
}

async function computePrototype(library: Library, input: AddAdapterInput, dim: number): Promise<Float64Array> {
  const source = input.source;
  const cwd = input.cwd ?? '.';
  if ('vector' in source) return source.vector;
  if ('prototype' in source) return prototypeFromFile(path.resolve(cwd, source.prototype), { dim }).prototype;
  if ('features' in source) return (await prototypeFromFeatures(path.resolve(cwd, source.features), { dim })).prototype;
  const files = (await glob(source.samples, { cwd, absolute: true, onlyFiles: true })).sort();
  if (files.length === 0) throw new ComposerError('io', `no sample files match ${source.samples.join(', ')}`);
  const encoderFile = library.encoderFile();
  if (!encoderFile) throw new ComposerError('library', 'this library has no encoder (created with --dim): give --prototype or --features');
  const encoder = await openEncoder(encoderFile, { provider: (input.provider ?? 'auto') as never });
  try {
    const result = await prototypeFromSamples(encoder, files);
    if (result.dim !== dim) throw new ComposerError('dimension', `the encoder produced ${result.dim}-d prototypes; the library holds ${dim}-d ones`);
    return result.prototype;
  } finally {
    await encoder.dispose();
  }
}
