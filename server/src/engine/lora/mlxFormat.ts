/**
 * MLX (mlx-lm / mlx-examples) LoRA: adapters.safetensors with `<module>.lora_a` [in, r] and
 * `<module>.lora_b` [r, out]; LoRALinear computes y = x·W + scale·(x·lora_a)·lora_b, so in PEFT
 * orientation (y = ΔW·x) ΔW = scale·lora_bᵀ·lora_aᵀ: B = lora_bᵀ, A = lora_aᵀ, with `scale` from
 * adapter_config.json `lora_parameters.scale` (used directly, not α/r).
 */
import { ComposerError } from '../errors';
import type { LoraAdapter, LoraModule } from './adapter';
import { transposedFactorShape } from './factorShapes';
import { refuse, refuseDora } from './refusals';
import type { SafetensorsFile } from './safetensors';

/** mlx-lm's default when a config gives no scale. */
const MLX_DEFAULT_SCALE = 20;

export function isMlxFile(file: SafetensorsFile): boolean {
  for (const key of file.tensors.keys()) if (/\.lora_[ab]$/.test(key)) return true;
  return false;
}

export function mlxScale(config: Record<string, unknown>, file: string, notes: string[]): number {
  const type = config.fine_tune_type;
  if (type === 'dora') refuseDora(file, 'fine_tune_type: dora in adapter_config.json');
  if (type !== undefined && type !== 'lora') refuse(file, `MLX adapter with fine_tune_type ${JSON.stringify(type)}, not LoRA`, 'only LoRA adapters can be composed');
  const params = (config.lora_parameters ?? {}) as Record<string, unknown>;
  if (typeof params.scale === 'number' && Number.isFinite(params.scale)) return params.scale;
  if (typeof params.alpha === 'number' && typeof params.rank === 'number' && params.rank > 0) {
    notes.push(`no lora_parameters.scale: using alpha/rank = ${params.alpha}/${params.rank}`);
    return params.alpha / params.rank;
  }
  notes.push(`no lora_parameters.scale: using mlx-lm's default ${MLX_DEFAULT_SCALE}`);
  return MLX_DEFAULT_SCALE;
}

export function readMlxKeys(file: SafetensorsFile, scale: number): Map<string, LoraModule> {
  const parts = new Map<string, { a?: string; b?: string }>();
  for (const key of file.tensors.keys()) {
    const m = /^(.*)\.(lora_a|lora_b|m)$/.exec(key);
    if (m && m[2] === 'm') refuseDora(file.path, `magnitude tensor "${key}"`);
    if (!m) refuse(file.path, `unrecognised tensor "${key}" in an MLX adapter (expected <module>.lora_a / .lora_b)`, 'only MLX LoRA adapters can be composed');
    const entry = parts.get(m[1]) ?? {};
    if (m[2] === 'lora_a') entry.a = key;
    else entry.b = key;
    parts.set(m[1], entry);
  }
  const modules = new Map<string, LoraModule>();
  for (const [name, p] of parts) {
    if (!p.a || !p.b) throw new ComposerError('adapter-format', `module "${name}" has only ${p.a ? 'lora_a' : 'lora_b'}`, { file: file.path });
    const shape = transposedFactorShape(file.path, name, file.info(p.a), file.info(p.b));
    modules.set(name, {
      name,
      rank: shape.rank,
      // α such that α/r is the scale MLX applies
      alpha: scale * shape.rank,
      scale,
      inFeatures: shape.inFeatures,
      outFeatures: shape.outFeatures,
      aKey: p.a,
      bKey: p.b,
      layout: 'transposed',
      dtype: shape.dtype,
    });
  }
  return modules;
}

/**
 * adapter_config.json of a composite in the MLX layout: the first MLX input's config with one rank
 * for every layer (MLX builds them alike; smaller modules are zero-padded) and scale 1.
 */
export function mlxCompositeConfig(adapters: LoraAdapter[], layoutRank: number): Record<string, unknown> {
  const first = adapters.find((a) => a.format === 'mlx')?.config ?? {};
  const params = { ...((first.lora_parameters as Record<string, unknown>) ?? {}), rank: layoutRank, scale: 1.0 };
  if ('alpha' in params) params.alpha = layoutRank;
  return { ...first, fine_tune_type: 'lora', lora_parameters: params };
}
