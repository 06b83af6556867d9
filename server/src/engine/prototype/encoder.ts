/**
 * The frozen encoder E and the prototype of a task: p = mean over samples of E(x).
 *
 * Samples stream from .npy files in batches (memory bounded by one batch, whatever the number or
 * size of files); several one-sample files share a batch so the session runs on full batches. The
 * mean accumulates in float64.
 */
import { loadOrt } from '../nativeModules';
import { ComposerError } from '../errors';
import { createSession, ProviderRequest } from '../onnx/session';
import { NpyHeader, readNpy, readNpyHeader, readNpyRows, rowLayout } from './npy';
import { encoderConfigBeside, readEncoderConfig, type EncoderConfig } from './encoderConfig';
import { encodeInChunks, openConfiguredEncoder } from './configuredEncoder';
import { checkCancelled, prototypeFromSampleFiles } from './sampleSources';
import type { Encoder, PrototypeResult, StreamOptions } from './encoderTypes';

export type { Encoder, PrototypeProgress, PrototypeResult, StreamOptions } from './encoderTypes';

export interface OpenEncoderOptions {
  provider?: ProviderRequest;
  intraOpThreads?: number;
  /**
   * The encoder config (encoder.json) or its path. Default: the encoder.json beside an encoder
   * file, when there is one; null: none (plain [batch, d_in] float rows).
   */
  config?: EncoderConfig | string | null;
}

export async function openEncoder(model: string | Uint8Array, options: OpenEncoderOptions = {}): Promise<Encoder> {
  const file = typeof model === 'string' ? model : undefined;
  const where = file ? { file } : undefined;
  const configFile = options.config === undefined && file ? encoderConfigBeside(file) : typeof options.config === 'string' ? options.config : undefined;
  const config = configFile ? readEncoderConfig(configFile) : options.config && typeof options.config === 'object' ? options.config : undefined;
  if (config) return openConfiguredEncoder(model, config, options);
  const opened = await createSession(model, { provider: options.provider, intraOpThreads: options.intraOpThreads, label: file ?? 'encoder' });
  const session = opened.session;
  const inputs = session.inputMetadata;
  if (inputs.length !== 1) {
    await session.release();
    throw new ComposerError('encoder', `the encoder has ${inputs.length} inputs (${session.inputNames.join(', ')}); a single float input [batch, d_in] is expected`, where,
      'export the encoder with one input of pre-computed features, or give `features:` instead of samples');
  }
  const input = inputs[0];
  const output = session.outputMetadata[0];
  if (!input.isTensor || (input.type !== 'float32' && input.type !== 'float64')) {
    await session.release();
    throw new ComposerError('encoder', `the encoder input '${input.name}' is ${input.isTensor ? input.type : 'not a tensor'}; float32 or float64 is expected`, where);
  }
  const shape = input.shape;
  const lastDim = shape[shape.length - 1];
  if (shape.length !== 2 || typeof lastDim !== 'number') {
    await session.release();
    throw new ComposerError('encoder', `the encoder input '${input.name}' has shape [${shape.join(', ')}]; [batch, d_in] with a fixed d_in is expected`, where);
  }
  const inDim: number = lastDim;
  // A fixed batch dimension (e.g. 1) means rows are fed that many at a time.
  const fixedBatch = typeof shape[0] === 'number' ? shape[0] : undefined;
  const inputType = input.type;
  let knownOutDim: number | undefined;
  if (output?.isTensor && output.shape.length === 2 && typeof output.shape[1] === 'number') knownOutDim = output.shape[1];

  async function runChunk(rows: Float32Array, n: number): Promise<Float32Array> {
    const data = inputType === 'float64' ? Float64Array.from(rows.subarray(0, n * inDim)) : rows.subarray(0, n * inDim);
    const result = await session.run({ [input.name]: new (loadOrt().Tensor)(inputType, data, [n, inDim]) });
    const y = result[output.name];
    const dims = y.dims;
    if (dims.length !== 2 || dims[0] !== n) {
      throw new ComposerError('encoder', `the encoder output '${output.name}' has shape [${dims.join(', ')}] for ${n} rows; [${n}, D] is expected`, where);
    }
    if (knownOutDim !== undefined && dims[1] !== knownOutDim) {
      throw new ComposerError('encoder', `the encoder output width changed from ${knownOutDim} to ${dims[1]}`, where);
    }
    knownOutDim = dims[1];
    const out = Float32Array.from(y.data as Float32Array | Float64Array);
    y.dispose();
    return out;
  }

  const encoder: Encoder = {
    file,
    inputName: input.name,
    outputName: output.name,
    inDim,
    provider: opened.provider,
    fallback: opened.fallback,
    async encodeBatch(rows, n) {
      return encodeInChunks(rows, n, inDim, fixedBatch, runChunk);
    },
    async outputDim() {
      if (knownOutDim === undefined) await encoder.encodeBatch(new Float32Array(inDim), 1);
      return knownOutDim!;
    },
    async dispose() {
      await session.release();
    },
  };
  return encoder;
}

