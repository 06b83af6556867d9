/**
 * The merge's fast paths against independent references: decoding straight into concatenated
 * panels, float32 → 16-bit encoding, the symmetric eigensolver, the balanced truncation, and the
 * bf16 merge (float32 output products through ONNX Runtime) against the dense truncated SVD.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { ComposerError } from '../../server/src/engine/errors';
import { decodeInto, decodeToFloat64, encodeFromFloat32, encodeFromFloat64, encodeScaled, numberToBf16Bits, numberToF16Bits, type FloatDType } from '../../server/src/engine/lora/dtypes';
import { householderQlEigen } from '../../server/src/engine/linalg/eigen';
import { jsProducts } from '../../server/src/engine/lora/panelProducts';
import { truncatedProduct } from '../../server/src/engine/lora/truncatedProduct';
import { mergeAdapters } from '../../server/src/engine/lora/merge';
import { SafetensorsFile, writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { seededRandom } from '../../server/src/engine/random';
import { relErr } from './denseReference';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lora-panels-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const rng = (seed: number): (() => number) => {
  const uniform = seededRandom(seed);
  return () => uniform() - 0.5; // centred: factor entries of both signs
};

const SIZE: Record<FloatDType, number> = { BF16: 2, F16: 2, F32: 4, F64: 8 };

/** Random finite bit patterns of a dtype (little-endian bytes). */
function randomBytes(dtype: FloatDType, count: number, r: () => number): Uint8Array {
  const bytes = new Uint8Array(count * SIZE[dtype]);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor((r() + 0.5) * 256);
  // clear the top exponent bit of each element so that every value is finite
  for (let i = 0; i < count; i++) bytes[(i + 1) * SIZE[dtype] - 1] &= 0xbf;
  return bytes;
}

test('decodeInto places every dtype exactly like decodeToFloat64: rows, strided columns, transposed, odd sizes, unaligned bytes', () => {
  const r = rng(1);
  for (const dtype of ['BF16', 'F16', 'F32', 'F64'] as FloatDType[]) {
    for (const [rows, cols] of [[5, 4], [3, 7], [1, 1], [6, 2], [130, 3]]) {
      const count = rows * cols;
      const raw = randomBytes(dtype, count, r);
      // an odd byte offset forces the unaligned path
      const shifted = new Uint8Array(raw.length + 1).subarray(1);
      shifted.set(raw);
      const expected = decodeToFloat64(raw, dtype, count);
      const placements = [
        { offset: 0, rowStride: cols, colStride: 1 }, // A rows, contiguous
        { offset: 3, rowStride: cols + 5, colStride: 1 }, // B columns inside wider rows
        { offset: 2, rowStride: 1, colStride: rows + 2 }, // transposed (MLX)
      ];
      for (const at of placements) {
        for (const bytes of [raw, shifted]) {
          const size = at.offset + (rows - 1) * at.rowStride + (cols - 1) * at.colStride + 1;
          const into = dtype === 'F64' ? new Float64Array(size).fill(7) : new Float32Array(size).fill(7);
          assert.equal(decodeInto(bytes, dtype, rows, cols, into, at), true);
          const written = new Set<number>();
          for (let i = 0; i < rows; i++) {
            for (let j = 0; j < cols; j++) {
              const k = at.offset + i * at.rowStride + j * at.colStride;
              written.add(k);
              assert.equal(into[k], expected[i * cols + j], `${dtype} ${rows}×${cols} (${i}, ${j}) at ${JSON.stringify(at)}`);
            }
          }
          for (let k = 0; k < size; k++) if (!written.has(k)) assert.equal(into[k], 7, `${dtype}: element ${k} outside the placement was written`);
        }
      }
    }
  }
  assert.throws(() => decodeInto(new Uint8Array(16), 'F64', 1, 2, new Float32Array(2), { offset: 0, rowStride: 2, colStride: 1 }), RangeError);
  assert.throws(() => decodeInto(new Uint8Array(8), 'BF16', 2, 2, new Float32Array(3), { offset: 0, rowStride: 2, colStride: 1 }), RangeError);
});

