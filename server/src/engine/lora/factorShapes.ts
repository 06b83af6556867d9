/**
 * Pairs a down (A) and up (B) tensor into a module's normalised shape, including convolution LoRAs:
 * A [r, in, k…] and B [out, r, 1…] flatten to A [r, in·∏k], B [out, r] with ΔW = B·A exact.
 */
import { ComposerError } from '../errors';
import { isFloatDType, type FloatDType } from './dtypes';
import type { LoraModule } from './adapter';
import type { TensorInfo } from './safetensors';

export interface FactorShape {
  rank: number;
  inFeatures: number;
  outFeatures: number;
  kernel?: number[];
  dtype: FloatDType;
}

export function plainFactorShape(file: string, module: string, a: TensorInfo, b: TensorInfo): FactorShape {
  const bad = (why: string): never => {
    throw new ComposerError('adapter-format', `module "${module}": ${why} (down/A ${a.name} [${a.shape.join(', ')}], up/B ${b.name} [${b.shape.join(', ')}])`, { file });
  };
  for (const t of [a, b]) {
    if (!isFloatDType(t.dtype)) {
      throw new ComposerError('unsupported-adapter', `tensor "${t.name}" has dtype ${t.dtype}; only F16, BF16, F32 and F64 LoRA factors can be merged`, { file }, 'dequantise the adapter to a float dtype first');
    }
  }
  if (a.dtype !== b.dtype) bad(`A is ${a.dtype} but B is ${b.dtype}`);
  if (a.shape.length < 2 || b.shape.length < 2) bad('factors must have at least 2 dimensions');
  const rank = a.shape[0];
  if (b.shape[1] !== rank) bad(`ranks differ: A has ${rank} rows, B has ${b.shape[1]} columns`);
  if (rank === 0) bad('rank 0');
  if (b.shape.length > 2 && b.shape.slice(2).some((d) => d !== 1)) bad('the up/B convolution kernel must be 1×1');
  const kernel = a.shape.length > 2 ? a.shape.slice(2) : undefined;
  if (kernel && b.shape.length !== a.shape.length) bad('A and B have different numbers of dimensions');
  if (!kernel && b.shape.length !== 2) bad('B has kernel dimensions but A has none');
  const inFeatures = a.shape.slice(1).reduce((x, y) => x * y, 1);
  return { rank, inFeatures, outFeatures: b.shape[0], kernel, dtype: a.dtype as FloatDType };
}

/** MLX stores lora_a [in, r] and lora_b [r, out]. */
export function transposedFactorShape(file: string, module: string, a: TensorInfo, b: TensorInfo): FactorShape {
  if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[1] !== b.shape[0] || a.shape[1] === 0) {
    throw new ComposerError('adapter-format', `module "${module}": MLX factors must be lora_a [in, r] and lora_b [r, out], found [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`, { file });
  }
  for (const t of [a, b]) {
    if (!isFloatDType(t.dtype)) throw new ComposerError('unsupported-adapter', `tensor "${t.name}" has dtype ${t.dtype}; only float LoRA factors can be merged`, { file });
  }
  if (a.dtype !== b.dtype) throw new ComposerError('adapter-format', `module "${module}": lora_a is ${a.dtype} but lora_b is ${b.dtype}`, { file });
  return { rank: a.shape[1], inFeatures: a.shape[0], outFeatures: b.shape[1], dtype: a.dtype as FloatDType };
}

/**
 * A down/up pair as a module with A stored as-is (kohya, diffusers, cloneofsimo): scale α/r
 * (no rsLoRA in these formats).
 */
export function plainModule(name: string, shape: FactorShape, alpha: number, aKey: string, bKey: string): LoraModule {
  return {
    name,
    rank: shape.rank,
    alpha,
    scale: alpha / shape.rank,
    inFeatures: shape.inFeatures,
    outFeatures: shape.outFeatures,
    aKey,
    bKey,
    layout: 'plain',
    kernel: shape.kernel,
    dtype: shape.dtype,
  };
}
