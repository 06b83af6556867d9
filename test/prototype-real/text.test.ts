import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ComposerError } from '../../server/src/engine/errors';
import { initLibrary } from '../../server/src/engine/library/library';
import { createPlanner } from '../../server/src/engine/planner';
import { openEncoder, prototypeFromSamples } from '../../server/src/engine/prototype/encoder';
import { readEncoderConfig } from '../../server/src/engine/prototype/encoderConfig';
import { openTokenizer } from '../../server/src/engine/prototype/textInput';
import { adapterRecord } from '../../server/src/engine/addToLibrary';
import type { Library } from '../../server/src/engine/library/library';
import { writePeft } from '../lsp/fixture';
import type { AdapterRecord } from '../../server/src/engine/types';
import { buildDemoEncoder } from '../../server/src/engine/prototype/demoEncoder';
import { textEncoder, VOCAB, weights, wordPieceTokenizerJson } from './fixtures';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-text-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

const D = 4;
const EMBED = weights(VOCAB.length, D, 5);
const id = (token: string) => VOCAB.indexOf(token);

fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(wordPieceTokenizerJson()));
fs.writeFileSync(path.join(dir, 'token-encoder.onnx'), textEncoder(VOCAB.length, D, EMBED, false));
fs.writeFileSync(path.join(dir, 'sentence-encoder.onnx'), textEncoder(VOCAB.length, D, EMBED, true));

function writeConfig(name: string, config: object): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}
const meanPooled = writeConfig('mean.json', { kind: 'text', text: { tokenizer: 'tokenizer.json', max_length: 16 }, output: { name: 'last_hidden_state', pooling: 'mean' } });
const inGraph = writeConfig('graph.json', { kind: 'text', text: { max_length: 16 }, output: { pooling: 'none' } });

