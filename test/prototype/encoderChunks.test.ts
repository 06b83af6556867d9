// Encoders whose model has a fixed batch dimension are fed that many rows at a time, the last chunk
// zero-padded (encodeInChunks, shared by the plain and the configured encoder): the rows that come back
// equal x·W computed here, for row counts below, at and above multiples of the batch.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildModel, float32Tensor } from '../../server/src/engine/onnx/model';
import { encodeInChunks } from '../../server/src/engine/prototype/configuredEncoder';
import { openEncoder } from '../../server/src/engine/prototype/encoder';
import { parseEncoderConfig } from '../../server/src/engine/prototype/encoderConfig';

const IN = 3, OUT = 2, BATCH = 2;
const W = [0.5, -1, 2, 0.25, -0.75, 1.5]; // [IN, OUT]

function fixedBatchModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', type: 'float32', shape: [BATCH, IN] }],
    outputs: [{ name: 'y', type: 'float32', shape: [BATCH, OUT] }],
    initializers: [float32Tensor('W', [IN, OUT], W)],
    nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
  });
}

function expected(rows: Float32Array, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) for (let o = 0; o < OUT; o++) {
    let s = 0;
    for (let j = 0; j < IN; j++) s += rows[i * IN + j] * W[j * OUT + o];
    out.push(s);
  }
  return out;
}

test('fixed-batch encoders (plain and configured) return x·W for every row count', async () => {
  const model = fixedBatchModel();
  const encoders = [
    await openEncoder(model, { provider: 'cpu' }),
    await openEncoder(model, { provider: 'cpu', config: parseEncoderConfig('{"kind": "features"}', '/encoder.json') }),
  ];
  try {
    for (const encoder of encoders) {
      for (const n of [1, 2, 3, 5]) {
        const rows = Float32Array.from({ length: n * IN }, (_, i) => (i % 7) - 3 + i / 10);
        const got = await encoder.encodeBatch(rows, n);
        assert.equal(got.length, n * OUT);
        expected(rows, n).forEach((v, k) => assert.ok(Math.abs(got[k] - v) < 1e-5, `${encoder.config ? 'configured' : 'plain'} n=${n} [${k}]: ${got[k]} vs ${v}`));
      }
    }
  } finally {
    for (const e of encoders) await e.dispose();
  }
});

test('encodeInChunks: every call gets exactly the fixed batch, the padding is zero and is dropped', async () => {
  const calls: number[][] = [];
  const run = async (rows: Float32Array, n: number) => {
    calls.push(Array.from(rows.subarray(0, n * IN)));
    return Float32Array.from({ length: n }, (_, i) => rows[i * IN] + rows[i * IN + 1] + rows[i * IN + 2]);
  };
  const rows = Float32Array.from({ length: 5 * IN }, (_, i) => i + 1);
  const out = await encodeInChunks(rows, 5, IN, BATCH, run);
  assert.deepEqual(Array.from(out), [6, 15, 24, 33, 42]);
  assert.deepEqual(calls.map((c) => c.length), [BATCH * IN, BATCH * IN, BATCH * IN]);
  assert.deepEqual(calls[2], [13, 14, 15, 0, 0, 0]);
  assert.equal((await encodeInChunks(rows, 0, IN, BATCH, run)).length, 0);
  await assert.rejects(encodeInChunks(rows, 6, IN, BATCH, run), /encodeBatch got 15 values for 6 rows of 3/);
});
