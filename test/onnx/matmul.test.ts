import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMatMulEngine, matmulJs } from '../../server/src/engine/onnx/matmul';
import { ComposerError } from '../../server/src/engine/errors';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
}

/** Textbook triple loop on plain arrays: independent of matmulJs' transposition logic. */
function naive(a: ArrayLike<number>, [ar, ac]: number[], b: ArrayLike<number>, [br, bc]: number[], tA = false, tB = false): number[] {
  const A = (i: number, p: number) => (tA ? a[p * ac + i] : a[i * ac + p]);
  const B = (p: number, j: number) => (tB ? b[j * bc + p] : b[p * bc + j]);
  const m = tA ? ac : ar, k = tA ? ar : ac, n = tB ? br : bc;
  const out: number[] = [];
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += A(i, p) * B(p, j);
    out.push(s);
  }
  return out;
}

const cases = [
  { transA: false, transB: false },
  { transA: true, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: true },
];

test('ONNX Runtime and JS products agree with a textbook loop (float64 and float32, all transpositions)', async () => {
  const engine = await createMatMulEngine({ provider: 'cpu', minOnnxWork: 0 });
  assert.equal(engine.provider, 'cpu');
  const rnd = seeded(3);
  const [m, k, n] = [37, 23, 41];
  for (const o of cases) {
    const aShape: [number, number] = o.transA ? [k, m] : [m, k];
    const bShape: [number, number] = o.transB ? [n, k] : [k, n];
    const a = Float64Array.from({ length: m * k }, rnd);
    const b = Float64Array.from({ length: k * n }, rnd);
    const ref = naive(a, aShape, b, bShape, o.transA, o.transB);
    const viaOrt = await engine.matmul64(a, aShape, b, bShape, o);
    const viaJs = matmulJs(a, aShape, b, bShape, o);
    assert.ok(viaOrt instanceof Float64Array && viaOrt.length === m * n);
    for (let i = 0; i < ref.length; i++) {
      assert.ok(Math.abs(viaOrt[i] - ref[i]) < 1e-12, `ort64 ${JSON.stringify(o)} [${i}]`);
      assert.ok(Math.abs(viaJs[i] - ref[i]) < 1e-12, `js64 ${JSON.stringify(o)} [${i}]`);
    }
    const a32 = Float32Array.from(a);
    const b32 = Float32Array.from(b);
    const ref32 = naive(a32, aShape, b32, bShape, o.transA, o.transB);
    const viaOrt32 = await engine.matmul(a32, aShape, b32, bShape, o);
    assert.ok(viaOrt32 instanceof Float32Array);
    for (let i = 0; i < ref32.length; i++) assert.ok(Math.abs(viaOrt32[i] - ref32[i]) < 1e-5, `ort32 [${i}]`);
  }
  await engine.dispose();
});

test('results are owned copies: a later product does not overwrite an earlier one', async () => {
  const engine = await createMatMulEngine({ provider: 'cpu', minOnnxWork: 0 });
  const eye = Float32Array.from([1, 0, 0, 1]);
  const first = await engine.matmul(Float32Array.from([1, 2, 3, 4]), [2, 2], eye, [2, 2]);
  await engine.matmul(Float32Array.from([9, 9, 9, 9]), [2, 2], eye, [2, 2]);
  assert.deepEqual(Array.from(first), [1, 2, 3, 4]);
  await engine.dispose();
});

test('jsOnly engine reports js and still multiplies', async () => {
  const engine = await createMatMulEngine({ jsOnly: true });
  assert.equal(engine.provider, 'js');
  const c = await engine.matmul64(Float64Array.from([1, 2]), [1, 2], Float64Array.from([3, 4]), [2, 1]);
  assert.deepEqual(Array.from(c), [11]);
});

test('mismatched inner dimensions and wrong lengths are dimension errors', async () => {
  const engine = await createMatMulEngine({ jsOnly: true });
  await assert.rejects(engine.matmul(new Float32Array(6), [2, 3], new Float32Array(8), [4, 2]), (e: unknown) => e instanceof ComposerError && e.code === 'dimension' && /inner dimensions differ/.test(e.message));
  assert.throws(() => matmulJs(new Float32Array(5), [2, 3], new Float32Array(6), [3, 2]), /has 5 values/);
});
