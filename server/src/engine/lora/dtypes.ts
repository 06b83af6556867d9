/**
 * Safetensors element types and exact conversions between the floating ones and float64.
 * Encoding rounds to nearest, ties to even, directly from float64 (no double rounding through float32).
 *
 * Size (~460 lines): one table of conversions, four float types × decode, encode, scaled encode and
 * strided decode; each is its own tight loop (the merge's hot path) built on the scalar bit
 * conversions above it, and they are tested as a set (test/lora/dtypes.test.ts). Nothing else lives
 * here but the dtype table, its guards and limits; the bytes' layout in a file is safetensors.ts's.
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

/** The number of elements of a tensor of this shape (1 for a scalar). */
export function elementCount(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
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
  return bytes.slice().buffer;
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

let f16Lookup32: Float32Array | undefined;
function f16Table32(): Float32Array {
  f16Lookup32 ??= new Float32Array(f16Table());
  return f16Lookup32;
}

/** Where decoded elements go: element (i, j) of a [rows, cols] tensor → into[offset + i·rowStride + j·colStride]. */
export interface Placement {
  offset: number;
  rowStride: number;
  colStride: number;
}

/** Whether float32 holds every value of `dtype` exactly. */
export function fitsFloat32(dtype: FloatDType): boolean {
  return dtype !== 'F64';
}

/**
 * Decodes a little-endian float tensor [rows, cols] straight into its place in a larger array (a
 * concatenated factor panel), checking finiteness in the same pass: an all-ones exponent field plus
 * one carries into a bit that no finite value reaches. `into` may be float32 only for dtypes it holds
 * exactly. Returns false when some element is NaN or ±Infinity.
 */
export function decodeInto(bytes: Uint8Array, dtype: FloatDType, rows: number, cols: number, into: Float32Array | Float64Array, at: Placement): boolean {
  const count = rows * cols;
  if (bytes.length < count * DTYPE_SIZES[dtype]) throw new RangeError(`decodeInto: ${bytes.length} bytes hold fewer than ${count} ${dtype} elements`);
  if (into instanceof Float32Array && !fitsFloat32(dtype)) throw new RangeError(`decodeInto: float32 cannot hold ${dtype} values exactly`);
  const { offset, rowStride, colStride } = at;
  if (count > 0) {
    const corners = [offset, offset + (rows - 1) * rowStride, offset + (cols - 1) * colStride, offset + (rows - 1) * rowStride + (cols - 1) * colStride];
    if (Math.min(...corners) < 0 || Math.max(...corners) >= into.length) throw new RangeError('decodeInto: the placement reaches outside the target array');
  }
  if (LITTLE_ENDIAN && dtype === 'BF16' && into instanceof Float32Array && colStride === 1 && cols % 2 === 0) {
    // rows of whole 32-bit words: each word holds two elements, the low one shifted up, the high one masked
    const buffer = alignedBuffer(bytes, 4);
    const words = new Int32Array(buffer, buffer === bytes.buffer ? bytes.byteOffset : 0, count >>> 1);
    const u = new Int32Array(into.buffer, into.byteOffset, into.length);
    const half = cols >>> 1;
    let flags = 0;
    for (let i = 0, k = 0; i < rows; i++) {
      let dst = offset + i * rowStride;
      for (let j = 0; j < half; j++, k++, dst += 2) {
        const w = words[k];
        u[dst] = w << 16;
        u[dst + 1] = w & -65536;
        flags |= (((w >>> 7) & 0xff) + 1) | (((w >>> 23) & 0xff) + 1);
      }
    }
    return (flags & 0x100) === 0;
  }
  if (LITTLE_ENDIAN && dtype === 'BF16' && into instanceof Float32Array && rowStride === 1 && colStride >= rows) {
    // a transposing placement (B [m, r] into the rows of Bᵀ): in blocks of 64 source rows, so that
    // the writes run along target rows and the block's source bytes stay in cache
    const buffer = alignedBuffer(bytes, 2);
    const bits = new Uint16Array(buffer, buffer === bytes.buffer ? bytes.byteOffset : 0, count);
    const u = new Int32Array(into.buffer, into.byteOffset, into.length);
    let flags = 0;
    for (let i0 = 0; i0 < rows; i0 += 64) {
      const i1 = Math.min(rows, i0 + 64);
      for (let j = 0; j < cols; j++) {
        const dst = offset + j * colStride;
        for (let i = i0, k = i0 * cols + j; i < i1; i++, k += cols) {
          const b = bits[k];
          u[dst + i] = b << 16;
          flags |= ((b >>> 7) & 0xff) + 1;
        }
      }
    }
    return (flags & 0x100) === 0;
  }
  if (LITTLE_ENDIAN && dtype === 'BF16' && into instanceof Float32Array) {
    const buffer = alignedBuffer(bytes, 2);
    const bits = new Uint16Array(buffer, buffer === bytes.buffer ? bytes.byteOffset : 0, count);
    const u = new Int32Array(into.buffer, into.byteOffset, into.length);
    let flags = 0;
    for (let i = 0, k = 0; i < rows; i++) {
      let dst = offset + i * rowStride;
      for (let j = 0; j < cols; j++, k++, dst += colStride) {
        const b = bits[k];
        u[dst] = b << 16;
        flags |= ((b >>> 7) & 0xff) + 1;
      }
    }
    return (flags & 0x100) === 0;
  }
  if (LITTLE_ENDIAN && dtype === 'F16' && into instanceof Float32Array) {
    const buffer = alignedBuffer(bytes, 2);
    const bits = new Uint16Array(buffer, buffer === bytes.buffer ? bytes.byteOffset : 0, count);
    const table = f16Table32();
    let flags = 0;
    for (let i = 0, k = 0; i < rows; i++) {
      let dst = offset + i * rowStride;
      for (let j = 0; j < cols; j++, k++, dst += colStride) {
        const b = bits[k];
        into[dst] = table[b];
        flags |= ((b >>> 10) & 0x1f) + 1;
      }
    }
    return (flags & 0x20) === 0;
  }
  // the rest (f32, f64, widening, big-endian hosts): decode, then place; x·0 is NaN exactly when x is not finite
  const values = decodeToFloat64(bytes, dtype, count);
  let probe = 0;
  for (let i = 0, k = 0; i < rows; i++) {
    let dst = offset + i * rowStride;
    for (let j = 0; j < cols; j++, k++, dst += colStride) {
      const x = values[k];
      probe += x * 0;
      into[dst] = x;
    }
  }
  return probe === 0;
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
  const u = new Int32Array(values.buffer, values.byteOffset, n);
  const out = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const bits = u[i];
    const high = bits >>> 16;
    if ((high & 0x7f80) === 0x7f80) {
      out[i] = bits & 0x7fffff ? 0x7fc0 : high; // NaN → the canonical quiet NaN; ±Infinity stays
      continue;
    }
    // round to nearest even in small integers (no carry out of 32 bits): + 1 when low > half, or = half and high is odd
    out[i] = high + (((bits & 0xffff) + (high & 1) + 0x7fff) >>> 16);
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

let scaledStage = new Float32Array(0);
let scaledStageBits = new Uint32Array(0);
let scaledWide = new Float64Array(0);

/**
 * Encodes x·s for a [rows, cols] panel with one scale per row (`perRow`) or per column: each product
 * in float64, rounded once to the dtype (the same bytes as encodeFromFloat64 of the products), without
 * materialising them.
 */
export function encodeScaled(values: Float32Array | Float64Array, rows: number, cols: number, scales: Float64Array, perRow: boolean, dtype: FloatDType, into?: Uint8Array): Uint8Array {
  const n = rows * cols;
  if (values.length < n || scales.length < (perRow ? rows : cols)) throw new RangeError('encodeScaled: values or scales shorter than the panel');
  const bytes = outputBytes(n, dtype, into);
  if (n === 0) return bytes;
  // whole rows per chunk, about 8k elements (one native float32 conversion per chunk)
  const chunkRows = Math.max(1, Math.floor(8192 / cols));
  const chunk = chunkRows * cols;
  if (scaledWide.length < chunk) {
    scaledWide = new Float64Array(chunk);
    scaledStage = new Float32Array(chunk);
    scaledStageBits = new Uint32Array(scaledStage.buffer);
  }
  const wide = scaledWide, f = scaledStage, u = scaledStageBits;
  const bf16 = LITTLE_ENDIAN && dtype === 'BF16' ? new Uint16Array(bytes.buffer, bytes.byteOffset, n) : undefined;
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const r1 = Math.min(rows, r0 + chunkRows);
    const start = r0 * cols, len = (r1 - r0) * cols;
    for (let r = r0, k = 0; r < r1; r++) {
      const base = r * cols;
      if (perRow) {
        const s = scales[r];
        for (let c = 0; c < cols; c++, k++) wide[k] = values[base + c] * s;
      } else {
        for (let c = 0; c < cols; c++, k++) wide[k] = values[base + c] * scales[c];
      }
    }
    if (bf16) {
      // float32 rounding is native; redo only the rare elements where it created a bf16 tie
      f.set(wide.subarray(0, len));
      for (let k = 0; k < len; k++) {
        const bits = u[k];
        const high = bits >>> 16;
        if ((high & 0x7f80) === 0x7f80 || ((bits & 0xffff) === 0x8000 && f[k] !== wide[k])) {
          bf16[start + k] = numberToBf16Bits(wide[k]);
          continue;
        }
        bf16[start + k] = high + (((bits & 0xffff) + (high & 1) + 0x7fff) >>> 16);
      }
    } else {
      bytes.set(encodeFromFloat64(wide.subarray(0, len), dtype), start * DTYPE_SIZES[dtype]);
    }
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

/** The largest finite value of each float dtype (what "overflows" means for an output tensor). */
export const FLOAT_MAX: Record<FloatDType, number> = { F16: 65504, BF16: 3.3895313892515355e38, F32: 3.4028234663852886e38, F64: Number.MAX_VALUE };

/**
 * The first element of encoded little-endian bytes that is ±Infinity or NaN (all exponent bits set),
 * or -1. Encoding rounds anything beyond the dtype's range to ±Infinity, so this finds overflow too.
 */
export function firstNonFiniteEncoded(bytes: Uint8Array, dtype: FloatDType): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F16') {
    for (let i = 0; i + 1 < bytes.length; i += 2) if ((dv.getUint16(i, true) & 0x7c00) === 0x7c00) return i / 2;
  } else if (dtype === 'BF16') {
    for (let i = 0; i + 1 < bytes.length; i += 2) if ((dv.getUint16(i, true) & 0x7f80) === 0x7f80) return i / 2;
  } else if (dtype === 'F32') {
    for (let i = 0; i + 3 < bytes.length; i += 4) if ((dv.getUint32(i, true) & 0x7f800000) === 0x7f800000) return i / 4;
  } else {
    for (let i = 0; i + 7 < bytes.length; i += 8) if ((dv.getUint32(i + 4, true) & 0x7ff00000) === 0x7ff00000) return i / 8;
  }
  return -1;
}
