/**
 * Bytes of a composite's factor tensors from the merged factors A [k, n] and B [m, k] (the PEFT
 * orientation, float32 or float64), with k ≤ the module's written rank (missing directions are zero
 * padding). The common layouts write A and B as they are, so no transpose or widening copy is made.
 */
import { encodeFactor, type OutputLayout, type OutputModule, type OutputTensor } from './compositeLayout';
import { DTYPE_SIZES, encodeFromFloat32, encodeFromFloat64, encodeScaled } from './dtypes';
import type { Scratch } from './scratch';
import type { PanelArray } from './factorPanels';

export interface MergedFactors {
  /** A [k, n], row-major. */
  a: PanelArray;
  /** B [m, k], row-major. */
  b: PanelArray;
  k: number;
  /**
   * Scales not yet applied (cat folds √|c| into both sides): the factors are diag(aScale)·A and
   * B·diag(bScale), each product rounded once when encoded.
   */
  scales?: { a: Float64Array; b: Float64Array };
}

/** The factors with their pending scales applied, in float64 (exact products before the output rounding). */
function applyScales(f: MergedFactors, n: number, m: number): MergedFactors {
  if (!f.scales) return f;
  const { k } = f;
  const a = new Float64Array(k * n);
  const b = new Float64Array(m * k);
  for (let t = 0; t < k; t++) {
    const s = f.scales.a[t];
    for (let j = t * n, end = j + n; j < end; j++) a[j] = f.a[j] * s;
  }
  for (let i = 0; i < m * k; i += k) for (let t = 0; t < k; t++) b[i + t] = f.b[i + t] * f.scales.b[t];
  return { a, b, k };
}

function encode(values: PanelArray, tensor: OutputTensor, scratch?: Scratch): Uint8Array {
  const into = scratch?.bytes('encoded', values.length * DTYPE_SIZES[tensor.dtype]);
  return values instanceof Float32Array ? encodeFromFloat32(values, tensor.dtype, into) : encodeFromFloat64(values, tensor.dtype, into);
}

function like(x: PanelArray, length: number): PanelArray {
  return x instanceof Float32Array ? new Float32Array(length) : new Float64Array(length);
}

/** x [rows, cols] → [cols, rows] written into `out` with row stride `stride` (≥ rows). */
function transposeInto(x: PanelArray, rows: number, cols: number, out: PanelArray, stride: number): PanelArray {
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * stride + i] = x[i * cols + j];
  return out;
}

/** The tensor's bytes; with `scratch` they live in its reused slot "encoded" (valid until the next call). */
export function encodeCompositeFactor(layout: OutputLayout, tensor: OutputTensor, m: OutputModule, f: MergedFactors, scratch?: Scratch): Uint8Array {
  if (tensor.role === 'alpha') return encodeFactor(layout, tensor, m, new Float64Array(0), new Float64Array(0), 0);
  const r = m.rank;
  const { k } = f;
  if (f.scales) {
    // the common case encodes the scaled products straight from the panels
    if (layout !== 'mlx' && k === r) {
      const into = scratch?.bytes('encoded', (tensor.role === 'A' ? k * m.inFeatures : m.outFeatures * k) * DTYPE_SIZES[tensor.dtype]);
      return tensor.role === 'A' ? encodeScaled(f.a, k, m.inFeatures, f.scales.a, true, tensor.dtype, into) : encodeScaled(f.b, m.outFeatures, k, f.scales.b, false, tensor.dtype, into);
    }
    return encodeCompositeFactor(layout, tensor, m, applyScales(f, m.inFeatures, m.outFeatures), scratch);
  }
  if (layout === 'mlx') {
    // lora_a [in, r] = Aᵀ; lora_b [r, out] = Bᵀ
    if (tensor.role === 'A') return encode(transposeInto(f.a, k, m.inFeatures, like(f.a, m.inFeatures * r), r), tensor, scratch);
    return encode(transposeInto(f.b, m.outFeatures, k, like(f.b, r * m.outFeatures), m.outFeatures), tensor, scratch);
  }
  if (tensor.role === 'A') {
    if (k === r) return encode(f.a, tensor, scratch);
    const padded = like(f.a, r * m.inFeatures);
    padded.set(f.a.subarray(0, k * m.inFeatures));
    return encode(padded, tensor, scratch);
  }
  // B [out, r]
  if (k === r) return encode(f.b, tensor, scratch);
  const padded = like(f.b, m.outFeatures * r);
  for (let i = 0; i < m.outFeatures; i++) for (let q = 0; q < k; q++) padded[i * r + q] = f.b[i * k + q];
  return encode(padded, tensor, scratch);
}
