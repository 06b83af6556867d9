/**
 * An encoder opened with its encoder.json: the config is checked against the model's inputs and
 * outputs (names, types, fixed dimensions) when the session opens, so a mismatch fails before any
 * sample is read, naming both the config and the model.
 *
 * image / features: one float input ([batch, 3, H, W], [batch, H, W, 3] or [batch, d_in]);
 * `encodeBatch` takes preprocessed rows (see imageInput.ts for image files).
 * text: input_ids (+ attention_mask, token_type_ids), int64 or int32; `encodeTexts` tokenizes.
 * The output is used as-is ([batch, D]) or pooled over tokens ([batch, T, D]): the first token
 * (cls) or the mean (over the attention mask for text).
 */
import * as ort from 'onnxruntime-node';
import { ComposerError, type SourceLocation } from '../errors';
import { createSession, type ProviderRequest } from '../onnx/session';
import type { Encoder } from './encoderTypes';
import type { EncoderConfig, Pooling } from './encoderConfig';
import { openTokenizer } from './textInput';

type TensorMeta = ort.InferenceSession.ValueMetadata & { isTensor: true; type: string; shape: readonly (number | string)[] };

export async function openConfiguredEncoder(
  model: string | Uint8Array,
  config: EncoderConfig,
  options: { provider?: ProviderRequest; intraOpThreads?: number },
): Promise<Encoder> {
  const file = typeof model === 'string' ? model : undefined;
  const opened = await createSession(model, { provider: options.provider, intraOpThreads: options.intraOpThreads, label: file ?? 'encoder' });
  const session = opened.session;
  try {
    const where: SourceLocation | undefined = config.file ? { file: config.file } : file ? { file } : undefined;
    const modelName = file ?? 'the encoder';
    const mismatch = (message: string, hint?: string): never => {
      throw new ComposerError('encoder', `${message} (encoder ${modelName})`, where, hint);
    };
    const inputs = new Map(session.inputMetadata.map((m) => [m.name, m]));
    const tensorInput = (name: string): TensorMeta => {
      const meta = inputs.get(name);
      if (!meta) mismatch(`the model has no input '${name}'; its inputs are ${[...inputs.keys()].join(', ')}`);
      if (!meta!.isTensor) mismatch(`the model input '${name}' is not a tensor`);
      return meta as TensorMeta;
    };
    const outputs = session.outputMetadata;
    const outputMeta = config.output.name ? outputs.find((o) => o.name === config.output.name) : outputs[0];
    if (!outputMeta) mismatch(`the model has no output '${config.output.name}'; its outputs are ${outputs.map((o) => o.name).join(', ')}`);
    const outputName = outputMeta!.name;
    const pooling = config.output.pooling;
    const pool = (y: ort.Tensor, n: number, mask?: BigInt64Array) => poolOutput(y, n, pooling, mask, outputName, mismatch);

    if (config.kind === 'text') {
      const text = config.text!;
      const fed = [text.inputIds, text.attentionMask, text.tokenTypeIds].filter((x): x is string => x !== undefined);
      const extra = [...inputs.keys()].filter((k) => !fed.includes(k));
      if (extra.length > 0) mismatch(`the model also takes ${extra.map((e) => `'${e}'`).join(', ')}, which encoder.json does not feed`, 'name them under `text.inputs` (input_ids, attention_mask, token_type_ids)');
      const metas = fed.map(tensorInput);
      for (const m of metas) {
        if (m.type !== 'int64' && m.type !== 'int32') mismatch(`the model input '${m.name}' is ${m.type}; token inputs must be int64 or int32`);
        if (m.shape.length !== 2) mismatch(`the model input '${m.name}' has shape [${m.shape.join(', ')}]; [batch, sequence] is expected`);
      }
      const fixedLength = metas.map((m) => m.shape[1]).find((d): d is number => typeof d === 'number');
      if (fixedLength !== undefined && text.maxLength > fixedLength) {
        mismatch(`text.max_length ${text.maxLength} exceeds the model's fixed sequence length ${fixedLength}`);
      }
      const tokenizer = openTokenizer(text);
      const types = new Map(metas.map((m) => [m.name, m.type]));
      const asType = (name: string, data: BigInt64Array, dims: number[]) =>
        types.get(name) === 'int32' ? new ort.Tensor('int32', Int32Array.from(data, Number), dims) : new ort.Tensor('int64', data, dims);

      const encoder: Encoder = {
        file,
        inputName: text.inputIds,
        outputName,
        inDim: 0,
        provider: opened.provider,
        fallback: opened.fallback,
        inputKind: 'text',
        config,
        async encodeBatch() {
          throw new ComposerError('encoder', 'this encoder reads text; give text samples (.txt, .jsonl) or `target.text`', where);
        },
        async encodeTexts(texts) {
          if (texts.length === 0) return new Float32Array(0);
          let batch = tokenizer.encodeBatch(texts);
          if (fixedLength !== undefined && batch.length !== fixedLength) batch = padTo(batch, fixedLength, tokenizer.padId);
          const dims = [batch.n, batch.length];
          const feeds: Record<string, ort.Tensor> = { [text.inputIds]: asType(text.inputIds, batch.inputIds, dims) };
          if (text.attentionMask) feeds[text.attentionMask] = asType(text.attentionMask, batch.attentionMask, dims);
          if (text.tokenTypeIds) feeds[text.tokenTypeIds] = asType(text.tokenTypeIds, batch.tokenTypeIds, dims);
          const result = await session.run(feeds, [outputName]);
          const y = result[outputName];
          try {
            return pool(y, batch.n, batch.attentionMask);
          } finally {
            y.dispose();
          }
        },
        async outputDim() {
          return (await encoder.encodeTexts!(['a'])).length;
        },
        async dispose() {
          await session.release();
        },
      };
      return encoder;
    }

    // image / features: one float input.
    const inputName = config.input ?? (inputs.size === 1 ? [...inputs.keys()][0] : mismatch(`the model has ${inputs.size} inputs (${[...inputs.keys()].join(', ')}); name the one to feed with \`input\``));
    const input = tensorInput(inputName);
    const extra = [...inputs.keys()].filter((k) => k !== inputName);
    if (extra.length > 0) mismatch(`the model also takes ${extra.map((e) => `'${e}'`).join(', ')}, which encoder.json does not feed`);
    if (input.type !== 'float32' && input.type !== 'float64') mismatch(`the model input '${inputName}' is ${input.type}; float32 or float64 is expected`);
    const dtype = config.dtype ?? (input.type as 'float32' | 'float64');
    if (dtype !== input.type) mismatch(`encoder.json says dtype ${dtype} but the model input '${inputName}' is ${input.type}`);
    let sampleDims: number[];
    if (config.kind === 'image') {
      const img = config.image!;
      sampleDims = config.layout === 'NCHW' ? [3, img.height, img.width] : [img.height, img.width, 3];
    } else {
      const last = input.shape[input.shape.length - 1];
      if (input.shape.length !== 2 || typeof last !== 'number') mismatch(`the model input '${inputName}' has shape [${input.shape.join(', ')}]; [batch, d_in] with a fixed d_in is expected`);
      sampleDims = [last as number];
    }
    if (input.shape.length !== sampleDims.length + 1) {
      mismatch(`the model input '${inputName}' has shape [${input.shape.join(', ')}] but encoder.json (${config.layout}) gives [batch, ${sampleDims.join(', ')}]`,
        config.kind === 'image' ? 'check `layout` (NCHW or NHWC) and `image.size`' : undefined);
    }
    sampleDims.forEach((d, i) => {
      const declared = input.shape[i + 1];
      if (typeof declared === 'number' && declared !== d) {
        mismatch(`the model input '${inputName}' has shape [${input.shape.join(', ')}] but encoder.json (${config.layout}) gives [batch, ${sampleDims.join(', ')}]`,
          config.kind === 'image' ? 'check `layout` (NCHW or NHWC) and `image.size`' : undefined);
      }
    });
    const inDim = sampleDims.reduce((a, b) => a * b, 1);
    const fixedBatch = typeof input.shape[0] === 'number' ? input.shape[0] : undefined;

    const runChunk = async (rows: Float32Array, n: number): Promise<Float32Array> => {
      const values = rows.subarray(0, n * inDim);
      const data = dtype === 'float64' ? Float64Array.from(values) : values;
      const result = await session.run({ [inputName]: new ort.Tensor(dtype, data, [n, ...sampleDims]) }, [outputName]);
      const y = result[outputName];
      try {
        return pool(y, n);
      } finally {
        y.dispose();
      }
    };
    const encoder: Encoder = {
      file,
      inputName,
      outputName,
      inDim,
      provider: opened.provider,
      fallback: opened.fallback,
      inputKind: config.kind,
      config,
      async encodeBatch(rows, n) {
        return encodeInChunks(rows, n, inDim, fixedBatch, runChunk);
      },
      async outputDim() {
        return (await encoder.encodeBatch(new Float32Array(inDim), 1)).length;
      },
      async dispose() {
        await session.release();
      },
    };
    return encoder;
  } catch (e) {
    await session.release();
    throw e;
  }
}

