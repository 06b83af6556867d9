import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { bf16BitsToNumber, decodeToFloat64, encodeFromFloat64, f16BitsToNumber, numberToBf16Bits, numberToF16Bits } from '../../server/src/engine/lora/dtypes';

/** Independent reference: nearest representable value by exhaustive search over the sorted finite values. */
function sortedFinite(decode: (b: number) => number): { values: number[]; bits: number[] } {
  const pairs: [number, number][] = [];
  for (let b = 0; b < 65536; b++) {
    const v = decode(b);
    if (Number.isFinite(v) && !(v === 0 && b !== 0)) pairs.push([v, b]);
  }
  pairs.sort((x, y) => x[0] - y[0]);
  return { values: pairs.map((p) => p[0]), bits: pairs.map((p) => p[1]) };
}

function checkFormat(name: string, decode: (b: number) => number, scalarEncode: (x: number) => number, mantissaBits: number, dtype: 'BF16' | 'F16') {
  // every check runs through the scalar encoder and the buffer encoder (which has its own fast path)
  const encode = (x: number): number => {
    const b = scalarEncode(x);
    const bytes = encodeFromFloat64([x], dtype);
    assert.equal(bytes[0] | (bytes[1] << 8), b, `buffer encoder disagrees for ${x}`);
    return b;
  };
  test(`${name}: every bit pattern survives decode → encode`, () => {
    for (let b = 0; b < 65536; b++) {
      const v = decode(b);
      if (Number.isNaN(v)) {
        assert.ok(Number.isNaN(decode(encode(v))), `NaN pattern ${b.toString(16)}`);
        continue;
      }
      assert.equal(encode(v), b, `pattern 0x${b.toString(16)} (${v})`);
    }
  });

  test(`${name}: midpoints round to even, values just off a midpoint round to the nearer neighbour`, () => {
    const { values, bits } = sortedFinite(decode);
    for (let i = 0; i + 1 < values.length; i++) {
      const lo = values[i], hi = values[i + 1];
      const mid = (lo + hi) / 2; // exact in float64 for 16-bit formats
      const even = (bits[i] & 1) === 0 ? bits[i] : bits[i + 1];
      const got = encode(mid);
      // ±0 at the midpoint around zero: either zero is "even"
      if (lo === 0 || hi === 0) assert.ok(decode(got) === decode(even) || decode(got) === 0);
      else assert.equal(got, even, `midpoint of ${lo} and ${hi}`);
      const ulp = Math.abs(hi - lo);
      assert.ok(decode(encode(mid + ulp * 1e-6)) === hi, `just above the midpoint of ${lo}, ${hi}`); // === : -0 equals 0
      assert.ok(decode(encode(mid - ulp * 1e-6)) === lo, `just below the midpoint of ${lo}, ${hi}`);
    }
    // beyond the largest finite value by more than half an ulp: infinity
    const max = values[values.length - 1];
    const halfUlp = (max - values[values.length - 2]) / 2;
    assert.ok(halfUlp > 0 && halfUlp < max * 2 ** -mantissaBits);
    assert.equal(decode(encode(max + halfUlp * 1.0001)), Infinity);
    assert.equal(decode(encode(max + halfUlp)), Infinity, 'tie with the (odd) largest value rounds to infinity');
    assert.equal(decode(encode(max + halfUlp * 0.9999)), max);
  });

  test(`${name}: float64 inputs whose float32 rounding lands on a tie are rounded without double rounding`, () => {
    const { values } = sortedFinite(decode);
    let checked = 0;
    for (let i = 1000; i + 1 < values.length; i += 97) {
      const lo = values[i], hi = values[i + 1];
      if (lo <= 0) continue;
      const mid = (lo + hi) / 2;
      // a float64 a hair above the midpoint that float32 rounds back onto it
      const above = mid + mid * 2 ** -40;
      assert.equal(Math.fround(above), mid);
      assert.equal(decode(encode(above)), hi);
      const below = mid - mid * 2 ** -40;
      assert.equal(decode(encode(below)), lo);
      checked++;
    }
    assert.ok(checked > 50);
  });
}

checkFormat('bf16', bf16BitsToNumber, numberToBf16Bits, 7, 'BF16');
checkFormat('f16', f16BitsToNumber, numberToF16Bits, 10, 'F16');

test('buffer encode/decode agree with the scalar conversions for every dtype', () => {
  const xs = [0, -0, 1, -1.5, 3.14159, 1e-8, -65504, 70000, 1e30, 2 ** -24, 5.960464477539063e-8];
  for (const dtype of ['F16', 'BF16', 'F32', 'F64'] as const) {
    const back = decodeToFloat64(encodeFromFloat64(xs, dtype), dtype, xs.length);
    xs.forEach((x, i) => {
      const expected = dtype === 'F64' ? x : dtype === 'F32' ? Math.fround(x) : dtype === 'BF16' ? bf16BitsToNumber(numberToBf16Bits(x)) : f16BitsToNumber(numberToF16Bits(x));
      assert.ok(Object.is(back[i], expected), `${dtype} ${x}: ${back[i]} vs ${expected}`);
    });
  }
});
