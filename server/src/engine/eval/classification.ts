/**
 * The built-in classification evaluator: a model stored like a Hugging Face checkpoint
 * (model.safetensors with PyTorch `<layer>.weight` [out, in] / `<layer>.bias`, and config.json
 * `{"layers": [{"name": "fc1", "activation": "relu"}, …]}` in order, the last giving the logits),
 * a composite (or any LoRA adapter) merged into its weights (W + s·B·A per module), run in ONNX
 * Runtime on a labelled .npy test set: accuracy and mean negative log-likelihood. It runs no
 * program, so a recipe may use it without --allow-exec. The same graph cut at the penultimate layer
 * is the real-data demo's encoder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ComposerError } from '../errors';
import { deltaOf } from '../lora/adapter';
import { openAdapter } from '../lora/formats';
import { SafetensorsFile, writeFloatTensors } from '../lora/safetensors';
import { buildModel, float32Tensor, type NodeSpec } from '../onnx/model';
import { createSession, type ProviderRequest } from '../onnx/session';
import { readNpy } from '../prototype/npy';

export const CLASSIFIER_ACTIVATIONS = ['relu', 'tanh', 'gelu', 'none'] as const;
export type ClassifierActivation = (typeof CLASSIFIER_ACTIVATIONS)[number];

export interface ClassifierLayer {
  name: string;
  activation: ClassifierActivation;
  inFeatures: number;
  outFeatures: number;
  /** [out, in] row-major */
  weight: Float32Array;
  bias: Float32Array;
}

/** Reads model.safetensors + config.json of a model folder. */
export function readClassifier(modelDir: string): ClassifierLayer[] {
  const configFile = path.join(modelDir, 'config.json');
  const weightsFile = path.join(modelDir, 'model.safetensors');
  if (!fs.existsSync(configFile) || !fs.existsSync(weightsFile)) {
    const onnxOnly = fs.existsSync(path.join(modelDir, 'model.onnx'));
    throw new ComposerError('io', `${modelDir} has no ${!fs.existsSync(configFile) ? 'config.json' : 'model.safetensors'}`, { file: modelDir },
      onnxOnly ? 'a composite is merged into the weights of model.safetensors: give the folder with model.safetensors + config.json (model.onnx alone cannot take a merge)' : 'the folder needs model.safetensors and config.json {"layers": [{"name": "fc1", "activation": "relu"}, …]}');
  }
  let config: unknown;
  try {
    config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  } catch (e) {
    throw new ComposerError('io', `${configFile} is not JSON: ${(e as Error).message}`, { file: configFile });
  }
  const layers = (config as { layers?: unknown }).layers;
  if (!Array.isArray(layers) || layers.length === 0) throw new ComposerError('io', `${configFile}: "layers" must be a non-empty list of {name, activation}`, { file: configFile });
  const file = SafetensorsFile.open(weightsFile);
  let previousOut: number | undefined;
  return layers.map((entry, i) => {
    const { name, activation } = (entry ?? {}) as { name?: unknown; activation?: unknown };
    if (typeof name !== 'string' || !name) throw new ComposerError('io', `${configFile}: layers[${i}].name must be a string`, { file: configFile });
    const act = activation ?? 'none';
    if (!(CLASSIFIER_ACTIVATIONS as readonly unknown[]).includes(act)) throw new ComposerError('io', `${configFile}: layers[${i}].activation ${JSON.stringify(act)} is not one of ${CLASSIFIER_ACTIVATIONS.join(', ')}`, { file: configFile });
    const w = file.info(`${name}.weight`);
    if (w.shape.length !== 2) throw new ComposerError('io', `${weightsFile}: ${name}.weight has shape [${w.shape.join(', ')}], a Linear weight [out, in] is expected`, { file: weightsFile });
    const [outFeatures, inFeatures] = w.shape;
    if (previousOut !== undefined && inFeatures !== previousOut) throw new ComposerError('io', `${weightsFile}: ${name} takes ${inFeatures} features but the layer before gives ${previousOut}`, { file: weightsFile });
    previousOut = outFeatures;
    const bias = file.tensors.has(`${name}.bias`) ? Float32Array.from(file.readFloat64(`${name}.bias`)) : new Float32Array(outFeatures);
    if (bias.length !== outFeatures) throw new ComposerError('io', `${weightsFile}: ${name}.bias has ${bias.length} values, expected ${outFeatures}`, { file: weightsFile });
    return { name, activation: act as ClassifierActivation, inFeatures, outFeatures, weight: Float32Array.from(file.readFloat64(`${name}.weight`)), bias };
  });
}

/** Writes a model folder (model.safetensors in PyTorch conventions + config.json). */
export function writeClassifier(modelDir: string, layers: readonly ClassifierLayer[]): void {
  fs.mkdirSync(modelDir, { recursive: true });
  writeFloatTensors(path.join(modelDir, 'model.safetensors'), layers.flatMap((l) => [
    { name: `${l.name}.weight`, dtype: 'F32' as const, shape: [l.outFeatures, l.inFeatures], data: l.weight },
    { name: `${l.name}.bias`, dtype: 'F32' as const, shape: [l.outFeatures], data: l.bias },
  ]), { format: 'pt' });
  fs.writeFileSync(path.join(modelDir, 'config.json'), JSON.stringify({ architecture: 'mlp', layers: layers.map((l) => ({ name: l.name, activation: l.activation })) }, null, 2) + '\n');
}

