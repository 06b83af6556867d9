import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { attr, buildModel, float32Tensor, float64Tensor, int64Tensor } from '../../server/src/engine/onnx/model';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
}

test('a Gemm + Tanh graph written by the model writer runs in ONNX Runtime and matches JS math', async () => {
  const rnd = seeded(7);
  const [n, din, dout] = [5, 4, 3];
  const W = Array.from({ length: din * dout }, rnd);
  const b = Array.from({ length: dout }, rnd);
  const x = Float32Array.from({ length: n * din }, rnd);
  const model = buildModel({
    inputs: [{ name: 'x', type: 'float32', shape: ['batch', din] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['batch', dout] }],
    initializers: [float32Tensor('W', [din, dout], W), float32Tensor('b', [dout], b)],
    nodes: [
      { op: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['h'], attributes: { alpha: attr.float(0.5), beta: attr.float(2) } },
      { op: 'Tanh', inputs: ['h'], outputs: ['y'] },
    ],
  });
  const session = await ort.InferenceSession.create(model);
  assert.deepEqual(session.inputNames, ['x']);
  assert.deepEqual(session.inputMetadata[0], { name: 'x', isTensor: true, type: 'float32', shape: ['batch', din] });
  const out = (await session.run({ x: new ort.Tensor('float32', x, [n, din]) })).y;
  assert.deepEqual(out.dims, [n, dout]);
  const Wf = Float32Array.from(W);
  const bf = Float32Array.from(b);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dout; j++) {
      let h = 0;
      for (let p = 0; p < din; p++) h += x[i * din + p] * Wf[p * dout + j];
      const expected = Math.tanh(0.5 * h + 2 * bf[j]);
      assert.ok(Math.abs((out.data as Float32Array)[i * dout + j] - expected) < 1e-5, `y[${i},${j}]`);
    }
  }
  await session.release();
});

test('float64 initializers, int64 tensors, ints attributes and negative ints round-trip', async () => {
  // ReduceSum over axis -1 (negative int64 varint), keepdims=0; Reshape with an int64 shape tensor.
  const data = [1, 2, 3, 4, 5, 6];
  const model = buildModel({
    opset: 13,
    inputs: [{ name: 'x', type: 'float64', shape: [2, 3] }],
    outputs: [{ name: 'y', type: 'float64', shape: [2, 1] }],
    initializers: [float64Tensor('c', [2, 3], data), int64Tensor('shape', [2], [2, 1]), int64Tensor('axes', [1], [-1])],
    nodes: [
      { op: 'Add', inputs: ['x', 'c'], outputs: ['s'] },
      { op: 'ReduceSum', inputs: ['s', 'axes'], outputs: ['r'], attributes: { keepdims: attr.int(0) } },
      { op: 'Reshape', inputs: ['r', 'shape'], outputs: ['y'] },
    ],
  });
  const session = await ort.InferenceSession.create(model);
  const x = Float64Array.from([0.5, 0.25, 0.125, -1, -2, -3]);
  const y = (await session.run({ x: new ort.Tensor('float64', x, [2, 3]) })).y;
  assert.deepEqual(y.dims, [2, 1]);
  assert.deepEqual(Array.from(y.data as Float64Array), [1 + 2 + 3 + 0.875, 4 + 5 + 6 - 6]);
  await session.release();
});

test('Transpose with an ints attribute and a Constant node holding a tensor attribute', async () => {
  const model = buildModel({
    inputs: [{ name: 'x', type: 'float32', shape: [2, 3] }],
    outputs: [{ name: 'y', type: 'float32', shape: [3, 2] }],
    nodes: [
      { op: 'Constant', inputs: [], outputs: ['k'], attributes: { value: attr.tensor(float32Tensor('k', [], [10])) } },
      { op: 'Transpose', inputs: ['x'], outputs: ['t'], attributes: { perm: attr.ints([1, 0]) } },
      { op: 'Mul', inputs: ['t', 'k'], outputs: ['y'] },
    ],
  });
  const session = await ort.InferenceSession.create(model);
  const y = (await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]) })).y;
  assert.deepEqual(Array.from(y.data as Float32Array), [10, 40, 20, 50, 30, 60]);
  await session.release();
});

test('tensor helpers refuse data that does not fill the dims', () => {
  assert.throws(() => float32Tensor('W', [2, 3], [1, 2, 3]), /need 6 values, got 3/);
});
