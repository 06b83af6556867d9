/**
 * The prototype of a set of sample files of any kind the encoder reads: images (decoded and
 * preprocessed per encoder.json), texts (.txt / .jsonl lines, tokenized) and .npy rows (raw encoder
 * inputs, e.g. preprocessed pixels reshaped to [N, 3·H·W]).
 *
 * Streaming: samples are read one batch at a time (images of a batch are decoded in parallel), so
 * memory is bounded by one batch however many files there are. The mean accumulates in float64.
 * Every file's kind is checked before anything is encoded, so a wrong glob fails fast.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError, ioError } from '../errors';
import type { Encoder, PrototypeResult, StreamOptions } from './encoderTypes';
import type { SampleKind } from './encoderConfig';
import { imageToTensor, isImageFile } from './imageInput';
import { readNpyHeader, readNpyRows, rowLayout } from './npy';
import { isTextFile, readTextSamples } from './textInput';
import { openRegular } from '../safeRead';

export function sampleKindOf(file: string): SampleKind | undefined {
  if (path.extname(file).toLowerCase() === '.npy') return 'npy';
  if (isImageFile(file)) return 'image';
  if (isTextFile(file)) return 'text';
  return undefined;
}

/** The sample kinds an encoder reads: its config's `accept`, or .npy rows without a config. */
export function acceptedKinds(encoder: Encoder): SampleKind[] {
  return encoder.config?.accept ?? ['npy'];
}

/** Checks every file's kind against the encoder; returns the kind of each file. */
export function classifySamples(encoder: Encoder, files: string[]): SampleKind[] {
  const accepted = acceptedKinds(encoder);
  const what = encoder.inputKind ?? 'features';
  const kinds = files.map((file) => {
    const kind = sampleKindOf(file);
    if (!kind) {
      throw new ComposerError('io', `${file} is not a sample file this tool reads (.npy, images: .png .jpg .jpeg .webp …, texts: .txt .jsonl)`, { file },
        'narrow the samples glob to the sample files');
    }
    if (!accepted.includes(kind)) {
      const hint = encoder.config
        ? kind === 'npy' && what === 'image'
          ? 'to mix preprocessed .npy rows with images, set "accept": ["image", "npy"] in encoder.json'
          : `this encoder reads ${accepted.join(' and ')} samples`
        : kind === 'npy'
          ? undefined
          : `the library's encoder has no encoder.json, so it reads [N, d_in] .npy rows; create the library with \`--encoder-config encoder.json\` for ${kind} samples`;
      throw new ComposerError('recipe', `${file} is ${kind === 'image' ? 'an image' : kind === 'text' ? 'a text file' : 'a .npy file'}, but the encoder reads ${accepted.join(' and ')} samples`, { file }, hint);
    }
    return kind;
  });
  return kinds;
}

/** Number of samples in each file: rows of .npy, non-blank lines of texts, 1 per image. */
async function countSamples(file: string, kind: SampleKind, inDim: number): Promise<number> {
  if (kind === 'image') return 1;
  if (kind === 'npy') {
    const header = readNpyHeader(file);
    const layout = rowLayout(header);
    if (layout.dim !== inDim) {
      throw new ComposerError('dimension', `samples in ${file} have ${layout.dim} features per row (shape (${header.shape.join(', ')})) but the encoder expects ${inDim}`, { file },
        inDim > 0 ? 'samples must be raw encoder inputs, one per row ([N, d_in]; images as [N, 3·H·W] in the config\'s layout); pre-computed embeddings go under `features:`' : 'this encoder reads text');
    }
    return layout.rows;
  }
  // Texts: count non-blank lines in one streaming pass (cheap next to encoding them).
  return new Promise((resolve, reject) => {
    let count = 0;
    let blank = true;
    let fd: number;
    try {
      fd = openRegular(file, 'text sample file').fd;
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20, fd });
    stream.on('data', (chunk: string | Buffer) => {
      const s = String(chunk);
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c === 10) {
          if (!blank) count++;
          blank = true;
        } else if (c !== 13 && c !== 32 && c !== 9 && c !== 0xfeff) blank = false;
      }
    });
    stream.on('error', (e: NodeJS.ErrnoException) => reject(ioError('cannot read', file, e)));
    stream.on('end', () => resolve(count + (blank ? 0 : 1)));
  });
}

interface Origin {
  file: string;
  /** Row of a .npy file, line of a text file. */
  at?: string;
}

/**
 * p = mean over all samples of E(x), for files of the kinds the encoder accepts (see
 * classifySamples). Default batch: 64 rows or texts, 16 images.
 */