/** The layers with an adapter's ΔW = s·B·A added to each module it names (every module must be a layer). */
export function mergeIntoClassifier(layers: readonly ClassifierLayer[], adapterDir: string): ClassifierLayer[] {
  const adapter = openAdapter(adapterDir);
  const byName = new Map(layers.map((l) => [l.name, l]));
  const merged = new Map<string, Float32Array>();
  for (const [name, m] of adapter.modules) {
    const layer = byName.get(name);
    if (!layer) throw new ComposerError('adapter-format', `the adapter's module "${name}" is not a layer of the model (${layers.map((l) => l.name).join(', ')})`, { file: adapter.path });
    if (m.inFeatures !== layer.inFeatures || m.outFeatures !== layer.outFeatures) {
      throw new ComposerError('adapter-format', `module "${name}": the adapter is [${m.outFeatures}, ${m.inFeatures}], the layer [${layer.outFeatures}, ${layer.inFeatures}]`, { file: adapter.path });
    }
    const delta = deltaOf(adapter, name);
    const w = Float32Array.from(layer.weight);
    for (let i = 0; i < w.length; i++) w[i] = layer.weight[i] + delta[i];
    merged.set(name, w);
  }
  return layers.map((l) => (merged.has(l.name) ? { ...l, weight: merged.get(l.name)! } : l));
}

/**
 * ONNX bytes of the MLP: input 'x' [batch, in] → 'logits' [batch, classes]; with `upTo`, the graph is
 * cut after that many layers and the output is 'features' (the demo encoder: all but the last layer).
 */
export function classifierOnnx(layers: readonly ClassifierLayer[], options: { upTo?: number; docString?: string } = {}): Uint8Array {
  const count = options.upTo ?? layers.length;
  const used = layers.slice(0, count);
  const nodes: NodeSpec[] = [];
  let current = 'x';
  used.forEach((l, i) => {
    const last = i === used.length - 1;
    const out = last ? (count === layers.length ? 'logits' : 'features') : `h${i}`;
    const pre = l.activation === 'none' ? out : `${l.name}_z`;
    nodes.push({ op: 'Gemm', inputs: [current, `${l.name}.weight`, `${l.name}.bias`], outputs: [pre], attributes: { transB: { kind: 'int', value: 1 } } });
    if (l.activation === 'relu') nodes.push({ op: 'Relu', inputs: [pre], outputs: [out] });
    else if (l.activation === 'tanh') nodes.push({ op: 'Tanh', inputs: [pre], outputs: [out] });
    else if (l.activation === 'gelu') {
      // gelu(z) = 0.5·z·(1 + erf(z/√2)) (opset 17 has no Gelu)
      nodes.push({ op: 'Mul', inputs: [pre, 'inv_sqrt2'], outputs: [`${l.name}_s`] });
      nodes.push({ op: 'Erf', inputs: [`${l.name}_s`], outputs: [`${l.name}_e`] });
      nodes.push({ op: 'Add', inputs: [`${l.name}_e`, 'one'], outputs: [`${l.name}_p`] });
      nodes.push({ op: 'Mul', inputs: [pre, `${l.name}_p`], outputs: [`${l.name}_q`] });
      nodes.push({ op: 'Mul', inputs: [`${l.name}_q`, 'half'], outputs: [out] });
    }
    current = out;
  });
  const gelu = used.some((l) => l.activation === 'gelu');
  return buildModel({
    graphName: count === layers.length ? 'classifier' : 'encoder',
    docString: options.docString,
    inputs: [{ name: 'x', type: 'float32', shape: ['batch', used[0].inFeatures] }],
    outputs: [{ name: current, type: 'float32', shape: ['batch', used[used.length - 1].outFeatures] }],
    initializers: [
      ...used.flatMap((l) => [float32Tensor(`${l.name}.weight`, [l.outFeatures, l.inFeatures], l.weight), float32Tensor(`${l.name}.bias`, [l.outFeatures], l.bias)]),
      ...(gelu ? [float32Tensor('inv_sqrt2', [], [Math.SQRT1_2]), float32Tensor('one', [], [1]), float32Tensor('half', [], [0.5])] : []),
    ],
    nodes,
  });
}

