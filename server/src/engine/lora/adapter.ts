/**
 * The normalised form of a LoRA adapter, whatever format it came in: per module a pair of factors
 * with ΔW = scale · B·A, B [out, r], A [r, in] (PEFT orientation), read lazily from the weights file.
 */
import { ComposerError } from '../errors';
import type { FloatDType } from './dtypes';
import { SafetensorsFile } from './safetensors';

export type AdapterFormat = 'peft' | 'kohya' | 'diffusers' | 'cloneofsimo' | 'mlx';

/** How a factor is stored in the file relative to the normalised [out, r] / [r, in]. */
export type FactorLayout =
  /** B [out, r], A [r, in] as stored (PEFT, kohya, diffusers, cloneofsimo). */
  | 'plain'
  /** MLX: lora_b [r, out] = Bᵀ, lora_a [in, r] = Aᵀ. */
  | 'transposed';

export interface LoraModule {
  /** Normalised module name (e.g. `model.layers.0.self_attn.q_proj`, `unet.down_blocks.0…to_q`). */
  name: string;
  rank: number;
  alpha: number;
  /** ΔW = scale · B·A; α/r (α/√r with rsLoRA, the configured scale for MLX). */
  scale: number;
  inFeatures: number;
  outFeatures: number;
  /** Tensor names in the weights file. */
  aKey: string;
  bKey: string;
  layout: FactorLayout;
  /**
   * Trailing kernel dims of a convolution LoRA (A stored [r, in, kh, kw], B [out, r, 1, 1]); A is
   * flattened to [r, in·kh·kw], which keeps ΔW = B·A exact as a reshaped kernel.
   */
  kernel?: number[];
  /** PEFT embedding LoRA keys (`lora_embedding_A/B`, no `.weight`). */
  embedding?: boolean;
  dtype: FloatDType;
}

/** Full (not low-rank) tensors an adapter carries: PEFT modules_to_save, textual-inversion tokens. */
export interface ExtraTensor {
  key: string;
  kind: 'modules_to_save' | 'token-embedding';
  /** The normalised key used to match the same tensor across adapters. */
  name: string;
  shape: number[];
  dtype: string;
}

export interface LoraAdapter {
  format: AdapterFormat;
  /** The folder or file the user named. */
  path: string;
  weightsFile: string;
  configFile?: string;
  /** Parsed config (PEFT adapter_config.json, MLX adapter_config.json), for copying fields. */
  config?: Record<string, unknown>;
  base?: string;
  rslora: boolean;
  modules: Map<string, LoraModule>;
  extras: ExtraTensor[];
  metadata: Record<string, string>;
  file: SafetensorsFile;
  /** Facts worth passing on (e.g. fan_in_fan_out) and notes made while reading. */
  notes: string[];
}

export interface ModuleFactors {
  /** [out, r] row-major. */
  b: Float64Array;
  /** [r, in] row-major. */
  a: Float64Array;
  rank: number;
  inFeatures: number;
  outFeatures: number;
}

function transpose(x: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(x.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
  return t;
}

/** Reads one module's factors in the normalised orientation (unscaled). */
export function readFactors(adapter: LoraAdapter, module: string | LoraModule): ModuleFactors {
  const m = typeof module === 'string' ? adapter.modules.get(module) : module;
  if (!m) throw new ComposerError('adapter-format', `adapter has no module "${module as string}"`, { file: adapter.path }); // only a name can miss
  const rawA = adapter.file.readFloat64(m.aKey);
  const rawB = adapter.file.readFloat64(m.bKey);
  if (m.layout === 'transposed') {
    return { a: transpose(rawA, m.inFeatures, m.rank), b: transpose(rawB, m.rank, m.outFeatures), rank: m.rank, inFeatures: m.inFeatures, outFeatures: m.outFeatures };
  }
  return { a: rawA, b: rawB, rank: m.rank, inFeatures: m.inFeatures, outFeatures: m.outFeatures };
}

/** The dense ΔW = scale·B·A [out, in] of one module (for tests and small checks only). */
export function deltaOf(adapter: LoraAdapter, module: string): Float64Array {
  const m = adapter.modules.get(module);
  if (!m) throw new ComposerError('adapter-format', `adapter has no module "${module}"`, { file: adapter.path });
  const f = readFactors(adapter, m);
  const out = new Float64Array(f.outFeatures * f.inFeatures);
  for (let i = 0; i < f.outFeatures; i++) {
    for (let t = 0; t < f.rank; t++) {
      const c = m.scale * f.b[i * f.rank + t];
      if (c === 0) continue;
      const oa = t * f.inFeatures;
      const oo = i * f.inFeatures;
      for (let j = 0; j < f.inFeatures; j++) out[oo + j] += c * f.a[oa + j];
    }
  }
  return out;
}
