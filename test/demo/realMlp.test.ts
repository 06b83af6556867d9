/**
 * The real-data demo's hand-written backpropagation, checked against central finite differences of
 * the loss (float64): the base model's W and b, and a LoRA's A and B with the base frozen (relu and
 * tanh layers). Also: training lowers the loss, and the same seed gives the same bits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradients, initLora, initMlp, train, logits, type Layer, type Lora } from '../../server/src/engine/demo/real/mlp';
import { SeededRandom } from '../../server/src/engine/random';

function batch(n: number, dim: number, classes: number, seed: number): { x: Float64Array; y: Uint8Array } {
  const rnd = new SeededRandom(seed);
  return { x: Float64Array.from(rnd.gaussianArray(n * dim)), y: Uint8Array.from({ length: n }, () => rnd.int(classes)) };
}

/** Central difference of the loss in one parameter. */
function numeric(param: Float64Array, i: number, loss: () => number, h = 1e-6): number {
  const keep = param[i];
  param[i] = keep + h;
  const up = loss();
  param[i] = keep - h;
  const down = loss();
  param[i] = keep;
  return (up - down) / (2 * h);
}

function check(analytic: Float64Array, param: Float64Array, loss: () => number, what: string): void {
  const rnd = new SeededRandom(analytic.length);
  for (let probe = 0; probe < 12; probe++) {
    const i = rnd.int(param.length);
    const fd = numeric(param, i, loss);
    assert.ok(Math.abs(fd - analytic[i]) <= 1e-6 + 1e-5 * Math.abs(fd), `${what}[${i}]: backprop ${analytic[i]}, finite difference ${fd}`);
  }
}

function net(seed: number): Layer[] {
  const layers = initMlp([7, 6, 5, 4], ['relu', 'tanh', 'none'], seed);
  // non-zero biases so relu kinks are away from the probes
  const rnd = new SeededRandom(seed + 1);
  for (const l of layers) for (let i = 0; i < l.bias.length; i++) l.bias[i] = 0.3 * rnd.gaussian();
  return layers;
}

test('base gradients (W, b) match finite differences', () => {
  const layers = net(3);
  const { x, y } = batch(9, 7, 4, 4);
  const g = gradients(layers, x, y, 9);
  const loss = () => gradients(layers, x, y, 9).loss;
  layers.forEach((l, i) => {
    check(g.weight[i], l.weight, loss, `${l.name}.weight`);
    check(g.bias[i], l.bias, loss, `${l.name}.bias`);
  });
});

test('LoRA gradients (A, B) match finite differences, base frozen', () => {
  const layers = net(5);
  const lora: Lora = initLora(layers, 3, 6, 6);
  const rnd = new SeededRandom(7);
  for (const l of lora.layers) for (let i = 0; i < l.b.length; i++) l.b[i] = 0.2 * rnd.gaussian(); // B = 0 would make ∂/∂A vanish
  const { x, y } = batch(8, 7, 4, 8);
  const g = gradients(layers, x, y, 8, lora);
  const loss = () => gradients(layers, x, y, 8, lora).loss;
  lora.layers.forEach((l, i) => {
    check(g.a![i], l.a, loss, `lora_A[${i}]`);
    check(g.b![i], l.b, loss, `lora_B[${i}]`);
  });
});

test('training lowers the loss and is deterministic', () => {
  const run = () => {
    const layers = initMlp([7, 6, 5, 3], ['relu', 'relu', 'none'], 11);
    const { x, y } = batch(64, 7, 3, 12);
    // a learnable rule: the class is the argmax of the first three inputs
    for (let i = 0; i < 64; i++) y[i] = [0, 1, 2].reduce((b, c) => (x[i * 7 + c] > x[i * 7 + b] ? c : b), 0);
    const before = gradients(layers, x, y, 64).loss;
    train(layers, Float32Array.from(x), y, 64, { epochs: 30, batch: 16, lr: 1e-2, seed: 13 });
    const xs = Float64Array.from(Float32Array.from(x));
    return { before, after: gradients(layers, xs, y, 64).loss, out: logits(layers, xs, 64) };
  };
  const a = run();
  const b = run();
  assert.ok(a.after < a.before * 0.5, `loss ${a.before} → ${a.after}`);
  assert.deepEqual(a.out, b.out);
});
