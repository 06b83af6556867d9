/**
 * The built-in classification evaluator: the ONNX Runtime accuracy and NLL of a model with an adapter
 * merged in equal an independent float64 forward pass with W + s·B·A (relu, tanh, gelu, none layers);
 * the graph cut at the penultimate layer gives the hidden features; labels round-trip through .npy;
 * bad model folders and adapters that do not fit fail with located errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ComposerError } from '../../server/src/engine/errors';
import { classifierOnnx, evaluateClassification, readClassifier, readLabels, writeClassifier, writeLabels, type ClassifierLayer } from '../../server/src/engine/eval/classification';
import { writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { writeNpy } from '../../server/src/engine/prototype/npy';
import { SeededRandom } from '../../server/src/engine/random';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-classification-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

const SIZES = [6, 5, 4, 3];
const ACTS = ['gelu', 'tanh', 'none'] as const;

function model(seed: number): ClassifierLayer[] {
  const rnd = new SeededRandom(seed);
  return ACTS.map((activation, i) => ({
    name: `fc${i + 1}`, activation, inFeatures: SIZES[i], outFeatures: SIZES[i + 1],
    weight: rnd.gaussianArray(SIZES[i] * SIZES[i + 1], 0.8), bias: rnd.gaussianArray(SIZES[i + 1], 0.3),
  }));
}

const erf = (x: number) => {
  // Abramowitz–Stegun 7.1.26 is too coarse; integrate instead (Simpson, 2000 steps)
  const n = 2000, h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return (2 / Math.sqrt(Math.PI)) * (h / 3) * s;
};

function forward(layers: { weight: ArrayLike<number>; bias: ArrayLike<number>; activation: string; inFeatures: number; outFeatures: number }[], x: number[], upTo = layers.length): number[] {
  let h = x;
  for (const l of layers.slice(0, upTo)) {
    const z = Array.from({ length: l.outFeatures }, (_, o) => l.bias[o] + h.reduce((s, v, j) => s + v * l.weight[o * l.inFeatures + j], 0));
    h = z.map((v) => (l.activation === 'relu' ? Math.max(0, v) : l.activation === 'tanh' ? Math.tanh(v) : l.activation === 'gelu' ? 0.5 * v * (1 + erf(v / Math.SQRT2)) : v));
  }
  return h;
}

test('accuracy and NLL with a merged LoRA match an independent forward pass', async () => {
  const layers = model(1);
  const dir = path.join(root, 'model');
  writeClassifier(dir, layers);
  const rnd = new SeededRandom(2);
  const rank = 2, alpha = 3;
  const factors = layers.slice(0, 2).map((l) => ({ name: l.name, a: rnd.gaussianArray(rank * l.inFeatures, 0.5), b: rnd.gaussianArray(l.outFeatures * rank, 0.5) }));
  const adapter = path.join(root, 'adapter');
  fs.mkdirSync(adapter, { recursive: true });
  fs.writeFileSync(path.join(adapter, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: rank, lora_alpha: alpha, target_modules: ['fc1', 'fc2'], base_model_name_or_path: 'test' }));
  writeFloatTensors(path.join(adapter, 'adapter_model.safetensors'), factors.flatMap((f, i) => [
    { name: `base_model.model.${f.name}.lora_A.weight`, dtype: 'F32' as const, shape: [rank, layers[i].inFeatures], data: f.a },
    { name: `base_model.model.${f.name}.lora_B.weight`, dtype: 'F32' as const, shape: [layers[i].outFeatures, rank], data: f.b },
  ]));
  const n = 200;
  const x = rnd.gaussianArray(n * SIZES[0]);
  const y = Int32Array.from({ length: n }, () => rnd.int(3));
  writeNpy(path.join(root, 'x.npy'), x, [n, SIZES[0]]);
  writeLabels(path.join(root, 'y.npy'), y);

  // independent: W + (α/r)·B·A in float64, then the forward pass
  const merged = layers.map((l, i) => {
    const f = factors[i];
    if (!f) return l;
    const w = Array.from(l.weight, (v, idx) => {
      const o = Math.floor(idx / l.inFeatures), j = idx % l.inFeatures;
      let d = 0;
      for (let t = 0; t < rank; t++) d += f.b[o * rank + t] * f.a[t * l.inFeatures + j];
      return v + (alpha / rank) * d;
    });
    return { ...l, weight: w };
  });
  for (const [withAdapter, reference] of [[false, layers], [true, merged]] as const) {
    let correct = 0, nll = 0;
    for (let i = 0; i < n; i++) {
      const out = forward(reference, Array.from(x.subarray(i * 6, i * 6 + 6)));
      const max = Math.max(...out);
      const lse = max + Math.log(out.reduce((s, v) => s + Math.exp(v - max), 0));
      nll += lse - out[y[i]];
      if (out.indexOf(max) === y[i]) correct++;
    }
    const m = await evaluateClassification({ model: dir, data: path.join(root, 'x.npy'), labels: path.join(root, 'y.npy'), ...(withAdapter ? { adapter } : {}) });
    assert.equal(m.samples, n);
    assert.equal(m.accuracy, correct / n, `accuracy (adapter: ${withAdapter})`);
    assert.ok(Math.abs(m.nll - nll / n) < 1e-5, `nll ${m.nll} vs ${nll / n}`);
  }
});

test('the graph cut at the penultimate layer gives the hidden features', async () => {
  const layers = model(3);
  const session = await ort.InferenceSession.create(classifierOnnx(layers, { upTo: 2 }));
  const x = new SeededRandom(4).gaussianArray(4 * 6);
  const out = (await session.run({ x: new ort.Tensor('float32', x, [4, 6]) })).features;
  assert.deepEqual(out.dims, [4, 4]);
  for (let i = 0; i < 4; i++) {
    const ref = forward(layers, Array.from(x.subarray(i * 6, i * 6 + 6)), 2);
    ref.forEach((v, j) => assert.ok(Math.abs((out.data as Float32Array)[i * 4 + j] - v) < 1e-5));
  }
  await session.release();
});

test('labels round-trip through int64, uint8 and int32 .npy', () => {
  const labels = [0, 9, 3, 3, 7];
  const file = path.join(root, 'labels.npy');
  writeLabels(file, labels);
  assert.deepEqual(Array.from(readLabels(file)), labels);
  for (const [descr, size, put] of [['|u1', 1, (b: Buffer, v: number, at: number) => b.writeUInt8(v, at)], ['<i4', 4, (b: Buffer, v: number, at: number) => b.writeInt32LE(v, at)]] as const) {
    const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${labels.length},), }`;
    const header = dict.padEnd(64 - 10 - 1) + '\n';
    const buf = Buffer.alloc(10 + header.length + labels.length * size);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(buf);
    buf.writeUInt16LE(header.length, 8);
    buf.write(header, 10, 'latin1');
    labels.forEach((v, i) => put(buf, v, 10 + header.length + i * size));
    fs.writeFileSync(file, buf);
    assert.deepEqual(Array.from(readLabels(file)), labels, descr);
  }
});

test('a folder without config.json, and an adapter whose module is not a layer, fail with located errors', async () => {
  const empty = path.join(root, 'empty');
  fs.mkdirSync(empty, { recursive: true });
  assert.throws(() => readClassifier(empty), (e: unknown) => e instanceof ComposerError && /config\.json/.test(e.message) && e.location?.file === empty);
  const dir = path.join(root, 'model2');
  writeClassifier(dir, model(5));
  const bad = path.join(root, 'bad-adapter');
  fs.mkdirSync(bad, { recursive: true });
  fs.writeFileSync(path.join(bad, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 1, lora_alpha: 1, target_modules: ['q_proj'] }));
  writeFloatTensors(path.join(bad, 'adapter_model.safetensors'), [
    { name: 'base_model.model.q_proj.lora_A.weight', dtype: 'F32', shape: [1, 6], data: new Float32Array(6) },
    { name: 'base_model.model.q_proj.lora_B.weight', dtype: 'F32', shape: [5, 1], data: new Float32Array(5) },
  ]);
  writeNpy(path.join(root, 'x2.npy'), new Float32Array(12), [2, 6]);
  writeLabels(path.join(root, 'y2.npy'), [0, 1]);
  await assert.rejects(evaluateClassification({ model: dir, adapter: bad, data: path.join(root, 'x2.npy'), labels: path.join(root, 'y2.npy') }), /module "q_proj" is not a layer of the model \(fc1, fc2, fc3\)/);
});
