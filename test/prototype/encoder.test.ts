import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildDemoEncoder, demoEncoderWeights } from '../../server/src/engine/prototype/demoEncoder';
import { seededRandom } from '../../server/src/engine/random';
import { openEncoder, prototypeFromFeatures, prototypeFromFile, prototypeFromSamples } from '../../server/src/engine/prototype/encoder';
import { writeNpy } from '../../server/src/engine/prototype/npy';
import { prototypeCacheKey, sha256File, sha256FileSync, sha256Prototype } from '../../server/src/engine/prototype/contentHash';
import { ComposerError } from '../../server/src/engine/errors';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-encoder-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

const [IN, OUT, SEED] = [6, 4, 11];

/** E(x) computed in JS from the same seeded weights: tanh(x·W1 + b1)·W2 in float64. */
function encodeJs(x: ArrayLike<number>): number[] {
  const w = demoEncoderWeights(IN, OUT, SEED);
  const h = Array.from({ length: w.hidden }, (_, j) => {
    let s = w.b1[j];
    for (let p = 0; p < IN; p++) s += x[p] * w.W1[p * w.hidden + j];
    return Math.tanh(s);
  });
  return Array.from({ length: OUT }, (_, k) => h.reduce((acc, hj, j) => acc + hj * w.W2[j * OUT + k], 0));
}

function rows(seed: number, n: number, dim: number): Float32Array {
  const rnd = seededRandom(seed);
  return Float32Array.from({ length: n * dim }, () => rnd() * 4 - 2);
}

test('the demo encoder is deterministic and computes tanh(x·W1+b1)·W2', async () => {
  const a = buildDemoEncoder(IN, OUT, SEED);
  assert.deepEqual(a, buildDemoEncoder(IN, OUT, SEED));
  assert.notDeepEqual(a, buildDemoEncoder(IN, OUT, SEED + 1));
  const encoder = await openEncoder(a, { provider: 'cpu' });
  assert.equal(encoder.inDim, IN);
  assert.equal(await encoder.outputDim(), OUT);
  const x = rows(1, 3, IN);
  const y = await encoder.encodeBatch(x, 3);
  for (let i = 0; i < 3; i++) {
    const ref = encodeJs(x.subarray(i * IN, (i + 1) * IN));
    ref.forEach((v, k) => assert.ok(Math.abs(y[i * OUT + k] - v) < 1e-5, `y[${i},${k}]`));
  }
  await encoder.dispose();
});

test('prototype from samples = mean of E(x) over every row of every file, any batch size', async () => {
  const encoderFile = path.join(dir, 'encoder.onnx');
  fs.writeFileSync(encoderFile, buildDemoEncoder(IN, OUT, SEED));
  const encoder = await openEncoder(encoderFile, { provider: 'cpu' });
  // Three one-sample files, a 7-row file and a 1×d file: batches must span files.
  const files: string[] = [];
  const all: Float32Array[] = [];
  for (let i = 0; i < 3; i++) {
    const x = rows(100 + i, 1, IN);
    files.push(path.join(dir, `one-${i}.npy`));
    writeNpy(files[i], x, [IN]);
    all.push(x);
  }
  const batch = rows(200, 7, IN);
  files.push(path.join(dir, 'batch.npy'));
  writeNpy(files[3], batch, [7, IN]);
  for (let r = 0; r < 7; r++) all.push(batch.subarray(r * IN, (r + 1) * IN));
  const expected = new Array(OUT).fill(0);
  for (const x of all) encodeJs(x).forEach((v, k) => (expected[k] += v / all.length));

  for (const batchSize of [1, 4, 64]) {
    const progress: number[] = [];
    const result = await prototypeFromSamples(encoder, files, { batchSize, onProgress: (p) => progress.push(p.done) });
    assert.equal(result.count, 10);
    assert.equal(result.dim, OUT);
    assert.ok(result.prototype instanceof Float64Array);
    expected.forEach((v, k) => assert.ok(Math.abs(result.prototype[k] - v) < 1e-5, `batch ${batchSize}: p[${k}] ${result.prototype[k]} vs ${v}`));
    assert.equal(progress[progress.length - 1], 10);
    assert.equal(progress.length, Math.ceil(10 / batchSize));
  }
  await encoder.dispose();
});

test('a NaN sample names its file and row; wrong d_in is a dimension error', async () => {
  const encoder = await openEncoder(buildDemoEncoder(IN, OUT, SEED), { provider: 'cpu' });
  const x = rows(5, 4, IN);
  x[2 * IN + 3] = NaN;
  const bad = path.join(dir, 'nan.npy');
  writeNpy(bad, x, [4, IN]);
  const good = path.join(dir, 'good.npy');
  writeNpy(good, rows(6, 1, IN), [IN]);
  await assert.rejects(prototypeFromSamples(encoder, [good, bad], { batchSize: 2 }), (e: unknown) => {
    assert.ok(e instanceof ComposerError);
    assert.equal(e.code, 'non-finite');
    assert.equal(e.location?.file, bad);
    assert.match(e.message, /row 2, column 3 is NaN/);
    return true;
  });
  const wide = path.join(dir, 'wide.npy');
  writeNpy(wide, rows(7, 2, IN + 1), [2, IN + 1]);
  await assert.rejects(prototypeFromSamples(encoder, [good, wide]), (e: unknown) =>
    e instanceof ComposerError && e.code === 'dimension' && e.location?.file === wide && /7 features .* expects 6/.test(e.message));
  await encoder.dispose();
});

