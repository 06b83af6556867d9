/**
 * How a composite adapter is laid out on disk, per output format: tensor keys and shapes for each
 * module's factors, the weights file name, and the config/metadata that make the runtime scale 1
 * (the factors carry the coefficients).
 */
import type { AdapterFormat, LoraAdapter } from './adapter';
import { cloneofsimoCompositeMetadata } from './cloneofsimoFormat';
import { encodeFromFloat64, type FloatDType } from './dtypes';
import { baseModelMetadata, kohyaCompositeMetadata } from './kohyaFormat';
import { mlxCompositeConfig } from './mlxFormat';
import { PEFT_PREFIX, peftCompositeConfig } from './peftFormat';

export type OutputLayout = 'peft' | 'kohya' | 'diffusers' | 'cloneofsimo' | 'mlx';

export const WEIGHTS_FILE: Record<OutputLayout, string> = {
  peft: 'adapter_model.safetensors',
  kohya: 'adapter_model.safetensors',
  diffusers: 'pytorch_lora_weights.safetensors',
  cloneofsimo: 'adapter_model.safetensors',
  mlx: 'adapters.safetensors',
};

export function layoutForFormat(format: AdapterFormat): OutputLayout {
  return format;
}

/** What the writer needs to know about one output module. */
export interface OutputModule {
  name: string;
  /** Rank written to the file (MLX pads every module to the largest). */
  rank: number;
  inFeatures: number;
  outFeatures: number;
  kernel?: number[];
  embedding?: boolean;
}

export type FactorRole = 'A' | 'B' | 'alpha';

export interface OutputTensor {
  key: string;
  module: string;
  role: FactorRole;
  dtype: FloatDType;
  shape: number[];
}

function aShape(m: OutputModule): number[] {
  if (!m.kernel) return [m.rank, m.inFeatures];
  const k = m.kernel.reduce((x, y) => x * y, 1);
  return [m.rank, m.inFeatures / k, ...m.kernel];
}

function bShape(m: OutputModule): number[] {
  return m.kernel ? [m.outFeatures, m.rank, ...m.kernel.map(() => 1)] : [m.outFeatures, m.rank];
}

export function outputTensors(layout: OutputLayout, m: OutputModule, dtype: FloatDType): OutputTensor[] {
  const t = (key: string, role: FactorRole, shape: number[], d: FloatDType = dtype): OutputTensor => ({ key, module: m.name, role, dtype: d, shape });
  switch (layout) {
    case 'peft':
      if (m.embedding) return [t(`${PEFT_PREFIX}${m.name}.lora_embedding_A`, 'A', aShape(m)), t(`${PEFT_PREFIX}${m.name}.lora_embedding_B`, 'B', bShape(m))];
      return [t(`${PEFT_PREFIX}${m.name}.lora_A.weight`, 'A', aShape(m)), t(`${PEFT_PREFIX}${m.name}.lora_B.weight`, 'B', bShape(m))];
    case 'diffusers':
      return [t(`${m.name}.lora.down.weight`, 'A', aShape(m)), t(`${m.name}.lora.up.weight`, 'B', bShape(m))];
    case 'kohya':
      // alpha = rank keeps kohya's α/r scale at 1; float32 holds any rank exactly
      return [t(`${m.name}.lora_down.weight`, 'A', aShape(m)), t(`${m.name}.lora_up.weight`, 'B', bShape(m)), t(`${m.name}.alpha`, 'alpha', [], 'F32')];
    case 'cloneofsimo':
      return [t(`${m.name}:down`, 'A', aShape(m)), t(`${m.name}:up`, 'B', bShape(m))];
    case 'mlx':
      return [t(`${m.name}.lora_a`, 'A', [m.inFeatures, m.rank]), t(`${m.name}.lora_b`, 'B', [m.rank, m.outFeatures])];
  }
}

/**
 * Bytes of one output tensor from the merged factors, given as panels Bᵀ [k, out] and A [k, in]
 * with k ≤ m.rank (missing directions are zero padding).
 */
export function encodeFactor(layout: OutputLayout, tensor: OutputTensor, m: OutputModule, bt: Float64Array, a: Float64Array, k: number): Uint8Array {
  const r = m.rank;
  if (tensor.role === 'alpha') return encodeFromFloat64([r], 'F32');
  const values = new Float64Array(tensor.role === 'A' ? r * m.inFeatures : r * m.outFeatures);
  if (layout === 'mlx') {
    if (tensor.role === 'A') {
      // lora_a [in, r] = Aᵀ
      for (let q = 0; q < k; q++) for (let j = 0; j < m.inFeatures; j++) values[j * r + q] = a[q * m.inFeatures + j];
    } else {
      // lora_b [r, out] = Bᵀ: the panel itself
      values.set(bt.subarray(0, k * m.outFeatures));
    }
  } else if (tensor.role === 'A') {
    values.set(a.subarray(0, k * m.inFeatures));
  } else {
    // B [out, r]
    for (let q = 0; q < k; q++) for (let i = 0; i < m.outFeatures; i++) values[i * r + q] = bt[q * m.outFeatures + i];
  }
  return encodeFromFloat64(values, tensor.dtype);
}

/**
 * The safetensors `__metadata__` of a composite: `format: pt`, and for the layouts without a config
 * file what their readers take from the metadata (kohya's network keys, cloneofsimo's module lists and
 * ranks, the base model as kohya's sd-scripts and ModelSpec write it). Each format file owns its keys.
 */
export function compositeMetadata(layout: OutputLayout, modules: OutputModule[], adapters: LoraAdapter[], options: { baseModel?: string; title?: string }, inputs: { name: string }[]): Record<string, string> {
  const metadata: Record<string, string> = { format: 'pt' };
  if (layout === 'kohya') Object.assign(metadata, kohyaCompositeMetadata(modules));
  if (layout === 'cloneofsimo') {
    Object.assign(metadata, cloneofsimoCompositeMetadata(adapters[0].metadata, modules));
    delete metadata.format;
  }
  if (layout === 'kohya' || layout === 'diffusers' || layout === 'cloneofsimo') Object.assign(metadata, baseModelMetadata(layout, options, inputs));
  return metadata;
}

/** adapter_config.json of a composite, for the layouts that have one (PEFT, MLX); undefined otherwise. */
export function compositeConfig(layout: OutputLayout, adapters: LoraAdapter[], modules: OutputModule[], layoutRank: number, hasModulesToSave: boolean): Record<string, unknown> | undefined {
  if (layout === 'peft') return peftCompositeConfig(adapters, modules, layoutRank, hasModulesToSave, adapters[0].format);
  if (layout === 'mlx') return mlxCompositeConfig(adapters, layoutRank);
  return undefined;
}