test('decodeInto flags NaN and ±Infinity in any position for every dtype, and only those', () => {
  const patterns: Record<FloatDType, { nan: number[]; inf: number[]; big: number[] }> = {
    BF16: { nan: [0x7fc0, 0xff81], inf: [0x7f80, 0xff80], big: [0x7f7f, 0xff7f] },
    F16: { nan: [0x7e00, 0xfc01], inf: [0x7c00, 0xfc00], big: [0x7bff, 0xfbff] },
    F32: { nan: [0x7fc00000, 0xff800001], inf: [0x7f800000, 0xff800000], big: [0x7f7fffff, 0xff7fffff] },
    F64: { nan: [], inf: [], big: [] },
  };
  for (const dtype of ['BF16', 'F16', 'F32'] as FloatDType[]) {
    const size = SIZE[dtype];
    const put = (bytes: Uint8Array, i: number, bits: number) => {
      for (let b = 0; b < size; b++) bytes[i * size + b] = (bits >>> (8 * b)) & 0xff;
    };
    for (const position of [0, 5, 10]) {
      for (const [kind, list] of Object.entries(patterns[dtype])) {
        for (const bits of list) {
          const bytes = randomBytes(dtype, 11, rng(position + 3));
          put(bytes, position, bits);
          const finite = decodeInto(bytes, dtype, 1, 11, new Float32Array(11), { offset: 0, rowStride: 11, colStride: 1 });
          assert.equal(finite, kind === 'big', `${dtype} ${kind} 0x${bits.toString(16)} at ${position}`);
          const strided = decodeInto(bytes, dtype, 11, 1, new Float32Array(33), { offset: 1, rowStride: 3, colStride: 1 });
          assert.equal(strided, kind === 'big');
          // transposing placement (B [11, 1] into a row of Bᵀ)
          const transposed = decodeInto(bytes, dtype, 11, 1, new Float32Array(24), { offset: 1, rowStride: 1, colStride: 12 });
          assert.equal(transposed, kind === 'big');
        }
      }
    }
  }
  const f64 = new Float64Array([1, 2, Infinity, 4]);
  assert.equal(decodeInto(new Uint8Array(f64.buffer), 'F64', 2, 2, new Float64Array(4), { offset: 0, rowStride: 2, colStride: 1 }), false);
});

test('encodeFromFloat32 agrees with the scalar round-to-nearest-even encoders (ties, overflow, subnormals, NaN, ±Infinity)', () => {
  const r = rng(5);
  const bits: number[] = [];
  for (let i = 0; i < 20000; i++) bits.push(Math.floor((r() + 0.5) * 2 ** 32) >>> 0);
  for (let hi = 0; hi < 0x10000; hi += 97) for (const low of [0x7fff, 0x8000, 0x8001, 0]) bits.push(((hi << 16) | low) >>> 0);
  bits.push(0x7f7fffff, 0xff7fffff, 0x7f7f8000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffffffff, 0x00000001, 0x80008000, 0x00018000);
  const u = new Uint32Array(bits);
  const values = new Float32Array(u.buffer);
  for (const [dtype, scalar] of [['BF16', numberToBf16Bits], ['F16', numberToF16Bits]] as const) {
    for (const into of [undefined, new Uint8Array(values.length * 2 + 64)]) {
      const out = encodeFromFloat32(values, dtype, into);
      const got = new Uint16Array(out.buffer, out.byteOffset, values.length);
      for (let i = 0; i < values.length; i++) {
        const x = values[i];
        if (Number.isNaN(x)) {
          const g = got[i];
          assert.ok((g & 0x7fff) > (dtype === 'BF16' ? 0x7f80 : 0x7c00), `${dtype}: NaN 0x${u[i].toString(16)} became 0x${g.toString(16)}`);
          continue;
        }
        assert.equal(got[i], scalar(x), `${dtype}: 0x${u[i].toString(16)} (${x})`);
      }
    }
  }
  const f32 = encodeFromFloat32(values, 'F32');
  assert.deepEqual(new Uint32Array(f32.buffer, f32.byteOffset, values.length), u);
});