/** Integer labels from a .npy (int8/16/32/64, uint8/16/32, or integral floats), one per row. */
export function readLabels(file: string): Int32Array {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw new ComposerError('io', `cannot read labels ${file}`, { file });
  }
  const headerMatch = /'descr':\s*'([<>|=]?)([iuf])(\d)'.*'shape':\s*\((\d+),?\s*\)/s.exec(bytes.subarray(0, Math.min(bytes.length, 4096)).toString('latin1'));
  if (!headerMatch || bytes.length < 10 || bytes[0] !== 0x93) throw new ComposerError('npy', `${file} is not a 1-D integer .npy of labels`, { file }, 'save the labels with numpy.save(f, y.astype(np.int64)), shape [N]');
  const [, order, kind, sizeText] = headerMatch;
  if (kind === 'f') return Int32Array.from(readNpy(file).data, (v) => {
    if (!Number.isInteger(v)) throw new ComposerError('npy', `${file}: label ${v} is not an integer`, { file });
    return v;
  });
  if (order === '>') throw new ComposerError('npy', `${file}: big-endian labels are not supported`, { file });
  const size = Number(sizeText);
  const n = Number(headerMatch[4]);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const offset = (major === 1 ? 10 : 12) + headerLength;
  if (bytes.length !== offset + n * size) throw new ComposerError('npy', `${file}: ${bytes.length - offset} data bytes for ${n} labels of ${size} bytes`, { file });
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const at = offset + i * size;
    out[i] = size === 1 ? (kind === 'i' ? bytes.readInt8(at) : bytes[at]) : size === 2 ? (kind === 'i' ? bytes.readInt16LE(at) : bytes.readUInt16LE(at)) : size === 4 ? (kind === 'i' ? bytes.readInt32LE(at) : bytes.readUInt32LE(at)) : Number(bytes.readBigInt64LE(at));
  }
  return out;
}

/** Writes int64 labels as a 1-D .npy. */
export function writeLabels(file: string, labels: ArrayLike<number>): void {
  const dict = `{'descr': '<i8', 'fortran_order': False, 'shape': (${labels.length},), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = dict + ' '.repeat(total - 10 - dict.length - 1) + '\n';
  const out = Buffer.alloc(total + labels.length * 8);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(out, 0);
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  for (let i = 0; i < labels.length; i++) out.writeBigInt64LE(BigInt(labels[i]), total + i * 8);
  fs.writeFileSync(file, out);
}

export interface ClassificationMetrics {
  accuracy: number;
  /** mean −log p(label | x) */
  nll: number;
  samples: number;
}

export interface ClassificationInput {
  /** Folder with model.safetensors + config.json. */
  model: string;
  /** An adapter (PEFT folder, …) merged into the weights first; none: the base model. */
  adapter?: string;
  /** [N, features] float .npy */
  data: string;
  /** [N] integer .npy */
  labels: string;
  provider?: ProviderRequest;
}

/** Accuracy and NLL of the model (with the adapter merged) on a labelled set, through ONNX Runtime. */
export async function evaluateClassification(input: ClassificationInput): Promise<ClassificationMetrics> {
  let layers = readClassifier(input.model);
  if (input.adapter) layers = mergeIntoClassifier(layers, input.adapter);
  const x = readNpy(input.data);
  const y = readLabels(input.labels);
  return scoreLayers(layers, x.data instanceof Float32Array ? x.data : Float32Array.from(x.data), x.shape, y, input.data, input.provider);
}

export async function scoreLayers(layers: readonly ClassifierLayer[], x: Float32Array, shape: number[], y: Int32Array, dataFile = '<data>', provider: ProviderRequest = 'cpu'): Promise<ClassificationMetrics> {
  const inDim = layers[0].inFeatures;
  const rows = shape[0];
  if (shape.length !== 2 || shape[1] !== inDim) throw new ComposerError('dimension', `${dataFile} has shape [${shape.join(', ')}]; the model takes [N, ${inDim}]`, { file: dataFile });
  if (y.length !== rows) throw new ComposerError('dimension', `${rows} samples but ${y.length} labels`, { file: dataFile });
  const classes = layers[layers.length - 1].outFeatures;
  for (const label of y) if (label < 0 || label >= classes) throw new ComposerError('dimension', `label ${label} is outside 0..${classes - 1}`, { file: dataFile });
  const opened = await createSession(classifierOnnx(layers), { provider, label: 'classification evaluator', intraOpThreads: 1 });
  try {
    let correct = 0, nll = 0;
    const batch = 4096;
    for (let start = 0; start < rows; start += batch) {
      const n = Math.min(batch, rows - start);
      const result = await opened.session.run({ x: new ort.Tensor('float32', x.subarray(start * inDim, (start + n) * inDim), [n, inDim]) });
      const out = result.logits.data as Float32Array;
      for (let i = 0; i < n; i++) {
        let max = -Infinity, arg = 0;
        for (let c = 0; c < classes; c++) if (out[i * classes + c] > max) { max = out[i * classes + c]; arg = c; }
        let sum = 0;
        for (let c = 0; c < classes; c++) sum += Math.exp(out[i * classes + c] - max);
        nll += max + Math.log(sum) - out[i * classes + y[start + i]];
        if (arg === y[start + i]) correct++;
      }
      result.logits.dispose();
    }
    return { accuracy: correct / rows, nll: nll / rows, samples: rows };
  } finally {
    await opened.session.release();
  }
}