// ---------------------------------------------------------------------------------------------

/** First non-finite value of `rows` (n rows of `dim`), as [row, column], or undefined. */
function firstNonFinite(data: ArrayLike<number>, n: number, dim: number): [number, number] | undefined {
  for (let i = 0; i < n * dim; i++) if (!Number.isFinite(data[i])) return [Math.floor(i / dim), i % dim];
  return undefined;
}

function nonFiniteError(file: string, row: number, column: number, value: number, what: string, rowsInFile: number): ComposerError {
  const rowText = rowsInFile > 1 ? ` row ${row},` : '';
  return new ComposerError('non-finite', `${what}${rowText} column ${column} is ${value} in ${file}`, { file }, 'remove or repair samples with NaN/Inf values');
}

/**
 * p = mean over all samples of E(x): .npy files (one sample [d_in] or a batch [N, d_in]) and, with an
 * encoder.json, images and texts. Every file's kind and header are checked before any encoding, so a
 * wrong file fails fast.
 */
export async function prototypeFromSamples(encoder: Encoder, files: string[], options: StreamOptions = {}): Promise<PrototypeResult> {
  // One streaming mean for every kind of sample (.npy rows, images, texts): sampleSources.ts.
  return prototypeFromSampleFiles(encoder, files, options);
}

/** The mean of pre-computed embeddings: an [N, D] (or [D]) file, streamed. */
export async function prototypeFromFeatures(file: string, options: StreamOptions & { dim?: number } = {}): Promise<PrototypeResult> {
  const header = readNpyHeader(file);
  const { rows, dim } = rowLayout(header);
  checkDim(header, dim, options.dim);
  if (rows === 0) throw new ComposerError('recipe', `${file} holds no rows`, { file });
  const sum = new Float64Array(dim);
  let count = 0;
  for (const batch of readNpyRows(file, options.batchSize ?? 4096)) {
    checkCancelled(options.signal);
    const bad = firstNonFinite(batch.data, batch.rows, dim);
    if (bad) throw nonFiniteError(file, batch.start + bad[0], bad[1], batch.data[bad[0] * dim + bad[1]], 'feature', rows);
    for (let i = 0; i < batch.rows; i++) for (let j = 0; j < dim; j++) sum[j] += batch.data[i * dim + j];
    count += batch.rows;
    options.onProgress?.({ done: count, total: rows, file });
  }
  for (let j = 0; j < dim; j++) sum[j] /= count;
  return { prototype: sum, count, dim };
}

/** A prototype given directly: a [D] (or [1, D]) file. */
export function prototypeFromFile(file: string, options: { dim?: number } = {}): PrototypeResult {
  const header = readNpyHeader(file);
  const squeezed = header.shape.length === 2 && header.shape[0] === 1 ? [header.shape[1]] : header.shape;
  if (squeezed.length !== 1) {
    throw new ComposerError('dimension', `a prototype file must hold one vector [D], got shape (${header.shape.join(', ')})`, { file }, 'for [N, D] embeddings use `features:` (their mean is taken)');
  }
  checkDim(header, squeezed[0], options.dim);
  const { data } = readNpy(file);
  const bad = firstNonFinite(data, 1, data.length);
  if (bad) throw nonFiniteError(file, 0, bad[1], data[bad[1]], 'prototype', 1);
  return { prototype: Float64Array.from(data), count: 1, dim: data.length };
}

function checkDim(header: NpyHeader, dim: number, expected: number | undefined): void {
  if (expected !== undefined && dim !== expected) {
    throw new ComposerError('dimension', `${header.file} has dimension ${dim} but the library's prototypes have ${expected}`, { file: header.file },
      'features and prototypes must come from the encoder that built the library');
  }
}
