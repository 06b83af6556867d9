/**
 * Small real encoders (ONNX graphs built in code), a hand-written WordPiece tokenizer.json and a
 * seeded generator, for the real-data prototype tests.
 */
import { attr, buildModel, float32Tensor, int64Tensor } from '../../server/src/engine/onnx/model';

export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Weights of a linear map [inDim, outDim] in (−0.5, 0.5), float32-representable. */
export function weights(inDim: number, outDim: number, seed: number): Float32Array {
  const rnd = seeded(seed);
  return Float32Array.from({ length: inDim * outDim }, () => rnd() - 0.5);
}

/**
 * An image encoder: Flatten(pixels) · W. Every pixel moves the output, so a wrong crop, channel
 * order or normalisation shows. Input [batch, 3, H, W] (NCHW) or [batch, H, W, 3] (NHWC).
 */
export function imageEncoder(layout: 'NCHW' | 'NHWC', height: number, width: number, outDim: number, W: Float32Array): Uint8Array {
  const shape = layout === 'NCHW' ? ['batch', 3, height, width] : ['batch', height, width, 3];
  return buildModel({
    inputs: [{ name: 'pixel_values', type: 'float32', shape }],
    outputs: [{ name: 'image_embeds', type: 'float32', shape: ['batch', outDim] }],
    initializers: [float32Tensor('W', [3 * height * width, outDim], W)],
    nodes: [
      { op: 'Flatten', inputs: ['pixel_values'], outputs: ['flat'], attributes: { axis: attr.int(1) } },
      { op: 'MatMul', inputs: ['flat', 'W'], outputs: ['image_embeds'] },
    ],
  });
}

/** E(x) = x · W for one flattened input, in float64. */
export function linear(x: ArrayLike<number>, W: Float32Array, outDim: number): number[] {
  const out = new Array<number>(outDim).fill(0);
  for (let p = 0; p < x.length; p++) for (let j = 0; j < outDim; j++) out[j] += x[p] * W[p * outDim + j];
  return out;
}

/**
 * A text encoder: token embeddings Gather(E, input_ids) → last_hidden_state [batch, T, D]
 * (pooled by the config), or, with `pooledInGraph`, the attention-masked mean computed in the graph
 * → sentence_embedding [batch, D].
 */
export function textEncoder(vocabSize: number, dim: number, E: Float32Array, pooledInGraph: boolean): Uint8Array {
  const inputs = [
    { name: 'input_ids', type: 'int64' as const, shape: ['batch', 'sequence'] },
    { name: 'attention_mask', type: 'int64' as const, shape: ['batch', 'sequence'] },
  ];
  const embed = { op: 'Gather', inputs: ['E', 'input_ids'], outputs: [pooledInGraph ? 'hidden' : 'last_hidden_state'], attributes: { axis: attr.int(0) } };
  if (!pooledInGraph) {
    return buildModel({
      inputs,
      outputs: [{ name: 'last_hidden_state', type: 'float32', shape: ['batch', 'sequence', dim] }],
      // attention_mask stays a declared input (unused here): the config's mean pooling applies it.
      initializers: [float32Tensor('E', [vocabSize, dim], E)],
      nodes: [embed],
    });
  }
  return buildModel({
    inputs,
    outputs: [{ name: 'sentence_embedding', type: 'float32', shape: ['batch', dim] }],
    initializers: [float32Tensor('E', [vocabSize, dim], E), int64Tensor('axes1', [1], [1]), int64Tensor('axesLast', [1], [-1])],
    nodes: [
      embed,
      { op: 'Cast', inputs: ['attention_mask'], outputs: ['maskF'], attributes: { to: attr.int(1) } },
      { op: 'Unsqueeze', inputs: ['maskF', 'axesLast'], outputs: ['mask3'] },
      { op: 'Mul', inputs: ['hidden', 'mask3'], outputs: ['masked'] },
      { op: 'ReduceSum', inputs: ['masked', 'axes1'], outputs: ['summed'], attributes: { keepdims: attr.int(0) } },
      { op: 'ReduceSum', inputs: ['mask3', 'axes1'], outputs: ['count'], attributes: { keepdims: attr.int(0) } },
      { op: 'Div', inputs: ['summed', 'count'], outputs: ['sentence_embedding'] },
    ],
  });
}

/** The fixture vocabulary: id = index. */
export const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'the', 'cat', '##s', 'sat', 'on', 'mat', '.', 'a', 'dog', 'runs', 'fast', 'un', '##seen'];

/** A BERT-style WordPiece tokenizer.json (lower-casing normalizer, [CLS] … [SEP] template). */
export function wordPieceTokenizerJson(): object {
  const special = (id: number) => ({ id, content: VOCAB[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [0, 1, 2, 3].map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])),
    },
  };
}