test('householderQlEigen: A·v = λ·v, orthonormal vectors, descending values summing to the trace (random, repeated, zero, rank-deficient)', () => {
  const r = rng(9);
  const gram = (rows: number, cols: number, rowOf: (i: number) => number) => {
    const x = Float64Array.from({ length: rows * cols }, r);
    const g = new Float64Array(rows * rows);
    for (let i = 0; i < rows; i++) for (let j = 0; j < rows; j++) for (let t = 0; t < cols; t++) g[i * rows + j] += x[rowOf(i) * cols + t] * x[rowOf(j) * cols + t];
    return g;
  };
  const diag = (values: number[]) => {
    const n = values.length;
    const g = new Float64Array(n * n);
    values.forEach((v, i) => (g[i * n + i] = v));
    return g;
  };
  const cases: [string, Float64Array, number][] = [
    ['random 48', gram(48, 60, (i) => i), 48],
    ['rank 12 of 40', gram(40, 30, (i) => i % 12), 40],
    ['repeated', diag([2, 1, 2, 1, 2, 3, 1, 1]), 8],
    ['identity', diag(Array(20).fill(1)), 20],
    ['zero', new Float64Array(25), 5],
    ['1×1', new Float64Array([4]), 1],
  ];
  for (const [name, m, n] of cases) {
    const { values, vectors } = householderQlEigen(m, n, 'descending');
    let scale = 1e-300, trace = 0;
    for (let i = 0; i < n; i++) {
      trace += m[i * n + i];
      for (let j = 0; j < n; j++) scale = Math.max(scale, Math.abs(m[i * n + j]));
    }
    assert.ok(Math.abs(values.reduce((a, b) => a + b, 0) - trace) <= 1e-12 * scale * n, `${name}: trace`);
    for (let q = 1; q < n; q++) assert.ok(values[q] <= values[q - 1], `${name}: order`);
    for (let q = 0; q < n; q++) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += m[i * n + j] * vectors[j * n + q];
        assert.ok(Math.abs(s - values[q] * vectors[i * n + q]) <= 1e-12 * scale * n, `${name}: residual of pair ${q}`);
      }
      for (let p = 0; p <= q; p++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += vectors[k * n + p] * vectors[k * n + q];
        assert.ok(Math.abs(s - (p === q ? 1 : 0)) <= 1e-12 * n, `${name}: orthonormality ${p}, ${q}`);
      }
    }
  }
});

/** Dense ΔW [m, n] of panels Bᵀ [R, m] and A [R, n] with coefficients. */
function dense(bt: Float64Array, a: Float64Array, c: ArrayLike<number>, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let t = 0; t < c.length; t++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] += c[t] * bt[t * m + i] * a[t * n + j];
  return out;
}


test('truncation is invariant to how each direction splits its scale between B and A (b·10⁻⁸, a·10⁸)', async () => {
  const r = rng(13);
  const m = 30, n = 25, R = 9;
  const bt = Float64Array.from({ length: R * m }, r);
  const a = Float64Array.from({ length: R * n }, r);
  const c = Float64Array.from({ length: R }, (_, t) => (t % 2 ? 0.7 : -0.4));
  const skewedBt = Float64Array.from(bt, (x, i) => (Math.floor(i / m) < 3 ? x * 1e-8 : x));
  const skewedA = Float64Array.from(a, (x, i) => (Math.floor(i / n) < 3 ? x * 1e8 : x));
  const plain = await truncatedProduct(bt, m, a, n, c, 4, jsProducts);
  const skewed = await truncatedProduct(skewedBt, m, skewedA, n, c, 4, jsProducts);
  const x = dense(plain.bt, plain.a, Array(4).fill(1), m, n);
  const y = dense(skewed.bt, skewed.a, Array(4).fill(1), m, n);
  assert.ok(relErr(y, x) < 1e-9, `rank-4 results differ by ${relErr(y, x)}`);
  for (let q = 0; q < plain.sigma.length; q++) assert.ok(Math.abs(plain.sigma[q] - skewed.sigma[q]) <= 1e-9 * plain.sigma[0]);
});

/** A PEFT folder of bf16 factors (values are bf16-exact, so the test's f64 reference sees what the file holds). */
function writeBf16Peft(dir: string, modules: Record<string, { out: number; in: number }>, r: number, alpha: number, seed: number, poison?: string): void {
  const next = rng(seed);
  const bf16 = () => {
    const x = next() * 0.2;
    const b = numberToBf16Bits(x);
    return new Float32Array(new Uint32Array([b << 16]).buffer)[0];
  };
  fs.mkdirSync(dir, { recursive: true });
  const tensors = [];
  for (const [name, s] of Object.entries(modules)) {
    const a = Array.from({ length: r * s.in }, bf16);
    const b = Array.from({ length: s.out * r }, bf16);
    if (poison === name) b[7] = NaN;
    tensors.push({ name: `base_model.model.${name}.lora_A.weight`, dtype: 'BF16' as const, shape: [r, s.in], data: a });
    tensors.push({ name: `base_model.model.${name}.lora_B.weight`, dtype: 'BF16' as const, shape: [s.out, r], data: b });
  }
  writeFloatTensors(path.join(dir, 'adapter_model.safetensors'), tensors);
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r, lora_alpha: alpha, target_modules: ['q', 'down'], base_model_name_or_path: 'toy' }));
}

