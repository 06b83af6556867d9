import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { ComposerError } from '../../server/src/engine/errors';
import { openEncoder, prototypeFromSamples } from '../../server/src/engine/prototype/encoder';
import { parseEncoderConfig, readEncoderConfig } from '../../server/src/engine/prototype/encoderConfig';
import { writeNpy } from '../../server/src/engine/prototype/npy';
import { imageEncoder, linear, seeded, weights } from './fixtures';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-image-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

const [H, W, D] = [6, 6, 5];
const MEAN = [0.48, 0.46, 0.41];
const STD = [0.27, 0.26, 0.28];
const WEIGHTS = weights(3 * H * W, D, 3);
fs.writeFileSync(path.join(dir, 'image-nchw.onnx'), imageEncoder('NCHW', H, W, D, WEIGHTS));

/** Interleaved RGB bytes of a w×h image, seeded. */
function pixels(w: number, h: number, seed: number): Uint8Array {
  const rnd = seeded(seed);
  return Uint8Array.from({ length: w * h * 3 }, () => Math.floor(rnd() * 256));
}

async function writeImage(file: string, rgb: Uint8Array, w: number, h: number): Promise<void> {
  const img = sharp(Buffer.from(rgb), { raw: { width: w, height: h, channels: 3 } });
  const ext = path.extname(file);
  const encoded = ext === '.png' ? img.png() : ext === '.webp' ? img.webp({ lossless: true }) : img.jpeg({ quality: 90 });
  await encoded.toFile(file);
}

/**
 * The encoder input computed independently: crop the window (left, top, H×W) of the raw RGB pixels,
 * scale by 1/255, normalise per colour, and lay out NCHW or NHWC in RGB or BGR channel order.
 */
function expectedInput(rgb: Uint8Array, w: number, left: number, top: number, layout: 'NCHW' | 'NHWC', order: 'RGB' | 'BGR'): Float64Array {
  const x = new Float64Array(3 * H * W);
  for (let y = 0; y < H; y++) {
    for (let xx = 0; xx < W; xx++) {
      for (let c = 0; c < 3; c++) {
        const colour = order === 'RGB' ? c : 2 - c;
        const v = (rgb[((top + y) * w + left + xx) * 3 + colour] / 255 - MEAN[colour]) / STD[colour];
        x[layout === 'NCHW' ? c * H * W + y * W + xx : (y * W + xx) * 3 + c] = v;
      }
    }
  }
  return x;
}

function writeConfig(name: string, config: object): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

const imageConfig = (extra: Record<string, unknown> = {}, image: Record<string, unknown> = {}) => ({
  kind: 'image',
  image: { size: [H, W], resize: 'shorter-side-center-crop', mean: MEAN, std: STD, ...image },
  ...extra,
});

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

test('PNG, lossless WebP and JPEG samples at the exact size: the prototype equals the JS mean of E(normalised pixels)', async () => {
  const model = path.join(dir, 'image-nchw.onnx');
  const config = writeConfig('nchw.json', imageConfig());
  const encoder = await openEncoder(model, { provider: 'cpu', config });
  assert.equal(encoder.inputKind, 'image');
  assert.equal(encoder.inDim, 3 * H * W);

  const files: string[] = [];
  const expected: number[][] = [];
  for (const [i, ext] of ['.png', '.webp', '.jpg'].entries()) {
    const rgb = pixels(W, H, 10 + i);
    const file = path.join(dir, `exact-${i}${ext}`);
    await writeImage(file, rgb, W, H);
    files.push(file);
    // JPEG is lossy: take its decoded pixels (the preprocessing stays independent); PNG/WebP lossless: the written ones.
    const decoded = ext === '.jpg' ? new Uint8Array(await sharp(file).removeAlpha().raw().toBuffer()) : rgb;
    if (ext !== '.jpg') assert.deepEqual(new Uint8Array(await sharp(file).raw().toBuffer()), rgb, `${ext} round-trips losslessly`);
    expected.push(linear(expectedInput(decoded, W, 0, 0, 'NCHW', 'RGB'), WEIGHTS, D));
  }
  const progress: number[] = [];
  const result = await prototypeFromSamples(encoder, files, { batchSize: 2, onProgress: (p) => progress.push(p.done) });
  assert.equal(result.count, 3);
  assert.deepEqual(progress, [2, 3]);
  const mean = expected[0].map((_, j) => (expected[0][j] + expected[1][j] + expected[2][j]) / 3);
  assertClose(result.prototype, mean, 1e-4, 'prototype');
  // One image alone gives E(x) of that image.
  assertClose((await prototypeFromSamples(encoder, [files[0]])).prototype, expected[0], 1e-4, 'E(png)');
  await encoder.dispose();
});

