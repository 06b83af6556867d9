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

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A typed view of `bytes` when it is aligned for `size` (and the host is little-endian), else a copy. */
function alignedBuffer(bytes: Uint8Array, size: number): ArrayBuffer {
  if (bytes.byteOffset % size === 0 && bytes.byteLength % size === 0) return bytes.buffer as ArrayBuffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/** Decodes little-endian bytes of a float dtype into float64. */
export function decodeToFloat64(bytes: Uint8Array, dtype: FloatDType, count: number): Float64Array {
  const out = new Float64Array(count);
  if (LITTLE_ENDIAN) {
    const size = DTYPE_SIZES[dtype];
    const buffer = alignedBuffer(bytes, size);
    const offset = buffer === bytes.buffer ? bytes.byteOffset / size : 0;
    switch (dtype) {
      case 'F64':
        out.set(new Float64Array(buffer, offset * 8, count));
        return out;
      case 'F32':
        out.set(new Float32Array(buffer, offset * 4, count));
        return out;
      case 'BF16': {
        const bits = new Uint16Array(buffer, offset * 2, count);
        const u = new Uint32Array(count);
        for (let i = 0; i < count; i++) u[i] = bits[i] << 16;
        out.set(new Float32Array(u.buffer));
        return out;
      }
      case 'F16': {
        const bits = new Uint16Array(buffer, offset * 2, count);
        const table = f16Table();
        for (let i = 0; i < count; i++) out[i] = table[bits[i]];
        return out;
      }
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'BF16':
      for (let i = 0; i < count; i++) out[i] = bf16BitsToNumber(view.getUint16(i * 2, true));
      break;
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

/** A float tensor decoded into the narrowest array that holds every value exactly. */
export interface ExactFloats {
  /** float32 for F16, BF16 and F32; float64 for F64. */
  values: Float32Array | Float64Array;
  /** false when some element is NaN or ±Infinity. */
  finite: boolean;
}

let f16Lookup32: Float32Array | undefined;
function f16Table32(): Float32Array {
  f16Lookup32 ??= new Float32Array(f16Table());
  return f16Lookup32;
}

/**
 * Decodes little-endian bytes without widening beyond what the dtype needs (half the memory and
 * traffic of float64 for 16-bit dtypes), checking finiteness in the same pass: an all-ones exponent
 * field plus one carries into a bit that no finite value reaches.
 */
export function decodeExact(bytes: Uint8Array, dtype: FloatDType, count: number, into?: Float32Array | Float64Array): ExactFloats {
  if (into && (into.length < count || (dtype === 'F64') !== into instanceof Float64Array)) {
    throw new RangeError(`decodeExact: the target array must be a ${dtype === 'F64' ? 'Float64Array' : 'Float32Array'} of at least ${count} elements`);
  }
  if (!LITTLE_ENDIAN || dtype === 'F64') {
    const wide = decodeToFloat64(bytes, dtype, count);
    let probe = 0;
    for (let i = 0; i < count; i++) probe += wide[i] * 0; // NaN exactly when some value is not finite
    let values: Float32Array | Float64Array = dtype === 'F64' ? wide : new Float32Array(wide);
    if (into) values = copyInto(into, values, count);
    return { values, finite: probe === 0 };
  }
  const out = (into as Float32Array | undefined)?.subarray(0, count) ?? new Float32Array(count);
  let flags = 0;
  switch (dtype) {
    case 'BF16': {
      // two elements per 32-bit word: the low half shifted up, the high half masked in place
      const pairs = count >>> 1;
      const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice(0, count * 2);
      const words = new Int32Array(aligned.buffer, aligned.byteOffset, pairs);
      const u = new Int32Array(out.buffer, out.byteOffset, count);
      for (let i = 0, j = 0; i < pairs; i++, j += 2) {
        const w = words[i];
        u[j] = w << 16;
        u[j + 1] = w & -65536;
        flags |= (((w >>> 7) & 0xff) + 1) | (((w >>> 23) & 0xff) + 1);
      }
      if (count & 1) {
        const b = aligned[2 * count - 2] | (aligned[2 * count - 1] << 8);
        u[count - 1] = b << 16;
        flags |= ((b >>> 7) & 0xff) + 1;
      }
      return { values: out, finite: (flags & 0x100) === 0 };
    }
    case 'F16': {
      const buffer = alignedBuffer(bytes, 2);
      const bits = new Uint16Array(buffer, buffer === bytes.buffer ? bytes.byteOffset : 0, count);
      const table = f16Table32();
      for (let i = 0; i < count; i++) {
        const b = bits[i];
        out[i] = table[b];
        flags |= ((b >>> 10) & 0x1f) + 1;
      }
      return { values: out, finite: (flags & 0x20) === 0 };
    }
    case 'F32': {
      const buffer = alignedBuffer(bytes, 4);
      out.set(new Float32Array(buffer, buffer === bytes.buffer ? bytes.byteOffset : 0, count));
      const u = new Int32Array(out.buffer, out.byteOffset, count);
      for (let i = 0; i < count; i++) flags |= ((u[i] >>> 23) & 0xff) + 1;
      return { values: out, finite: (flags & 0x100) === 0 };
    }
  }
}

function copyInto(into: Float32Array | Float64Array, values: Float32Array | Float64Array, count: number): Float32Array | Float64Array {
  const view = into.subarray(0, count);
  view.set(values);
  return view;
}

/** `n` elements of `dtype` in `into` (reused, contents overwritten) or in fresh zeroed bytes. */
function outputBytes(n: number, dtype: FloatDType, into?: Uint8Array): Uint8Array {
  const length = n * DTYPE_SIZES[dtype];
  if (!into) return new Uint8Array(length);
  if (into.length < length) throw new RangeError(`encode: the output buffer holds ${into.length} bytes, ${length} needed`);
  return into.byteOffset % 8 === 0 ? into.subarray(0, length) : new Uint8Array(length);
}

/**
 * Encodes float32 values as little-endian bytes of a float dtype (round to nearest even; the values
 * are the exact inputs, so one rounding). With `into`, the bytes are written there (reused).
 */
export function encodeFromFloat32(values: Float32Array, dtype: FloatDType, into?: Uint8Array): Uint8Array {
  const n = values.length;
  if (!LITTLE_ENDIAN || dtype === 'F16' || dtype === 'F64') return encodeFromFloat64(values, dtype, into);
  const bytes = outputBytes(n, dtype, into);
  if (dtype === 'F32') {
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, n * 4));
    return bytes;
  }
  const u = new Uint32Array(values.buffer, values.byteOffset, n);
  const out = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const bits = u[i];
    if ((bits & 0x7f800000) === 0x7f800000) {
      out[i] = bits & 0x7fffff ? 0x7fc0 : bits >>> 16; // NaN → the canonical quiet NaN; ±Infinity stays
      continue;
    }
    out[i] = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
  }
  return bytes;
}

/** float32 staging for the bf16 encoder, converted natively a chunk at a time. */
const STAGE = new Float32Array(8192);
const STAGE_BITS = new Uint32Array(STAGE.buffer);

/** Encodes float64 values as little-endian bytes of a float dtype (round to nearest even). With `into`, written there. */
export function encodeFromFloat64(values: ArrayLike<number>, dtype: FloatDType, into?: Uint8Array): Uint8Array {
  const n = values.length;
  const bytes = outputBytes(n, dtype, into);
  if (LITTLE_ENDIAN && dtype === 'F64') {
    new Float64Array(bytes.buffer, bytes.byteOffset, n).set(values);
    return bytes;
  }
  if (LITTLE_ENDIAN && dtype === 'F32') {
    new Float32Array(bytes.buffer, bytes.byteOffset, n).set(values);
    return bytes;
  }
  if (LITTLE_ENDIAN && dtype === 'BF16') {
    // float32 rounding is native; redo only the rare elements where it created a bf16 tie
    const out = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    const typed = ArrayBuffer.isView(values) ? (values as unknown as Float64Array | Float32Array) : undefined;
    const f = STAGE, u = STAGE_BITS;
    for (let start = 0; start < n; start += f.length) {
      const len = Math.min(f.length, n - start);
      if (typed) f.set(typed.subarray(start, start + len));
      else for (let i = 0; i < len; i++) f[i] = values[start + i];
      for (let i = 0; i < len; i++) {
        const bits = u[i];
        const low = bits & 0xffff;
        if ((bits & 0x7f800000) === 0x7f800000 || (low === 0x8000 && f[i] !== values[start + i])) {
          out[start + i] = numberToBf16Bits(values[start + i]);
          continue;
        }
        out[start + i] = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
      }
    }
    return bytes;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