function readModule(dir: string, module: string): { bt: Float64Array; a: Float64Array; r: number; m: number; n: number } {
  const st = SafetensorsFile.open(path.join(dir, 'adapter_model.safetensors'));
  const aKey = `base_model.model.${module}.lora_A.weight`, bKey = `base_model.model.${module}.lora_B.weight`;
  const [r, n] = st.info(aKey).shape;
  const m = st.info(bKey).shape[0];
  const b = st.readFloat64(bKey);
  const bt = new Float64Array(r * m);
  for (let i = 0; i < m; i++) for (let q = 0; q < r; q++) bt[q * m + i] = b[i * r + q];
  return { bt, a: st.readFloat64(aKey), r, m, n };
}

test('bf16 svd merge (float32 output products through ONNX Runtime) equals the dense best rank-r to bf16 precision; JS agrees; reruns give the same bytes', async () => {
  // large enough that both products run in ONNX Runtime (R·k·(m+n) above its minimum work)
  const modules = { 'l.0.q': { out: 320, in: 200 }, 'l.0.down': { out: 120, in: 360 } };
  const inputs = [0, 1, 2].map((i) => ({ name: `b${i}`, path: path.join(tmp, `b${i}`), weight: [0.6, -0.3, 0.45][i] }));
  inputs.forEach((inp, i) => writeBf16Peft(inp.path, modules, [4, 6, 5][i], 8, 21 + i));
  const rank = 5;
  const outs: Record<string, string> = {};
  for (const [label, products] of [['onnx', 'onnx'], ['onnx-again', 'onnx'], ['js', 'js']] as const) {
    outs[label] = path.join(tmp, `bf16-${label}`);
    const res = await mergeAdapters(inputs, { method: 'svd', rank, products }, outs[label]);
    assert.equal(res.dtype, 'BF16');
    if (label !== 'js') assert.match(res.products, /onnxruntime/);
    for (const module of Object.keys(modules)) {
      // reference: the dense ΔW = Σ wᵢ·(α/rᵢ)·BᵢAᵢ and its best rank-r approximation from ΔWᵀΔW
      const parts = inputs.map((inp, i) => ({ f: readModule(inp.path, module), w: inp.weight * (8 / [4, 6, 5][i]) }));
      const { m, n } = parts[0].f;
      const delta = new Float64Array(m * n);
      for (const p of parts) {
        const d = dense(p.f.bt, p.f.a, Array(p.f.r).fill(p.w), m, n);
        for (let k = 0; k < d.length; k++) delta[k] += d[k];
      }
      const gram = new Float64Array(n * n);
      for (let i = 0; i < m; i++) for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) gram[x * n + y] += delta[i * n + x] * delta[i * n + y];
      const { values, vectors } = householderQlEigen(gram, n, 'descending');
      const best = new Float64Array(m * n);
      for (let q = 0; q < rank; q++) {
        for (let i = 0; i < m; i++) {
          let proj = 0;
          for (let j = 0; j < n; j++) proj += delta[i * n + j] * vectors[j * n + q];
          for (let j = 0; j < n; j++) best[i * n + j] += proj * vectors[j * n + q];
        }
      }
      const total = values.reduce((s, v) => s + Math.max(v, 0), 0);
      const kept = values.slice(0, rank).reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(res.energyKept.perModule[module] - kept / total) < 1e-9, `${label} ${module}: energy ${res.energyKept.perModule[module]} vs ${kept / total}`);
      const mine = readModule(outs[label], module);
      assert.equal(mine.r, rank);
      const got = dense(mine.bt, mine.a, Array(rank).fill(1), m, n);
      // bf16 factors carry 2⁻⁹ relative rounding each
      assert.ok(relErr(got, best) < 6e-3, `${label} ${module}: ${relErr(got, best)} from the best rank-${rank} approximation`);
    }
  }
  const sha = (label: string) => createHash('sha256').update(fs.readFileSync(path.join(outs[label], 'adapter_model.safetensors'))).digest('hex');
  assert.equal(sha('onnx'), sha('onnx-again'), 'same inputs, same bytes');
  for (const module of Object.keys(modules)) {
    const x = readModule(outs.onnx, module), y = readModule(outs.js, module);
    const dx = dense(x.bt, x.a, Array(rank).fill(1), x.m, x.n), dy = dense(y.bt, y.a, Array(rank).fill(1), y.m, y.n);
    assert.ok(relErr(dx, dy) < 6e-3, `onnx vs js ${module}: ${relErr(dx, dy)}`);
  }
});