test('a larger image is center-cropped (no resampling at scale 1), NHWC and BGR follow the config', async () => {
  const [w, h] = [11, 8];
  const rgb = pixels(w, h, 21);
  const file = path.join(dir, 'wide.png');
  await writeImage(file, rgb, w, h);
  // shorter side 8 → scale 1; crop 6×6 at left floor((11−6)/2) = 2, top floor((8−6)/2) = 1.
  const model = path.join(dir, 'image-nhwc.onnx');
  fs.writeFileSync(model, imageEncoder('NHWC', H, W, D, WEIGHTS));
  const config = writeConfig('nhwc.json', imageConfig({ layout: 'NHWC' }, { shorter_side: 8, channel_order: 'BGR' }));
  const encoder = await openEncoder(model, { provider: 'cpu', config });
  const result = await prototypeFromSamples(encoder, [file]);
  assertClose(result.prototype, linear(expectedInput(rgb, w, 2, 1, 'NHWC', 'BGR'), WEIGHTS, D), 1e-4, 'cropped');
  // A different crop window would give a different prototype (the check can fail).
  const shifted = linear(expectedInput(rgb, w, 3, 1, 'NHWC', 'BGR'), WEIGHTS, D);
  assert.ok(shifted.some((v, j) => Math.abs(v - result.prototype[j]) > 1e-3));
  await encoder.dispose();
});

test('a resized image: a uniform colour stays that colour through stretch and shorter-side resizing', async () => {
  const [w, h] = [20, 13];
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) rgb.set([200, 40, 90], i * 3);
  const file = path.join(dir, 'uniform.png');
  await writeImage(file, rgb, w, h);
  const model = path.join(dir, 'image-nchw.onnx');
  const expected = linear(expectedInput(rgb, w, 0, 0, 'NCHW', 'RGB'), WEIGHTS, D);
  for (const resize of ['stretch', 'shorter-side-center-crop']) {
    for (const interpolation of ['bilinear', 'bicubic', 'nearest']) {
      const config = writeConfig(`uniform-${resize}-${interpolation}.json`, imageConfig({}, { resize, interpolation }));
      const encoder = await openEncoder(model, { provider: 'cpu', config });
      assertClose((await prototypeFromSamples(encoder, [file])).prototype, expected, 1e-3, `${resize}/${interpolation}`);
      await encoder.dispose();
    }
  }
});

test('mixing images and .npy rows needs "accept" in the config; with it, the rows are encoded as given', async () => {
  const model = path.join(dir, 'image-nchw.onnx');
  const rgb = pixels(W, H, 31);
  const png = path.join(dir, 'mix.png');
  await writeImage(png, rgb, W, H);
  const row = expectedInput(pixels(W, H, 32), W, 0, 0, 'NCHW', 'RGB');
  const npy = path.join(dir, 'mix.npy');
  writeNpy(npy, Float32Array.from(row), [1, row.length]);

  const strict = await openEncoder(model, { provider: 'cpu', config: writeConfig('strict.json', imageConfig()) });
  await assert.rejects(prototypeFromSamples(strict, [png, npy]), (e: unknown) => {
    assert.ok(e instanceof ComposerError);
    assert.equal(e.location?.file, npy);
    assert.match(e.message, /is a \.npy file, but the encoder reads image samples/);
    assert.match(e.hint ?? '', /"accept": \["image", "npy"\]/);
    return true;
  });
  await strict.dispose();

  const mixed = await openEncoder(model, { provider: 'cpu', config: writeConfig('mixed.json', imageConfig({ accept: ['image', 'npy'] })) });
  const result = await prototypeFromSamples(mixed, [png, npy]);
  const a = linear(expectedInput(rgb, W, 0, 0, 'NCHW', 'RGB'), WEIGHTS, D);
  const b = linear(Float32Array.from(row), WEIGHTS, D);
  assertClose(result.prototype, a.map((v, j) => (v + b[j]) / 2), 1e-4, 'mixed');
  await mixed.dispose();
});

