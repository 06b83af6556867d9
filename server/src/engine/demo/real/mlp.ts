/**
 * A small MLP and its LoRA adapters, trained by hand-written backpropagation (softmax cross-entropy,
 * Adam) in plain typed-array loops: the real-data demo's base model and adapters. Weights follow
 * PyTorch's nn.Linear convention (W [out, in], y = x·Wᵀ + b); a LoRA on a layer adds ΔW = s·B·A with
 * B [out, r] (initialised to zero, as PEFT does) and A [r, in]. Everything is seeded: the same seed
 * gives the same bits.
 */
import { SeededRandom } from '../../random';

export type Activation = 'relu' | 'tanh' | 'none';

export interface Layer {
  name: string;
  inFeatures: number;
  outFeatures: number;
  activation: Activation;
  /** [out, in] row-major */
  weight: Float64Array;
  bias: Float64Array;
}

export interface LoraLayer {
  /** [r, in] */
  a: Float64Array;
  /** [out, r] */
  b: Float64Array;
}

export interface Lora {
  rank: number;
  alpha: number;
  layers: LoraLayer[];
}

export function loraScale(lora: Lora): number {
  return lora.alpha / lora.rank;
}

export function initMlp(sizes: number[], activations: Activation[], seed: number): Layer[] {
  const rnd = new SeededRandom(seed);
  return activations.map((activation, i) => {
    const inFeatures = sizes[i], outFeatures = sizes[i + 1];
    const std = Math.sqrt((activation === 'relu' ? 2 : 1) / inFeatures);
    return { name: `fc${i + 1}`, inFeatures, outFeatures, activation, weight: Float64Array.from(rnd.gaussianArray(inFeatures * outFeatures, std)), bias: new Float64Array(outFeatures) };
  });
}

export function initLora(layers: Layer[], rank: number, alpha: number, seed: number): Lora {
  const rnd = new SeededRandom(seed);
  return {
    rank,
    alpha,
    layers: layers.map((l) => ({ a: Float64Array.from(rnd.gaussianArray(rank * l.inFeatures, 1 / Math.sqrt(l.inFeatures))), b: new Float64Array(l.outFeatures * rank) })),
  };
}

/** W + s·B·A of every layer (the weights the LoRA model runs with). */
export function effectiveWeights(layers: Layer[], lora?: Lora): Float64Array[] {
  return layers.map((l, i) => {
    if (!lora) return l.weight;
    const w = Float64Array.from(l.weight);
    const { a, b } = lora.layers[i];
    const r = lora.rank, s = loraScale(lora);
    for (let o = 0; o < l.outFeatures; o++) {
      for (let t = 0; t < r; t++) {
        const c = s * b[o * r + t];
        if (c === 0) continue;
        const oa = t * l.inFeatures, ow = o * l.inFeatures;
        for (let j = 0; j < l.inFeatures; j++) w[ow + j] += c * a[oa + j];
      }
    }
    return w;
  });
}

interface Pass {
  /** pre-activations per layer [n, out] */
  z: Float64Array[];
  /** inputs per layer (h[0] = x) and the logits last */
  h: Float64Array[];
}

function forward(layers: Layer[], weights: Float64Array[], x: Float64Array, n: number): Pass {
  const z: Float64Array[] = [];
  const h: Float64Array[] = [x];
  layers.forEach((l, li) => {
    const input = h[li], w = weights[li];
    const out = new Float64Array(n * l.outFeatures);
    for (let i = 0; i < n; i++) {
      const oi = i * l.inFeatures;
      for (let o = 0; o < l.outFeatures; o++) {
        let s = l.bias[o];
        const ow = o * l.inFeatures;
        for (let j = 0; j < l.inFeatures; j++) s += input[oi + j] * w[ow + j];
        out[i * l.outFeatures + o] = s;
      }
    }
    z.push(out);
    h.push(l.activation === 'none' ? out : out.map(l.activation === 'relu' ? (v) => (v > 0 ? v : 0) : Math.tanh));
  });
  return { z, h };
}

/** Logits [n, classes] of a batch (float64). */
export function logits(layers: Layer[], x: Float64Array, n: number, lora?: Lora): Float64Array {
  const pass = forward(layers, effectiveWeights(layers, lora), x, n);
  return pass.h[pass.h.length - 1];
}

/** Mean cross-entropy and, in place, dL/dlogits. */
function softmaxCrossEntropy(out: Float64Array, labels: ArrayLike<number>, n: number, classes: number, grad: Float64Array): number {
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, out[i * classes + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(out[i * classes + c] - max);
    const logSum = max + Math.log(sum);
    loss += logSum - out[i * classes + labels[i]];
    for (let c = 0; c < classes; c++) grad[i * classes + c] = (Math.exp(out[i * classes + c] - logSum) - (c === labels[i] ? 1 : 0)) / n;
  }
  return loss / n;
}

export interface Gradients {
  loss: number;
  /** per layer dL/dW_eff [out, in] and dL/db */
  weight: Float64Array[];
  bias: Float64Array[];
  /** per layer dL/dA, dL/dB when a LoRA is trained */
  a?: Float64Array[];
  b?: Float64Array[];
}