test('a NaN in a factor is refused for svd and cat, naming the module', async () => {
  const modules = { 'l.0.q': { out: 12, in: 10 } };
  const good = path.join(tmp, 'good'), bad = path.join(tmp, 'bad');
  writeBf16Peft(good, modules, 2, 2, 31);
  writeBf16Peft(bad, modules, 2, 2, 32, 'l.0.q');
  for (const method of ['svd', 'cat'] as const) {
    await assert.rejects(
      mergeAdapters([{ name: 'good', path: good, weight: 0.5 }, { name: 'bad', path: bad, weight: 0.5 }], { method, rank: 2, products: 'js' }, path.join(tmp, `nan-${method}`)),
      (e: unknown) => e instanceof ComposerError && e.code === 'non-finite' && /l\.0\.q/.test(e.message),
    );
    assert.equal(fs.existsSync(path.join(tmp, `nan-${method}`)), false);
  }
});

test('bf16 cat: every output element is the once-rounded product x·√|c| (sign on A), read back as Σ wᵢ·sᵢ·Bᵢ·Aᵢ', async () => {
  const modules = { 'l.0.q': { out: 40, in: 24 }, 'l.0.down': { out: 18, in: 50 } };
  const ranks = [3, 2];
  const inputs = [0, 1].map((i) => ({ name: `c${i}`, path: path.join(tmp, `c${i}`), weight: [0.7, -0.45][i] }));
  inputs.forEach((inp, i) => writeBf16Peft(inp.path, modules, ranks[i], 4, 41 + i));
  const out = path.join(tmp, 'bf16-cat');
  const res = await mergeAdapters(inputs, { method: 'cat' }, out);
  assert.equal(res.dtype, 'BF16');
  const st = SafetensorsFile.open(path.join(out, 'adapter_model.safetensors'));
  const bits = (key: string) => {
    const raw = st.readBytes(key);
    return new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  };
  for (const module of Object.keys(modules)) {
    const gotA = bits(`base_model.model.${module}.lora_A.weight`);
    const gotB = bits(`base_model.model.${module}.lora_B.weight`);
    const R = ranks[0] + ranks[1];
    let row = 0;
    inputs.forEach((inp, i) => {
      const f = readModule(inp.path, module);
      const c = inp.weight * (4 / ranks[i]);
      const root = Math.sqrt(Math.abs(c));
      for (let q = 0; q < f.r; q++) {
        for (let j = 0; j < f.n; j++) assert.equal(gotA[(row + q) * f.n + j], numberToBf16Bits(f.a[q * f.n + j] * Math.sign(c) * root), `${module} A[${row + q}, ${j}]`);
        for (let o = 0; o < f.m; o++) assert.equal(gotB[o * R + row + q], numberToBf16Bits(f.bt[q * f.m + o] * root), `${module} B[${o}, ${row + q}]`);
      }
      row += f.r;
    });
  }
});

test('encodeScaled gives the bytes of encodeFromFloat64 of the float64 products, per row and per column, including products that float32 rounds onto a bf16 tie', () => {
  const r = rng(17);
  const rows = 7, cols = 9;
  const values = new Float32Array(rows * cols);
  const u = new Uint32Array(values.buffer);
  for (let i = 0; i < values.length; i++) {
    // half the elements sit exactly on a bf16 tie; scales just off 1 push their products off it
    const high = 0x3c00 + Math.floor((r() + 0.5) * 0x800);
    u[i] = i % 2 ? ((high << 16) | 0x8000) >>> 0 : Math.floor((r() + 0.5) * 2 ** 32) >>> 0 & 0xbfffffff;
  }
  const rowScales = Float64Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 1 + 2 ** -40 : -(1 - 2 ** -40)));
  const colScales = Float64Array.from({ length: cols }, (_, j) => (j % 2 ? 1 - 2 ** -45 : 0.75));
  for (const dtype of ['BF16', 'F16', 'F32', 'F64'] as FloatDType[]) {
    for (const perRow of [true, false]) {
      const products = Float64Array.from(values, (x, i) => x * (perRow ? rowScales[Math.floor(i / cols)] : colScales[i % cols]));
      const expected = encodeFromFloat64(products, dtype);
      assert.deepEqual(encodeScaled(values, rows, cols, perRow ? rowScales : colScales, perRow, dtype), expected, `${dtype} per ${perRow ? 'row' : 'column'}`);
      const into = new Uint8Array(expected.length + 16);
      assert.deepEqual(encodeScaled(values, rows, cols, perRow ? rowScales : colScales, perRow, dtype, into), expected);
    }
  }
  // the ties really were there: a tie-blind encoder would differ
  const tieProducts = Float64Array.from(values, (x, i) => x * rowScales[Math.floor(i / cols)]);
  const naive = encodeFromFloat32(Float32Array.from(tieProducts), 'BF16');
  assert.notDeepEqual(naive, encodeFromFloat64(tieProducts, 'BF16'));
});