test('cancellation stops between batches', async () => {
  const encoder = await openEncoder(buildDemoEncoder(IN, OUT, SEED), { provider: 'cpu' });
  const file = path.join(dir, 'many.npy');
  writeNpy(file, rows(8, 50, IN), [50, IN]);
  const controller = new AbortController();
  await assert.rejects(
    prototypeFromSamples(encoder, [file], { batchSize: 5, signal: controller.signal, onProgress: (p) => p.done >= 10 && controller.abort() }),
    (e: unknown) => e instanceof ComposerError && e.code === 'cancelled',
  );
  await encoder.dispose();
});

test('features: streamed mean of [N, D]; prototype file: the vector itself; dimension checked', async () => {
  const n = 37, d = 5;
  const data = Float64Array.from({ length: n * d }, (_, i) => Math.cos(i) * 3);
  const file = path.join(dir, 'features.npy');
  writeNpy(file, data, [n, d]);
  const mean = new Array(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j] / n;
  const r = await prototypeFromFeatures(file, { batchSize: 8 });
  assert.equal(r.count, n);
  mean.forEach((v, j) => assert.ok(Math.abs(r.prototype[j] - v) < 1e-12));
  await assert.rejects(prototypeFromFeatures(file, { dim: 6 }), (e: unknown) => e instanceof ComposerError && e.code === 'dimension');

  const protoFile = path.join(dir, 'prototype.npy');
  writeNpy(protoFile, Float32Array.from([1, 2, 3]), [1, 3]);
  assert.deepEqual(Array.from(prototypeFromFile(protoFile).prototype), [1, 2, 3]);
  assert.throws(() => prototypeFromFile(file), (e: unknown) => e instanceof ComposerError && e.code === 'dimension');
  const inf = path.join(dir, 'inf.npy');
  writeNpy(inf, Float32Array.from([1, Infinity]), [2]);
  assert.throws(() => prototypeFromFile(inf), (e: unknown) => e instanceof ComposerError && e.code === 'non-finite' && e.location?.file === inf);
});

test('an encoder with two inputs is refused with a hint', async () => {
  const { buildModel } = await import('../../server/src/engine/onnx/model');
  const two = buildModel({
    inputs: [{ name: 'input_ids', type: 'float32', shape: ['b', 4] }, { name: 'mask', type: 'float32', shape: ['b', 4] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['b', 4] }],
    nodes: [{ op: 'Mul', inputs: ['input_ids', 'mask'], outputs: ['y'] }],
  });
  await assert.rejects(openEncoder(two, { provider: 'cpu' }), (e: unknown) => e instanceof ComposerError && e.code === 'encoder' && /2 inputs/.test(e.message));
});

test('file hashes cover every byte of a file past 1 MiB: a fixed pattern against its known digest', async () => {
  // 3 MiB + 12345 bytes, byte i = (31·i + ⌊i / 2048⌋) mod 256; its digest as `sha256sum` printed it
  const n = 3 * 1024 * 1024 + 12345;
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + (i >>> 11)) & 0xff;
  const known = 'c68b182708c501a0f15e838eba4f3e8b28f4c52539fd6511766a547a055b4728';
  assert.equal(createHash('sha256').update(bytes).digest('hex'), known, 'the pattern is the one sha256sum hashed');
  const file = path.join(dir, 'pattern.bin');
  fs.writeFileSync(file, bytes);
  assert.equal(sha256FileSync(file), known);
  assert.equal(await sha256File(file), known);
  // one byte changed near the end (past every 1 MiB chunk boundary) changes both
  bytes[n - 3] ^= 1;
  fs.writeFileSync(file, bytes);
  const changed = createHash('sha256').update(bytes).digest('hex');
  assert.notEqual(changed, known);
  assert.equal(sha256FileSync(file), changed);
  assert.equal(await sha256File(file), changed);
});

test('content hashes: files by content, prototypes by float32 bytes, cache keys ignore input order', async () => {
  const a = path.join(dir, 'ha.npy');
  const b = path.join(dir, 'hb.npy');
  writeNpy(a, Float32Array.from([1, 2]));
  writeNpy(b, Float32Array.from([1, 2]));
  assert.equal(await sha256File(a), sha256FileSync(b));
  assert.equal(sha256FileSync(a), createHash('sha256').update(fs.readFileSync(a)).digest('hex'));
  assert.equal(sha256Prototype(Float64Array.from([0.1, 0.2])), sha256Prototype(Float32Array.from([0.1, 0.2])));
  assert.notEqual(sha256Prototype([0.1, 0.2]), sha256Prototype([0.2, 0.1]));
  const k1 = prototypeCacheKey({ encoderSha256: 'e', source: 'samples', inputSha256s: ['x', 'y'] });
  assert.equal(k1, prototypeCacheKey({ encoderSha256: 'e', source: 'samples', inputSha256s: ['y', 'x'] }));
  assert.notEqual(k1, prototypeCacheKey({ encoderSha256: 'f', source: 'samples', inputSha256s: ['x', 'y'] }));
});

test('prototype cache: stores exactly, hits on the same key, treats a corrupt entry as absent', async () => {
  const { PrototypeCache } = await import('../../server/src/engine/prototype/prototypeCache');
  const cache = new PrototypeCache(path.join(dir, 'cache'));
  const key = prototypeCacheKey({ encoderSha256: 'e', source: 'samples', inputSha256s: ['x'] });
  const value = Float64Array.from([Math.PI, -1 / 3, 1e-300]);
  let computed = 0;
  const compute = async () => (computed++, value);
  const first = await cache.getOrCompute(key, compute);
  const second = await cache.getOrCompute(key, compute);
  assert.equal(first.cached, false);
  assert.equal(second.cached, true);
  assert.equal(computed, 1);
  assert.deepEqual(Array.from(second.prototype), Array.from(value));
  fs.writeFileSync(path.join(dir, 'cache', `${key}.npy`), 'garbage');
  assert.equal(cache.get(key), undefined);
  assert.throws(() => cache.get('../escape'), /not a content-hash key/);
});