/** Loss and gradients of a batch: of W and b (no LoRA), or of the LoRA factors (base frozen). */
export function gradients(layers: Layer[], x: Float64Array, labels: ArrayLike<number>, n: number, lora?: Lora): Gradients {
  const weights = effectiveWeights(layers, lora);
  const pass = forward(layers, weights, x, n);
  const L = layers.length;
  const classes = layers[L - 1].outFeatures;
  let dz = new Float64Array(n * classes);
  const loss = softmaxCrossEntropy(pass.h[L], labels, n, classes, dz);
  const gw = new Array<Float64Array>(L);
  const gb = new Array<Float64Array>(L);
  for (let li = L - 1; li >= 0; li--) {
    const l = layers[li], input = pass.h[li], w = weights[li];
    const dw = new Float64Array(l.outFeatures * l.inFeatures);
    const db = new Float64Array(l.outFeatures);
    for (let i = 0; i < n; i++) {
      const oi = i * l.inFeatures;
      for (let o = 0; o < l.outFeatures; o++) {
        const g = dz[i * l.outFeatures + o];
        if (g === 0) continue;
        db[o] += g;
        const ow = o * l.inFeatures;
        for (let j = 0; j < l.inFeatures; j++) dw[ow + j] += g * input[oi + j];
      }
    }
    gw[li] = dw;
    gb[li] = db;
    if (li === 0) break;
    const prev = layers[li - 1];
    const dh = new Float64Array(n * l.inFeatures);
    for (let i = 0; i < n; i++) {
      const oi = i * l.inFeatures;
      for (let o = 0; o < l.outFeatures; o++) {
        const g = dz[i * l.outFeatures + o];
        if (g === 0) continue;
        const ow = o * l.inFeatures;
        for (let j = 0; j < l.inFeatures; j++) dh[oi + j] += g * w[ow + j];
      }
    }
    const zPrev = pass.z[li - 1], hPrev = pass.h[li];
    if (prev.activation === 'relu') for (let t = 0; t < dh.length; t++) dh[t] = zPrev[t] > 0 ? dh[t] : 0;
    else if (prev.activation === 'tanh') for (let t = 0; t < dh.length; t++) dh[t] *= 1 - hPrev[t] * hPrev[t];
    dz = dh;
  }
  if (!lora) return { loss, weight: gw, bias: gb };
  const r = lora.rank, s = loraScale(lora);
  const ga: Float64Array[] = [], gbf: Float64Array[] = [];
  layers.forEach((l, li) => {
    const { a, b } = lora.layers[li];
    const dw = gw[li];
    const da = new Float64Array(r * l.inFeatures); // s·Bᵀ·dW
    const dB = new Float64Array(l.outFeatures * r); // s·dW·Aᵀ
    for (let o = 0; o < l.outFeatures; o++) {
      const ow = o * l.inFeatures;
      for (let t = 0; t < r; t++) {
        const bo = s * b[o * r + t];
        const oa = t * l.inFeatures;
        let acc = 0;
        for (let j = 0; j < l.inFeatures; j++) {
          acc += dw[ow + j] * a[oa + j];
          if (bo !== 0) da[oa + j] += bo * dw[ow + j];
        }
        dB[o * r + t] = s * acc;
      }
    }
    ga.push(da);
    gbf.push(dB);
  });
  return { loss, weight: gw, bias: gb, a: ga, b: gbf };
}

/** Adam over a list of parameter arrays. */
export class Adam {
  private m: Float64Array[];
  private v: Float64Array[];
  private t = 0;
  constructor(private readonly params: Float64Array[], private readonly lr: number, private readonly beta1 = 0.9, private readonly beta2 = 0.999, private readonly eps = 1e-8) {
    this.m = params.map((p) => new Float64Array(p.length));
    this.v = params.map((p) => new Float64Array(p.length));
  }
  step(grads: Float64Array[]): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t, c2 = 1 - this.beta2 ** this.t;
    this.params.forEach((p, k) => {
      const g = grads[k], m = this.m[k], v = this.v[k];
      for (let i = 0; i < p.length; i++) {
        m[i] = this.beta1 * m[i] + (1 - this.beta1) * g[i];
        v[i] = this.beta2 * v[i] + (1 - this.beta2) * g[i] * g[i];
        p[i] -= (this.lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + this.eps);
      }
    });
  }
}

export interface TrainOptions {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
}

/** Mini-batch Adam over shuffled batches; trains the LoRA factors when given (the base stays frozen), else W and b. */
export function train(layers: Layer[], x: Float32Array, y: Uint8Array, n: number, options: TrainOptions, lora?: Lora): number {
  const dim = layers[0].inFeatures;
  const params = lora ? lora.layers.flatMap((l) => [l.a, l.b]) : layers.flatMap((l) => [l.weight, l.bias]);
  const adam = new Adam(params, options.lr);
  const rnd = new SeededRandom(options.seed);
  const order = Array.from({ length: n }, (_, i) => i);
  let last = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = rnd.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let sum = 0, batches = 0;
    for (let start = 0; start < n; start += options.batch) {
      const m = Math.min(options.batch, n - start);
      const bx = new Float64Array(m * dim);
      const by = new Uint8Array(m);
      for (let i = 0; i < m; i++) {
        const s = order[start + i];
        for (let j = 0; j < dim; j++) bx[i * dim + j] = x[s * dim + j];
        by[i] = y[s];
      }
      const g = gradients(layers, bx, by, m, lora);
      adam.step(lora ? g.a!.flatMap((ga, k) => [ga, g.b![k]]) : g.weight.flatMap((gw, k) => [gw, g.bias[k]]));
      sum += g.loss;
      batches++;
    }
    last = sum / batches;
  }
  return last;
}