export async function prototypeFromSampleFiles(encoder: Encoder, files: string[], options: StreamOptions = {}): Promise<PrototypeResult> {
  if (files.length === 0) throw new ComposerError('recipe', 'no sample files to compute the prototype from');
  const kinds = classifySamples(encoder, files);
  const textual = encoder.inputKind === 'text';
  const batchSize = options.batchSize ?? (kinds.includes('image') ? 16 : 64);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ComposerError('usage', `batch size must be a positive integer, got ${batchSize}`);
  const inDim = encoder.inDim;
  const counts: number[] = [];
  for (let i = 0; i < files.length; i++) counts.push(await countSamples(files[i], kinds[i], inDim));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) throw new ComposerError('recipe', 'the sample files hold no samples', { file: files[0] });

  let sum: Float64Array | undefined;
  let count = 0;
  const pending = textual ? new Float32Array(0) : new Float32Array(batchSize * inDim);
  const texts: string[] = [];
  const images: { file: string; slot: number }[] = [];
  const origins: Origin[] = [];
  const image = encoder.config?.image;
  const layout = encoder.config?.layout === 'NHWC' ? 'NHWC' : 'NCHW';

  const flush = async () => {
    const n = origins.length;
    if (n === 0) return;
    checkCancelled(options.signal);
    if (images.length > 0) {
      await Promise.all(images.map(({ file, slot }) => imageToTensor(file, image!, layout, pending, slot * inDim)));
      images.length = 0;
    }
    const y = textual ? await encoder.encodeTexts!(texts) : await encoder.encodeBatch(pending, n);
    texts.length = 0;
    const dim = y.length / n;
    sum ??= new Float64Array(dim);
    for (let i = 0; i < n * dim; i++) {
      if (!Number.isFinite(y[i])) {
        const o = origins[Math.floor(i / dim)];
        throw new ComposerError('non-finite', `the encoder produced ${y[i]} for ${o.at ? `${o.at} of ` : ''}${o.file}`, { file: o.file },
          'the input is finite, so the encoder overflowed; check the input scale and preprocessing the encoder expects');
      }
      sum[i % dim] += y[i];
    }
    count += n;
    const file = origins[n - 1].file;
    origins.length = 0;
    options.onProgress?.({ done: count, total, file });
  };
  const add = async (origin: Origin) => {
    origins.push(origin);
    if (origins.length === batchSize) await flush();
  };

  for (let f = 0; f < files.length; f++) {
    const file = files[f];
    const kind = kinds[f];
    checkCancelled(options.signal);
    if (kind === 'image') {
      if (!image) throw new ComposerError('encoder', 'the encoder config has no `image` section', { file });
      images.push({ file, slot: origins.length });
      await add({ file });
    } else if (kind === 'text') {
      for await (const sample of readTextSamples(file, encoder.config!.text!.textField)) {
        texts.push(sample.text);
        await add({ file, at: `line ${sample.line}` });
      }
    } else {
      for (const batch of readNpyRows(file, batchSize)) {
        checkCancelled(options.signal);
        for (let r = 0; r < batch.rows; r++) {
          const row = batch.data.subarray(r * inDim, (r + 1) * inDim);
          for (let j = 0; j < inDim; j++) {
            if (!Number.isFinite(row[j])) {
              throw new ComposerError('non-finite', `sample${counts[f] > 1 ? ` row ${batch.start + r},` : ''} column ${j} is ${row[j]} in ${file}`, { file }, 'remove or repair samples with NaN/Inf values');
            }
          }
          pending.set(row, origins.length * inDim);
          await add({ file, at: counts[f] > 1 ? `row ${batch.start + r}` : undefined });
        }
      }
    }
  }
  await flush();
  const prototype = sum!;
  for (let j = 0; j < prototype.length; j++) prototype[j] /= count;
  return { prototype, count, dim: prototype.length };
}

/** The prototype of a single description (`target.text`): E(text) itself. */
export async function prototypeFromText(encoder: Encoder, text: string): Promise<PrototypeResult> {
  if (encoder.inputKind !== 'text' || !encoder.encodeTexts) {
    throw new ComposerError('encoder', 'the encoder has no text input', encoder.config?.file ? { file: encoder.config.file } : undefined,
      'give `samples:`, `features:` or `prototype:` instead, or use a library whose encoder.json has "kind": "text"');
  }
  if (text.trim() === '') throw new ComposerError('recipe', '`target.text` is empty');
  const y = await encoder.encodeTexts([text]);
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i])) throw new ComposerError('non-finite', `the encoder produced ${y[i]} for the target text`);
  }
  return { prototype: Float64Array.from(y), count: 1, dim: y.length };
}

export function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ComposerError('cancelled', 'prototype computation cancelled');
}