/** Mean of the token embeddings of `ids`, in float64: the masked mean pooling, computed directly. */
function meanEmbedding(ids: number[]): number[] {
  const out = new Array<number>(D).fill(0);
  for (const t of ids) for (let j = 0; j < D; j++) out[j] += EMBED[t * D + j] / ids.length;
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

const SENTENCE = 'The cats sat on the mat.';
const SENTENCE_IDS = ['[CLS]', 'the', 'cat', '##s', 'sat', 'on', 'the', 'mat', '.', '[SEP]'].map(id);

test('the tokenizer.json of the fixture gives the WordPiece ids of a known sentence; truncation keeps [CLS] … [SEP]', () => {
  const tokenizer = openTokenizer(readEncoderConfig(meanPooled).text!);
  assert.deepEqual(tokenizer.encode(SENTENCE).ids, SENTENCE_IDS);
  assert.deepEqual(tokenizer.encode('UNSEEN dogs!').ids, ['[CLS]', 'un', '##seen', 'dog', '##s', '[UNK]', '[SEP]'].map(id));
  const short = openTokenizer({ ...readEncoderConfig(meanPooled).text!, maxLength: 5 });
  assert.deepEqual(short.encode(SENTENCE).ids, ['[CLS]', 'the', 'cat', '##s', '[SEP]'].map(id));
  const batch = short.encodeBatch(['a dog', SENTENCE]);
  assert.equal(batch.length, 5);
  assert.deepEqual(Array.from(batch.inputIds, Number), [...['[CLS]', 'a', 'dog', '[SEP]'].map(id), 0, ...['[CLS]', 'the', 'cat', '##s', '[SEP]'].map(id)]);
  assert.deepEqual(Array.from(batch.attentionMask, Number), [1, 1, 1, 1, 0, 1, 1, 1, 1, 1]);
});

test('text samples (.txt and .jsonl, batched and padded) give the JS mean of masked-mean token embeddings, pooled by the config or in the graph', async () => {
  const texts = [SENTENCE, 'a dog runs fast', 'the cat', 'unseen dogs sat on a mat', 'a cat runs'];
  const txt = path.join(dir, 'samples.txt');
  fs.writeFileSync(txt, `${texts[0]}\n\n${texts[1]}\n${texts[2]}\n`);
  const jsonl = path.join(dir, 'samples.jsonl');
  fs.writeFileSync(jsonl, `${JSON.stringify({ text: texts[3], label: 1 })}\n${JSON.stringify({ text: texts[4] })}\n`);
  const tokenizer = openTokenizer(readEncoderConfig(meanPooled).text!);
  const perText = texts.map((t) => meanEmbedding(tokenizer.encode(t).ids));
  const expected = perText[0].map((_, j) => perText.reduce((a, p) => a + p[j], 0) / texts.length);
  for (const [model, config] of [['token-encoder.onnx', meanPooled], ['sentence-encoder.onnx', inGraph]] as const) {
    const encoder = await openEncoder(path.join(dir, model), { provider: 'cpu', config });
    assert.equal(encoder.inputKind, 'text');
    const progress: [number, number][] = [];
    const result = await prototypeFromSamples(encoder, [txt, jsonl], { batchSize: 2, onProgress: (p) => progress.push([p.done, p.total]) });
    assert.equal(result.count, 5);
    assert.deepEqual(progress, [[2, 5], [4, 5], [5, 5]]);
    assertClose(result.prototype, expected, 1e-5, model);
    await encoder.dispose();
  }
});

test('bad text samples are located: a JSON Lines record without the text field, a .npy for a text encoder', async () => {
  const encoder = await openEncoder(path.join(dir, 'token-encoder.onnx'), { provider: 'cpu', config: meanPooled });
  const jsonl = path.join(dir, 'bad.jsonl');
  fs.writeFileSync(jsonl, `${JSON.stringify({ text: 'a dog' })}\n${JSON.stringify({ prompt: 'a cat' })}\n`);
  await assert.rejects(prototypeFromSamples(encoder, [jsonl]), (e: unknown) => e instanceof ComposerError && e.location?.file === jsonl && e.location?.line === 2 && /no string field "text"/.test(e.message));
  const npy = path.join(dir, 'x.npy');
  fs.writeFileSync(npy, '');
  await assert.rejects(prototypeFromSamples(encoder, [npy]), /is a \.npy file, but the encoder reads text samples/);
  await encoder.dispose();
  // A model input the config does not feed is refused when the encoder opens.
  const noMask = writeConfig('no-mask.json', { kind: 'text', text: { max_length: 8, inputs: { attention_mask: null } }, output: { pooling: 'mean' } });
  await assert.rejects(openEncoder(path.join(dir, 'token-encoder.onnx'), { provider: 'cpu', config: noMask }), /also takes 'attention_mask'/);
});

/** A real (small) adapter: plan checks that the adapters it would merge exist and match their rows. */
async function record(library: Library, name: string, prototype: number[], seed: number, folder = dir): Promise<AdapterRecord> {
  const adapterPath = path.join(folder, 'adapters', name);
  writePeft(adapterPath, 'llama-3-8b', 8, seed);
  return adapterRecord(library, { adapterPath, name, source: { vector: Float64Array.from(prototype) } });
}

test('target.text through the planner: a library made with --encoder-config carries encoder.json + tokenizer.json and encodes the description', async () => {
  const ws = path.join(dir, 'ws');
  fs.mkdirSync(ws);
  // The config lives elsewhere; init copies it (and its tokenizer) into the library folder.
  const library = await initLibrary(path.join(ws, 'lib'), { encoderPath: path.join(dir, 'token-encoder.onnx'), encoderConfigPath: meanPooled });
  assert.equal(library.dim, D);
  for (const f of ['encoder.onnx', 'encoder.json', 'tokenizer.json']) assert.ok(fs.existsSync(path.join(ws, 'lib', f)), f);
  assert.equal(JSON.parse(fs.readFileSync(path.join(ws, 'lib', 'encoder.json'), 'utf8')).text.tokenizer, 'tokenizer.json');
  const adapters = { cats: meanEmbedding([id('cat')]), dogs: meanEmbedding([id('dog')]), mats: meanEmbedding([id('mat')]) };
  // the adapters inside the workspace, as the planner requires of what it would read
  await library.add(await Promise.all(Object.entries(adapters).map(([name, p], i) => record(library, name, p, i + 1, ws))));
  library.close();
  const nearest = (t: ArrayLike<number>) =>
    Object.entries(adapters).map(([name, p]) => ({ name, d: p.reduce((a, v, j) => a + (v - t[j]) ** 2, 0) })).sort((a, b) => a.d - b.d)[0].name;

  const recipe = (text: string) => `compose: 1
name: t
base: llama-3-8b
library: ./lib
target:
  text: "${text}"
retrieve:
  k: 2
weights:
  strategy: avg
merge:
  method: svd
  rank: 4
output: ./out/t
`;
  const planner = createPlanner();
  try {
    const file = path.join(ws, 't.compose.yaml');
    const outcome = await planner.plan(recipe('the cats'), file, { workspaceRoot: ws, provider: 'cpu' });
    assert.deepEqual(outcome.problems.filter((p) => p.severity === 'error'), []);
    const tokenizer = openTokenizer(readEncoderConfig(meanPooled).text!);
    assertClose(outcome.target!, meanEmbedding(tokenizer.encode('the cats').ids), 1e-6, 'target');
    assert.equal(outcome.plan!.target.source, 'text');
    assert.equal(outcome.plan!.provider, 'cpu');
    assert.equal(outcome.plan!.candidates[0].name, nearest(outcome.target!));
    // A different description moves the target (the cache key includes the text).
    const other = await planner.plan(recipe('a dog'), file, { workspaceRoot: ws, provider: 'cpu' });
    assertClose(other.target!, meanEmbedding(tokenizer.encode('a dog').ids), 1e-6, 'other target');
    assert.equal(other.plan!.candidates[0].name, nearest(other.target!));
  } finally {
    await planner.dispose();
  }
});

test('target.text with a library whose encoder reads feature rows is a recipe error at target.text', async () => {
  const ws = path.join(dir, 'ws-features');
  fs.mkdirSync(ws);
  const encoderFile = path.join(ws, 'features.onnx');
  fs.writeFileSync(encoderFile, buildDemoEncoder(6, D, 1));
  const library = await initLibrary(path.join(ws, 'lib'), { encoderPath: encoderFile });
  await library.add([await record(library, 'cats', [1, 0, 0, 0], 1)]);
  library.close();
  const planner = createPlanner();
  try {
    const outcome = await planner.plan('compose: 1\nname: t\nbase: llama-3-8b\nlibrary: ./lib\ntarget:\n  text: "a cat"\nretrieve:\n  k: 1\nweights:\n  strategy: avg\nmerge:\n  method: svd\n  rank: 4\noutput: ./out/t\n',
      path.join(ws, 't.compose.yaml'), { workspaceRoot: ws, provider: 'cpu' });
    const error = outcome.problems.find((p) => p.severity === 'error');
    assert.equal(error?.code, 'text-target');
    assert.deepEqual(error?.path, ['target', 'text']);
    assert.match(error.message, /needs an encoder with a text input; this library's encoder takes feature vectors/);
    assert.equal(outcome.plan, undefined);
  } finally {
    await planner.dispose();
  }
});

test('thousands of texts stream in batches: progress per batch, the mean over all lines', async () => {
  const sentences = ['the cat sat', 'a dog runs fast', 'the mat'];
  const n = 3000;
  const file = path.join(dir, 'many.txt');
  fs.writeFileSync(file, Array.from({ length: n }, (_, i) => sentences[i % 3]).join('\n') + '\n');
  const encoder = await openEncoder(path.join(dir, 'sentence-encoder.onnx'), { provider: 'cpu', config: inGraph });
  let calls = 0;
  const result = await prototypeFromSamples(encoder, [file], { batchSize: 256, onProgress: (p) => { calls++; assert.equal(p.total, n); } });
  assert.equal(result.count, n);
  assert.equal(calls, Math.ceil(n / 256));
  const tokenizer = openTokenizer(readEncoderConfig(inGraph).text!);
  const each = sentences.map((s) => meanEmbedding(tokenizer.encode(s).ids));
  assertClose(result.prototype, each[0].map((_, j) => (each[0][j] + each[1][j] + each[2][j]) / 3), 1e-5, 'mean of 3000');
  await encoder.dispose();
});
