/**
 * Safetensors element types and exact conversions between the floating ones and float64.
 * Encoding rounds to nearest, ties to even, directly from float64 (no double rounding through float32).
 */

export const DTYPE_SIZES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;

export type DType = keyof typeof DTYPE_SIZES;
/** The element types a LoRA factor may have (the others are known but refused for merging). */
export type FloatDType = 'F16' | 'BF16' | 'F32' | 'F64';

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZES, s);
}

export function isFloatDType(s: string): s is FloatDType {
  return s === 'F16' || s === 'BF16' || s === 'F32' || s === 'F64';
}

/** Accepts the spellings users type: bf16, bfloat16, float32, fp16, f64, … */
export function parseFloatDType(s: string): FloatDType | undefined {
  const t = s.trim().toLowerCase();
  if (t === 'bf16' || t === 'bfloat16') return 'BF16';
  if (t === 'f16' || t === 'fp16' || t === 'float16' || t === 'half') return 'F16';
  if (t === 'f32' || t === 'fp32' || t === 'float32' || t === 'float') return 'F32';
  if (t === 'f64' || t === 'fp64' || t === 'float64' || t === 'double') return 'F64';
  return undefined;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function bf16BitsToNumber(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0];
}

export function f16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/**
 * Rounds the float32 bit pattern `bits` (the float32 nearest to x) by dropping `drop` low bits,
 * ties to even; `residual` = |x| − |fround(x)| breaks ties that float32 rounding created.
 */
function roundDroppingBits(bits: number, drop: number, residual: number): number {
  const half = 1 << (drop - 1);
  const low = bits & ((1 << drop) - 1);
  let kept = bits >>> drop;
  if (low > half || (low === half && (residual > 0 || (residual === 0 && (kept & 1) === 1)))) kept += 1;
  return kept;
}

export function numberToBf16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  f32[0] = x;
  const bits = u32[0];
  const sign = bits & 0x80000000 ? 0x8000 : 0;
  const mag = bits & 0x7fffffff;
  if (mag >= 0x7f800000) {
    // float32 overflowed to infinity: bf16 overflows too (same exponent range)
    return sign | 0x7f80;
  }
  const residual = Math.abs(x) - Math.abs(f32[0]);
  return sign | roundDroppingBits(mag, 16, residual);
}

export function numberToF16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  f32[0] = x;
  const bits = u32[0];
  const sign = bits & 0x80000000 ? 0x8000 : 0;
  const mag = bits & 0x7fffffff;
  const residual = Math.abs(x) - Math.abs(f32[0]);
  const exp = mag >>> 23;
  if (exp >= 143) return sign | 0x7c00; // ≥ 2^16: beyond the largest half (65504) rounding range
  if (exp >= 113) {
    // normal half: rebias the exponent (127 → 15) and drop 13 mantissa bits; a carry may reach infinity
    const rebased = mag - (112 << 23);
    return sign | Math.min(roundDroppingBits(rebased, 13, residual), 0x7c00);
  }
  // below 2^-25 (half the smallest subnormal): rounds to zero
  if (exp < 102) return sign;
  // subnormal half: value = m · 2^-24 with m < 1024; shift the full significand
  const significand = (mag & 0x7fffff) | 0x800000;
  const drop = 126 - exp; // exp 112 → 14 bits dropped … exp 102 → 24
  return sign | roundDroppingBits(significand, drop, residual);
}

/** Decodes little-endian bytes of a float dtype into float64. */
export function decodeToFloat64(bytes: Uint8Array, dtype: FloatDType, count: number): Float64Array {
  const out = new Float64Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'BF16': {
      const f = new Float32Array(count);
      const u = new Uint32Array(f.buffer);
      for (let i = 0; i < count; i++) u[i] = view.getUint16(i * 2, true) << 16;
      for (let i = 0; i < count; i++) out[i] = f[i];
      break;
    }
    case 'F16': {
      const table = f16Table();
      for (let i = 0; i < count; i++) out[i] = table[view.getUint16(i * 2, true)];
      break;
    }
  }
  return out;
}

let f16Lookup: Float64Array | undefined;
function f16Table(): Float64Array {
  if (!f16Lookup) {
    f16Lookup = new Float64Array(65536);
    for (let b = 0; b < 65536; b++) f16Lookup[b] = f16BitsToNumber(b);
  }
  return f16Lookup;
}

/** Encodes float64 values as little-endian bytes of a float dtype (round to nearest even). */
export function encodeFromFloat64(values: ArrayLike<number>, dtype: FloatDType): Uint8Array {
  const n = values.length;
  const bytes = new Uint8Array(n * DTYPE_SIZES[dtype]);
  const view = new DataView(bytes.buffer);
  switch (dtype) {
    case 'F64':
      for (let i = 0; i < n; i++) view.setFloat64(i * 8, values[i], true);
      break;
    case 'F32':
      for (let i = 0; i < n; i++) view.setFloat32(i * 4, values[i], true);
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) view.setUint16(i * 2, numberToBf16Bits(values[i]), true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) view.setUint16(i * 2, numberToF16Bits(values[i]), true);
      break;
  }
  return bytes;
}

/** The widest of several float dtypes (bf16 and f16 together widen to f32: neither holds the other). */
export function widestFloatDType(dtypes: Iterable<FloatDType>): FloatDType {
  const seen = new Set(dtypes);
  if (seen.has('F64')) return 'F64';
  if (seen.has('F32')) return 'F32';
  if (seen.has('BF16') && seen.has('F16')) return 'F32';
  if (seen.has('BF16')) return 'BF16';
  if (seen.has('F16')) return 'F16';
  return 'F32';
}