/**
 * n rows of D from the raw output: [n, D] as-is; [n, T, D] by its first token (cls) or the mean over
 * tokens (weighted by the attention mask when there is one).
 */
export function poolOutput(
  y: ort.Tensor,
  n: number,
  pooling: Pooling,
  mask: BigInt64Array | undefined,
  outputName: string,
  mismatch: (message: string, hint?: string) => never,
): Float32Array {
  const dims = y.dims;
  const data = y.data as Float32Array | Float64Array;
  if (y.type !== 'float32' && y.type !== 'float64') mismatch(`the output '${outputName}' is ${y.type}; float32 or float64 is expected`);
  if (dims[0] !== n) mismatch(`the output '${outputName}' has shape [${dims.join(', ')}] for ${n} samples`);
  if (pooling === 'none') {
    if (dims.length !== 2) {
      mismatch(`the output '${outputName}' has shape [${dims.join(', ')}]; without pooling [batch, D] is expected`,
        dims.length === 3 ? 'set `output.pooling` to "cls" (first token) or "mean" (over tokens)' : undefined);
    }
    return Float32Array.from(data);
  }
  if (dims.length !== 3) mismatch(`the output '${outputName}' has shape [${dims.join(', ')}]; ${pooling} pooling needs [batch, tokens, D]`, 'set `output.pooling` to "none" for a [batch, D] output');
  const [, tokens, d] = dims;
  const out = new Float32Array(n * d);
  if (mask && mask.length !== n * tokens) mismatch(`the output '${outputName}' has ${tokens} tokens per sample but the input had ${mask.length / n}`);
  for (let i = 0; i < n; i++) {
    if (pooling === 'cls') {
      for (let j = 0; j < d; j++) out[i * d + j] = data[i * tokens * d + j];
      continue;
    }
    const sum = new Float64Array(d);
    let weight = 0;
    for (let t = 0; t < tokens; t++) {
      const w = mask ? Number(mask[i * tokens + t]) : 1;
      if (w === 0) continue;
      weight += w;
      const base = (i * tokens + t) * d;
      for (let j = 0; j < d; j++) sum[j] += w * data[base + j];
    }
    // An all-padding row cannot happen (every text has a token), but never divide by zero.
    const scale = weight > 0 ? 1 / weight : 0;
    for (let j = 0; j < d; j++) out[i * d + j] = sum[j] * scale;
  }
  return out;
}