test('encoder.json errors are located at the offending key; a config that does not fit the model names both', async () => {
  const text = '{\n  "kind": "image",\n  "image": {\n    "size": 6,\n    "mean": [0.5, 0.5]\n  }\n}\n';
  assert.throws(() => parseEncoderConfig(text, '/cfg/encoder.json'), (e: unknown) => {
    assert.ok(e instanceof ComposerError);
    assert.equal(e.code, 'encoder');
    assert.deepEqual([e.location?.file, e.location?.line], ['/cfg/encoder.json', 5]);
    assert.match(e.message, /image\.mean.*3 numbers/);
    return true;
  });
  assert.throws(() => parseEncoderConfig('{"kind": "video"}', '/cfg/encoder.json'), /"video" is not allowed; expected one of "image", "text", "features"/);
  assert.throws(() => parseEncoderConfig('{"kind": "image", "image": {"size": 6}, "pooling": "cls"}', '/c.json'), /`pooling`: unknown key/);
  assert.throws(() => parseEncoderConfig('{"kind": "text", "text": {"max_length": 8}}', path.join(dir, 'x.json')), /tokenizer file not found/);
  assert.throws(() => parseEncoderConfig('{"kind": "image", "image": {"size": 6, "std": [1, 0, 1]}}', '/c.json'), /image\.std\.1`: must be positive/);
  assert.throws(() => parseEncoderConfig('{"kind": ', '/c.json'), (e: unknown) => e instanceof ComposerError && /not valid JSON/.test(e.message) && e.location?.line === 1);

  const model = path.join(dir, 'image-nchw.onnx');
  const wrongSize = writeConfig('wrong-size.json', imageConfig({}, { size: 7 }));
  await assert.rejects(openEncoder(model, { provider: 'cpu', config: wrongSize }), (e: unknown) => {
    assert.ok(e instanceof ComposerError);
    assert.equal(e.location?.file, wrongSize);
    assert.match(e.message, /\[batch, 3, 6, 6\] but encoder.json \(NCHW\) gives \[batch, 3, 7, 7\].*image-nchw\.onnx/);
    return true;
  });
  const wrongLayout = writeConfig('wrong-layout.json', imageConfig({ layout: 'NHWC' }));
  await assert.rejects(openEncoder(model, { provider: 'cpu', config: wrongLayout }), (e: unknown) => e instanceof ComposerError && /NHWC/.test(e.message) && /check `layout`/.test(e.hint ?? ''));
  // The config hash changes with the preprocessing (it is part of the prototype cache key).
  assert.notEqual(readEncoderConfig(wrongSize).sha256, readEncoderConfig(writeConfig('ok.json', imageConfig())).sha256);
  assert.equal(readEncoderConfig(writeConfig('ok2.json', imageConfig())).sha256, readEncoderConfig(path.join(dir, 'ok.json')).sha256);
});

test('an undecodable image is a located error', async () => {
  const model = path.join(dir, 'image-nchw.onnx');
  const bad = path.join(dir, 'broken.png');
  fs.writeFileSync(bad, 'not a png');
  const encoder = await openEncoder(model, { provider: 'cpu', config: writeConfig('bad.json', imageConfig()) });
  await assert.rejects(prototypeFromSamples(encoder, [bad]), (e: unknown) => e instanceof ComposerError && e.location?.file === bad && /cannot decode the image/.test(e.message));
  await encoder.dispose();
});