function padTo(batch: { inputIds: BigInt64Array; attentionMask: BigInt64Array; tokenTypeIds: BigInt64Array; n: number; length: number }, length: number, padId: number) {
  const resized = (a: BigInt64Array, fill: bigint) => {
    const out = new BigInt64Array(batch.n * length).fill(fill);
    for (let i = 0; i < batch.n; i++) out.set(a.subarray(i * batch.length, i * batch.length + Math.min(batch.length, length)), i * length);
    return out;
  };
  return {
    inputIds: resized(batch.inputIds, BigInt(padId)),
    attentionMask: resized(batch.attentionMask, 0n),
    tokenTypeIds: resized(batch.tokenTypeIds, 0n),
    n: batch.n,
    length,
  };
}

/**
 * E(x) for n rows of inDim values through `runChunk`: all at once, or `fixedBatch` rows at a time when
 * the model's batch dimension is fixed (the last chunk zero-padded, only its real rows kept).
 */
export async function encodeInChunks(rows: Float32Array, n: number, inDim: number, fixedBatch: number | undefined, runChunk: (rows: Float32Array, n: number) => Promise<Float32Array>): Promise<Float32Array> {
  if (rows.length < n * inDim) throw new ComposerError('dimension', `encodeBatch got ${rows.length} values for ${n} rows of ${inDim}`);
  if (n === 0) return new Float32Array(0);
  if (fixedBatch === undefined) return runChunk(rows, n);
  const parts: Float32Array[] = [];
  for (let start = 0; start < n; start += fixedBatch) {
    if (n - start < fixedBatch) {
      const padded = new Float32Array(fixedBatch * inDim);
      padded.set(rows.subarray(start * inDim, n * inDim));
      const y = await runChunk(padded, fixedBatch);
      parts.push(y.subarray(0, (n - start) * (y.length / fixedBatch)));
    } else {
      parts.push(await runChunk(rows.subarray(start * inDim, (start + fixedBatch) * inDim), fixedBatch));
    }
  }
  return concatFloat32(parts);
}

/** The parts one after another (an encoder's outputs, batch by batch). */
function concatFloat32(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
