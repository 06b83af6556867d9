/**
 * The merge (engine/lora/merge.ts, mergePlanning.ts) on tiny PEFT adapters written here, checked
 * against the factors this file wrote: ΔW = Σ wᵢ·sᵢ·Bᵢ·Aᵢ computed densely from them, the output read
 * back with the test side's own PEFT reader (peftReference.ts), the files hashed here. Plus the plan
 * (ranks, dtype, layout, warnings), the metadata (composition.json, the result), progress, and every
 * refusal with nothing written. Fast (no ONNX Runtime, shapes of a few entries), so the mutation run
 * (scripts/mutate.mjs) lists it first for the merge module.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ComposerError } from '../../server/src/engine/errors';
import { deltaOf } from '../../server/src/engine/lora/adapter';
import { openAdapter } from '../../server/src/engine/lora/formats';
import { mergeAdapters, type MergeInput, type MergeOptions } from '../../server/src/engine/lora/merge';
import { jsProducts, type PanelProducts } from '../../server/src/engine/lora/panelProducts';
import { SafetensorsFile, writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { seededRandom } from '../../server/src/engine/random';
import { jacobi, relErr } from './denseReference';
import { peftDense } from './peftReference';
import { referenceMerge, type RefOptions } from './entrywiseReference';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'merge-unit-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

type DType = 'F64' | 'F32' | 'BF16' | 'F16';
interface ModuleSpec { out: number; in: number; r: number }
interface Written {
  dir: string;
  /** per module: A [r, in], B [out, r] as the file holds them, and the scale s */
  factors: Record<string, { A: number[]; B: number[]; s: number; spec: ModuleSpec }>;
}

/** Values the dtype holds exactly (so the dense reference uses what the file holds). */
function exact(x: number, dtype: DType): number {
  if (dtype === 'F64') return x;
  if (dtype === 'F32') return Math.fround(x);
  // a short mantissa: multiples of 1/64 in [-0.5, 0.5] are exact in bf16 and f16
  return Math.round(x * 64) / 64;
}

function writePeft(
  name: string,
  modules: Record<string, ModuleSpec>,
  o: { alpha: number; seed: number; dtype?: DType; rslora?: boolean; base?: string; fanInFanOut?: boolean; extra?: Record<string, { shape: number[]; data: number[] }>; scaleA?: number },
): Written {
  const dir = path.join(tmp, name);
  const dtype = o.dtype ?? 'F64';
  const u = seededRandom(o.seed);
  const next = () => exact(u() - 0.5, dtype);
  fs.mkdirSync(dir, { recursive: true });
  const tensors: { name: string; dtype: DType; shape: number[]; data: number[] }[] = [];
  const factors: Written['factors'] = {};
  const r0 = Object.values(modules)[0].r;
  const rankPattern: Record<string, number> = {};
  for (const [m, spec] of Object.entries(modules)) {
    const A = Array.from({ length: spec.r * spec.in }, () => next() * (o.scaleA ?? 1));
    const B = Array.from({ length: spec.out * spec.r }, next);
    tensors.push({ name: `base_model.model.${m}.lora_A.weight`, dtype, shape: [spec.r, spec.in], data: A });
    tensors.push({ name: `base_model.model.${m}.lora_B.weight`, dtype, shape: [spec.out, spec.r], data: B });
    if (spec.r !== r0) rankPattern[m] = spec.r;
    factors[m] = { A, B, s: o.rslora ? o.alpha / Math.sqrt(spec.r) : o.alpha / spec.r, spec };
  }
  for (const [key, t] of Object.entries(o.extra ?? {})) tensors.push({ name: `base_model.model.${key}`, dtype, shape: t.shape, data: t.data });
  writeFloatTensors(path.join(dir, 'adapter_model.safetensors'), tensors);
  const saved = [...new Set(Object.keys(o.extra ?? {}).map((k) => k.split('.')[0]))];
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({
    peft_type: 'LORA', r: r0, lora_alpha: o.alpha, rank_pattern: rankPattern, use_rslora: o.rslora ?? false, target_modules: ['q', 'v', 'o'],
    base_model_name_or_path: o.base ?? 'toy', fan_in_fan_out: o.fanInFanOut ?? false, ...(saved.length ? { modules_to_save: saved } : {}),
  }));
  return { dir, factors };
}

/** Σ wᵢ·sᵢ·Bᵢ·Aᵢ of one module, dense [out, in], from the factors as written. */
function reference(inputs: { w: Written; weight: number }[], module: string): Float64Array | undefined {
  const having = inputs.filter((x) => x.w.factors[module]);
  if (having.length === 0) return undefined;
  const { out, in: n } = having[0].w.factors[module].spec;
  const d = new Float64Array(out * n);
  for (const { w, weight } of having) {
    const { A, B, s, spec } = w.factors[module];
    for (let i = 0; i < out; i++) for (let q = 0; q < spec.r; q++) for (let j = 0; j < n; j++) d[i * n + j] += weight * s * B[i * spec.r + q] * A[q * n + j];
  }
  return d;
}

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Progress reported on a merge into `out`: ends at the weights file's size, which is also the total. */
function progressEndsAtFileSize(progress: { bytesWritten: number; bytesTotal: number }[], file: string): void {
  const size = fs.statSync(file).size;
  assert.ok(progress.length > 0);
  for (const p of progress) assert.equal(p.bytesTotal, size);
  assert.equal(progress[progress.length - 1].bytesWritten, size);
}

/** The most common value, ties to the largest (the documented rank of a composite's config). */
function mostCommonRank(values: number[]): number {
  const count = (v: number) => values.filter((x) => x === v).length;
  return [...values].sort((x, y) => count(y) - count(x) || y - x)[0];
}

async function refused(p: Promise<unknown>, code: string, message: RegExp): Promise<ComposerError> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof ComposerError, `a ComposerError, not ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  return caught;
}

// Three adapters: q shared by all (ranks 2, 3, 2), v by two (ranks 2 and 1 through rank_pattern), o by
// one; float64, float32 and rsLoRA scales; shapes where each of out, in binds a rank somewhere.
const Q = { out: 5, in: 4 }, V = { out: 2, in: 6 }, O = { out: 7, in: 2 };
const p1 = writePeft('p1', { 'l.0.q': { ...Q, r: 2 }, 'l.0.v': { ...V, r: 2 } }, { alpha: 4, seed: 1, base: 'toyA' });
const p2 = writePeft('p2', { 'l.0.q': { ...Q, r: 3 }, 'l.0.v': { ...V, r: 1 } }, { alpha: 3, seed: 2, dtype: 'F32', base: 'toyB', fanInFanOut: true });
const p3 = writePeft('p3', { 'l.0.o': { ...O, r: 2 }, 'l.0.q': { ...Q, r: 2 } }, { alpha: 2, seed: 3, rslora: true, base: 'toyA' });
const three = [{ w: p1, weight: 0.7 }, { w: p2, weight: -1.3 }, { w: p3, weight: 0.4 }];
const inputsOf = (xs: { w: Written; weight: number }[]): MergeInput[] => xs.map((x) => ({ name: path.basename(x.w.dir), path: x.w.dir, weight: x.weight }));
const MODULES = ['l.0.o', 'l.0.q', 'l.0.v'];
const SHAPES: Record<string, { out: number; in: number }> = { 'l.0.o': O, 'l.0.q': Q, 'l.0.v': V };

test('cat: every module is Σ wᵢ·sᵢ·Bᵢ·Aᵢ exactly (f64), rank Σ rᵢ; files, hashes, composition.json and the result say what was written', async () => {
  const out = path.join(tmp, 'cat');
  const progress: { modulesDone: number; modulesTotal: number; bytesWritten: number; bytesTotal: number }[] = [];
  const published: { path: string; sha256: string }[][] = [];
  const res = await mergeAdapters(inputsOf(three), { method: 'cat', onProgress: (p) => progress.push({ ...p }), beforePublish: (f) => published.push(f) }, out);
  // the widest input dtype (f64 beside f32), PEFT in, PEFT out
  assert.equal(res.dtype, 'F64');
  assert.equal(res.layout, 'peft');
  assert.equal(res.method, 'cat');
  assert.equal(res.outputDir, path.resolve(out));
  assert.equal(res.products, 'none (cat copies the factors)');
  const ranks = { 'l.0.o': 2, 'l.0.q': 2 + 3 + 2, 'l.0.v': 2 + 1 };
  assert.deepEqual(res.ranks, ranks);
  assert.equal(res.modules, 3);
  assert.equal(res.rank, mostCommonRank(Object.values(ranks)));
  for (const m of MODULES) {
    const mine = peftDense(out, m)!;
    assert.ok(relErr(mine, reference(three, m)!) < 1e-14, `${m}: ${relErr(mine, reference(three, m)!)}`);
    assert.equal(res.energyKept.perModule[m], 1);
  }
  assert.deepEqual(res.energyKept, { min: 1, mean: 1, perModule: { 'l.0.o': 1, 'l.0.q': 1, 'l.0.v': 1 } });
  // the output tensors: two per module at its rank, in the output dtype
  const st = SafetensorsFile.open(path.join(out, 'adapter_model.safetensors'));
  assert.deepEqual([...st.tensors.keys()].sort(), MODULES.flatMap((m) => [`base_model.model.${m}.lora_A.weight`, `base_model.model.${m}.lora_B.weight`]).sort());
  for (const m of MODULES) {
    const spec = SHAPES[m];
    assert.deepEqual(st.info(`base_model.model.${m}.lora_A.weight`).shape, [ranks[m as keyof typeof ranks], spec.in]);
    assert.deepEqual(st.info(`base_model.model.${m}.lora_B.weight`).shape, [spec.out, ranks[m as keyof typeof ranks]]);
    assert.equal(st.info(`base_model.model.${m}.lora_A.weight`).dtype, 'F64');
  }
  // files: sorted by path, each hash that of the bytes on disk; the same list reached beforePublish
  assert.deepEqual(res.files.map((f) => f.path), ['adapter_config.json', 'adapter_model.safetensors', 'composition.json']);
  for (const f of res.files) assert.equal(f.sha256, sha(path.join(out, f.path)), f.path);
  assert.deepEqual(published, [res.files]);
  assert.deepEqual(fs.readdirSync(out).sort(), res.files.map((f) => f.path));
  // the inputs' hashes are those of the weights files merged
  assert.deepEqual(res.inputs, three.map((x) => ({ name: path.basename(x.w.dir), sha256: sha(path.join(x.w.dir, 'adapter_model.safetensors')) })));
  const composition = JSON.parse(fs.readFileSync(path.join(out, 'composition.json'), 'utf8'));
  assert.deepEqual(composition, {
    tool: 'adapter-composer', method: 'cat', layout: 'peft', dtype: 'F64', rank: res.rank,
    inputs: three.map((x) => ({ name: path.basename(x.w.dir), path: `../${path.basename(x.w.dir)}`, weight: x.weight, format: 'peft' })),
    modules_to_save: { policy: 'refuse', names: [] },
    energy_kept: { min: 1, mean: 1 },
    // every other file of the folder with its hash: what makes it compose's own
    files: res.files.filter((f) => f.path !== 'composition.json'),
  });
  // PyTorch's safetensors loaders expect the `format: pt` metadata
  assert.deepEqual(st.metadata, { format: 'pt' });
  // both JSON files as people diff them: two-space indent, a final newline
  for (const f of ['composition.json', 'adapter_config.json']) {
    const text = fs.readFileSync(path.join(out, f), 'utf8');
    assert.equal(text, JSON.stringify(JSON.parse(text), null, 2) + '\n', f);
  }
  const config = JSON.parse(fs.readFileSync(path.join(out, 'adapter_config.json'), 'utf8'));
  assert.equal(config.r, res.rank, `config r ${config.r}, rank ${res.rank}, ${JSON.stringify(config)}`);
  assert.equal(config.fan_in_fan_out, true, 'one input says fan_in_fan_out');
  assert.equal(config.modules_to_save, null);
  // ranks other than the common one in rank_pattern (α = rank: scale 1), in module order (deterministic bytes)
  assert.deepEqual(Object.entries(config.rank_pattern), Object.entries(ranks).filter(([, r]) => r !== res.rank));
  assert.deepEqual(config.alpha_pattern, config.rank_pattern);
  // progress: one call per module, in order, bytes up to the total of the tensors written
  assert.deepEqual(progress.map((p) => [p.modulesDone, p.modulesTotal]), [[1, 3], [2, 3], [3, 3]]);
  // the whole file: its 8-byte length, the header, then each tensor (f64: 8 bytes an element)
  const headerLength = Number(fs.readFileSync(path.join(out, 'adapter_model.safetensors')).readBigUInt64LE(0));
  const bytes = 8 + headerLength + [...st.tensors.keys()].reduce((s, k) => s + st.info(k).shape.reduce((x, y) => x * y, 1) * 8, 0);
  for (const p of progress) assert.equal(p.bytesTotal, bytes);
  assert.ok(progress.every((p, i) => p.bytesWritten > (progress[i - 1]?.bytesWritten ?? 0) && p.bytesWritten <= bytes), JSON.stringify(progress));
  assert.equal(progress[2].bytesWritten, fs.statSync(path.join(out, 'adapter_model.safetensors')).size);
  // warnings: the two base models, and fan_in_fan_out disagreeing
  assert.deepEqual(res.warnings, [
    'the adapters name different base models (toyA, toyB); their module shapes agree',
    'p2 and p1 disagree on fan_in_fan_out; the output uses true when any input does (PEFT forces it for Conv1D layers anyway)',
  ]);
});

test('cat from float32 inputs stays float32 (panels decoded exactly), and the result is the rounded reference', async () => {
  const f1 = writePeft('f1', { 'l.0.q': { ...Q, r: 2 } }, { alpha: 2, seed: 11, dtype: 'F32' });
  const f2 = writePeft('f2', { 'l.0.q': { ...Q, r: 2 } }, { alpha: 6, seed: 12, dtype: 'F32' });
  const xs = [{ w: f1, weight: 0.25 }, { w: f2, weight: 1.5 }];
  const out = path.join(tmp, 'cat-f32');
  const res = await mergeAdapters(inputsOf(xs), { method: 'cat', dtype: 'f64' }, out);
  assert.equal(res.dtype, 'F64');
  // f64 output of f32 inputs: exact up to float64 products, so float32 panels lost nothing
  assert.ok(relErr(peftDense(out, 'l.0.q')!, reference(xs, 'l.0.q')!) < 1e-14);
  const progress32: { bytesWritten: number; bytesTotal: number }[] = [];
  const res32 = await mergeAdapters(inputsOf(xs), { method: 'cat', onProgress: (p) => progress32.push({ ...p }) }, path.join(tmp, 'cat-f32b'));
  progressEndsAtFileSize(progress32, path.join(tmp, 'cat-f32b', 'adapter_model.safetensors'));
  assert.equal(res32.dtype, 'F32');
  const e = relErr(peftDense(path.join(tmp, 'cat-f32b'), 'l.0.q')!, reference(xs, 'l.0.q')!);
  assert.ok(e < 1e-6 && e > 0, `f32 rounding: ${e}`);
  assert.deepEqual(res32.warnings, []);
});

test('float64 inputs are read as float64: values float32 cannot hold survive the merge', async () => {
  const dir = path.join(tmp, 'fine');
  fs.mkdirSync(dir, { recursive: true });
  const A = [1 + 2 ** -40, -1, 0.5, 3 + 2 ** -45], B = [1, 1 + 2 ** -42];
  writeFloatTensors(path.join(dir, 'adapter_model.safetensors'), [
    { name: 'base_model.model.l.0.q.lora_A.weight', dtype: 'F64', shape: [1, 4], data: A },
    { name: 'base_model.model.l.0.q.lora_B.weight', dtype: 'F64', shape: [2, 1], data: B },
  ]);
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 1, lora_alpha: 1, target_modules: ['q'] }));
  for (const method of ['cat', 'svd'] as const) {
    const out = path.join(tmp, `fine-${method}`);
    await mergeAdapters([{ name: 'fine', path: dir, weight: 1 }], { method, products: 'js' }, out);
    const d = peftDense(out, 'l.0.q')!;
    const ref = B.flatMap((b) => A.map((a) => b * a));
    assert.ok(relErr(d, Float64Array.from(ref)) < 1e-15, `${method}: ${relErr(d, Float64Array.from(ref))}`);
  }
});

test('svd: each module is the best rank-r approximation of Σ wᵢ·sᵢ·Bᵢ·Aᵢ; rank defaults to the largest input rank; the worker thread changes no byte', async () => {
  const dense = (m: string) => reference(three, m)!;
  const bytesOf = (dir: string) => fs.readFileSync(path.join(dir, 'adapter_model.safetensors'));
  // default rank: the largest of the adapters' most common ranks (p2: 3 and 1 → 3)
  const res = await mergeAdapters(inputsOf(three), { method: 'svd', products: 'js', mixThreads: 0 }, path.join(tmp, 'svd'));
  const threaded = await mergeAdapters(inputsOf(three), { method: 'svd', products: 'js', mixThreads: 1 }, path.join(tmp, 'svd-thread'));
  assert.deepEqual(bytesOf(path.join(tmp, 'svd')), bytesOf(path.join(tmp, 'svd-thread')));
  assert.deepEqual(threaded.energyKept, res.energyKept);
  assert.equal(res.products, 'js');
  assert.deepEqual(res.ranks, { 'l.0.o': 2, 'l.0.q': 3, 'l.0.v': 3 });
  for (const m of MODULES) {
    const spec = SHAPES[m];
    const d = dense(m);
    const gram = Array.from({ length: spec.in }, (_, i) => Array.from({ length: spec.in }, (_, j) => {
      let s = 0;
      for (let o = 0; o < spec.out; o++) s += d[o * spec.in + i] * d[o * spec.in + j];
      return s;
    }));
    const { values, vectors } = jacobi(gram);
    const keep = (res.ranks as Record<string, number>)[m];
    const best = new Float64Array(d.length);
    for (let q = 0; q < Math.min(keep, spec.in); q++) {
      for (let o = 0; o < spec.out; o++) {
        let proj = 0;
        for (let j = 0; j < spec.in; j++) proj += d[o * spec.in + j] * vectors[q][j];
        for (let j = 0; j < spec.in; j++) best[o * spec.in + j] += proj * vectors[q][j];
      }
    }
    const mine = peftDense(path.join(tmp, 'svd'), m)!;
    assert.ok(relErr(mine, best) < 1e-10, `${m}: ${relErr(mine, best)}`);
    const total = values.reduce((s, v) => s + Math.max(v, 0), 0);
    const kept = values.slice(0, keep).reduce((s, v) => s + Math.max(v, 0), 0);
    assert.ok(Math.abs(res.energyKept.perModule[m] - kept / total) < 1e-9, `${m}: ${res.energyKept.perModule[m]} vs ${kept / total}`);
  }
  const e = Object.values(res.energyKept.perModule);
  assert.ok(e.some((x) => x < 1 - 1e-6), 'q is truncated');
  assert.equal(res.energyKept.min, Math.min(...e));
  assert.ok(Math.abs(res.energyKept.mean - e.reduce((s, x) => s + x, 0) / e.length) < 1e-15);
  const composition = JSON.parse(fs.readFileSync(path.join(tmp, 'svd', 'composition.json'), 'utf8'));
  assert.deepEqual(composition.energy_kept, { min: res.energyKept.min, mean: res.energyKept.mean });
  // a rank option: min(rank, Σ rᵢ) per module
  const r5 = await mergeAdapters(inputsOf(three), { method: 'svd', rank: 5, products: 'js' }, path.join(tmp, 'svd5'));
  assert.deepEqual(r5.ranks, { 'l.0.o': 2, 'l.0.q': 5, 'l.0.v': 3 });
  assert.equal(r5.rank, mostCommonRank([2, 5, 3]));
});

test('svd to bf16: within bf16 rounding of the best approximation; bf16 inputs stay bf16', async () => {
  const b1 = writePeft('b1', { 'l.0.q': { ...Q, r: 2 }, 'l.0.v': { ...V, r: 2 } }, { alpha: 2, seed: 21, dtype: 'BF16' });
  const b2 = writePeft('b2', { 'l.0.q': { ...Q, r: 2 }, 'l.0.v': { ...V, r: 2 } }, { alpha: 2, seed: 22, dtype: 'BF16' });
  const xs = [{ w: b1, weight: 0.5 }, { w: b2, weight: 0.5 }];
  const progress: { bytesWritten: number; bytesTotal: number }[] = [];
  const res = await mergeAdapters(inputsOf(xs), { method: 'svd', rank: 4, products: 'js', onProgress: (p) => progress.push({ ...p }) }, path.join(tmp, 'svd-bf16'));
  assert.equal(res.dtype, 'BF16');
  progressEndsAtFileSize(progress, path.join(tmp, 'svd-bf16', 'adapter_model.safetensors'));
  for (const m of ['l.0.q', 'l.0.v']) {
    const e = relErr(peftDense(path.join(tmp, 'svd-bf16'), m)!, reference(xs, m)!);
    assert.ok(e < 1e-2, `${m}: ${e}`);
    assert.ok(res.energyKept.perModule[m] > 1 - 1e-9, 'rank 4 holds all of rank ≤ 4');
  }
  const f16 = await mergeAdapters(inputsOf(xs), { method: 'cat', dtype: 'f16' }, path.join(tmp, 'cat-f16'));
  assert.equal(f16.dtype, 'F16');
  assert.ok(relErr(peftDense(path.join(tmp, 'cat-f16'), 'l.0.q')!, reference(xs, 'l.0.q')!) < 2e-3);
});

test('a weight of 0 contributes nothing: said, its modules left out; all weights 0 is refused', async () => {
  const xs = [{ w: p1, weight: 0.7 }, { w: p2, weight: -1.3 }, { w: p3, weight: 0 }];
  const res = await mergeAdapters(inputsOf(xs), { method: 'cat' }, path.join(tmp, 'zero'));
  assert.ok(res.warnings.includes('p3 has weight 0 and contributes nothing'), res.warnings.join('\n'));
  assert.deepEqual(res.ranks, { 'l.0.q': 5, 'l.0.v': 3 }, 'o only in p3: not written; q without p3');
  for (const m of ['l.0.q', 'l.0.v']) assert.ok(relErr(peftDense(path.join(tmp, 'zero'), m)!, reference(xs, m)!) < 1e-14);
  const out = path.join(tmp, 'all-zero');
  await refused(mergeAdapters(inputsOf(three.map((x) => ({ ...x, weight: 0 }))), { method: 'cat' }, out), 'merge', /every adapter has weight 0/);
  assert.ok(!fs.existsSync(out));
});

test('the inputs and options are checked before anything is read or written', async () => {
  const out = path.join(tmp, 'never');
  // inputs that do not exist: each refusal must come from the check, before any file is opened
  const ins = inputsOf(three).map((i) => ({ ...i, path: path.join(tmp, 'missing', i.name) }));
  const cases: [MergeInput[], MergeOptions, string, RegExp][] = [
    [[], { method: 'cat' }, 'merge', /nothing to merge: no adapters given/],
    [[ins[0], { ...ins[1], name: ins[0].name }], { method: 'cat' }, 'merge', /adapter "p1" is listed twice/],
    [[ins[0], { ...ins[1], weight: NaN }], { method: 'cat' }, 'non-finite', /weight of "p2" is NaN/],
    [[{ ...ins[0], weight: Infinity }], { method: 'cat' }, 'non-finite', /weight of "p1" is Infinity/],
    [[{ ...ins[0], weight: '1' as unknown as number }], { method: 'cat' }, 'non-finite', /weight of "p1" is 1/],
    [ins, { method: 'mean' as never }, 'usage', /unknown merge method "mean"/],
    [ins, { method: 'ties', density: 0 }, 'usage', /density must be a number in \(0, 1\], found 0/],
    [ins, { method: 'ties', density: 1.01 }, 'usage', /found 1\.01/],
    [ins, { method: 'ties', density: '0.5' as unknown as number }, 'usage', /found 0\.5/],
    [ins, { method: 'dare_ties', seed: -1 }, 'usage', /seed must be a non-negative integer, found -1/],
    [ins, { method: 'dare_ties', seed: 1.5 }, 'usage', /found 1\.5/],
    [ins, { method: 'svd', rank: 0 }, 'usage', /rank must be a positive integer, found 0/],
    [ins, { method: 'svd', rank: 2.5 }, 'usage', /found 2\.5/],
    // (the dtype is checked once the inputs are open)
    [inputsOf(three), { method: 'cat', dtype: 'f8' }, 'usage', /unknown dtype "f8"/],
  ];
  for (const [inputs, options, code, message] of cases) {
    const e = await refused(mergeAdapters(inputs, options, out), code, message);
    if (/method/.test(e.message)) assert.match(e.hint!, /'cat'.*'svd'.*ties, dare_linear, dare_ties, magnitude_prune/);
    if (/dtype/.test(e.message)) assert.equal(e.hint, 'use bf16, f16, f32 or f64');
    assert.ok(!fs.existsSync(out), `${e.message}: nothing written`);
  }
  // the edges that are allowed
  for (const options of [{ method: 'ties', density: 1, rank: 1 }, { method: 'dare_ties', seed: 0, density: 0.5, rank: 1 }] as MergeOptions[]) {
    await mergeAdapters(inputsOf(three), { ...options, products: 'js' }, path.join(tmp, `edge-${options.method}`));
  }
  // the same inputs with valid options do get to opening the files
  await refused(mergeAdapters(ins, { method: 'cat' }, out), 'io', /adapter not found: .*missing/);
});

test('shapes that disagree, no module in common, non-finite factors: refused with the file, nothing written', async () => {
  const out = path.join(tmp, 'never2');
  const wide = writePeft('wide', { 'l.0.q': { out: 5, in: 9, r: 2 } }, { alpha: 2, seed: 31 });
  let e = await refused(mergeAdapters(inputsOf([{ w: p1, weight: 1 }, { w: wide, weight: 1 }]), { method: 'cat' }, out), 'dimension', /module "l\.0\.q" is \[5, 9\] in wide but \[5, 4\] in p1/);
  assert.equal(e.location?.file, path.join(wide.dir, 'adapter_model.safetensors'));
  assert.equal(e.hint, 'the adapters were trained on different base models');
  // an adapter of weight 0 contributes nothing but still names the base: its shapes must agree too
  e = await refused(mergeAdapters(inputsOf([{ w: p1, weight: 0 }, { w: wide, weight: 1 }]), { method: 'cat' }, out), 'dimension', /module "l\.0\.q" is \[5, 9\] in wide but \[5, 4\] in p1/);
  assert.equal(e.location?.file, path.join(wide.dir, 'adapter_model.safetensors'));
  const other = writePeft('other', { 'l.0.k': { out: 5, in: 4, r: 2 } }, { alpha: 2, seed: 32 });
  e = await refused(mergeAdapters(inputsOf([{ w: p1, weight: 1 }, { w: other, weight: 1 }]), { method: 'cat' }, out), 'merge', /other \(peft\) and p1 \(peft\) adapt no module in common/);
  assert.equal(e.location?.file, other.dir);
  const bad = writePeft('nan', { 'l.0.q': { ...Q, r: 2 } }, { alpha: 2, seed: 33, dtype: 'F32' });
  const file = path.join(bad.dir, 'adapter_model.safetensors');
  writeFloatTensors(file, [
    { name: 'base_model.model.l.0.q.lora_A.weight', dtype: 'F32', shape: [2, 4], data: [...bad.factors['l.0.q'].A.slice(0, 7), NaN] },
    { name: 'base_model.model.l.0.q.lora_B.weight', dtype: 'F32', shape: [5, 2], data: bad.factors['l.0.q'].B },
  ]);
  for (const method of ['cat', 'svd', 'ties'] as const) {
    e = await refused(mergeAdapters(inputsOf([{ w: p1, weight: 1 }, { w: bad, weight: 1 }]), { method, products: 'js' }, out), 'non-finite', /module "l\.0\.q" has a non-finite value/);
    assert.equal(e.location?.file, file);
    assert.equal(e.hint, 'the adapter file is corrupt or was trained into overflow');
    assert.ok(!fs.existsSync(out));
  }
});

test('a composite beyond its dtype is refused with the dtype that holds it; nothing written', async () => {
  const out = path.join(tmp, 'never3');
  // cat writes √|c|·A: entries of 1e5 overflow f16 (max 65504)
  const big = writePeft('big', { 'l.0.q': { ...Q, r: 2 } }, { alpha: 2, seed: 41, scaleA: 1e6, dtype: 'F32' });
  let e = await refused(mergeAdapters(inputsOf([{ w: big, weight: 1 }]), { method: 'cat', dtype: 'f16' }, out), 'merge', /module "l\.0\.q": the composite overflows f16 \(tensor base_model\.model\.l\.0\.q\.lora_A\.weight, element \d+ is beyond ±65504 or not a number\); nothing was written/);
  assert.equal(e.hint, 'set `merge.dtype: bf16` or `f32`, or lower the weights');
  const huge = writePeft('huge', { 'l.0.q': { ...Q, r: 2 } }, { alpha: 2, seed: 42, scaleA: 1e39 });
  e = await refused(mergeAdapters(inputsOf([{ w: huge, weight: 1 }]), { method: 'cat', dtype: 'bf16' }, out), 'merge', /overflows bf16/);
  assert.equal(e.hint, 'set `merge.dtype: f64`, or lower the weights');
  e = await refused(mergeAdapters(inputsOf([{ w: huge, weight: 1 }]), { method: 'cat', dtype: 'f32' }, out), 'merge', /overflows f32/);
  assert.equal(e.hint, 'set `merge.dtype: f64`, or lower the weights');
  const edge = writePeft('edge', { 'l.0.q': { ...Q, r: 2 } }, { alpha: 2, seed: 43, scaleA: 1e308 });
  e = await refused(mergeAdapters(inputsOf([{ w: edge, weight: 1e4 }]), { method: 'cat' }, out), 'merge', /overflows f64/);
  assert.equal(e.hint, 'set inputs with finite values, or lower the weights');
  assert.ok(!fs.existsSync(out));
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('.never')), [], 'no staging folder left');
});

test('cancelled before the start, after the first module (nothing more merged) or after the last: nothing written; a throwing beforePublish leaves the output as it was', async () => {
  const out = path.join(tmp, 'cancel');
  const controller = new AbortController();
  controller.abort();
  await refused(mergeAdapters(inputsOf(three), { method: 'cat', signal: controller.signal }, out), 'cancelled', /merge cancelled/);
  assert.ok(!fs.existsSync(out));
  // cancelled after the first module: no further module is merged
  const early = new AbortController();
  const after: number[] = [];
  await refused(mergeAdapters(inputsOf(three), { method: 'cat', signal: early.signal, onProgress: (p) => (early.signal.aborted ? after.push(p.modulesDone) : p.modulesDone === 1 && early.abort()) }, out), 'cancelled', /merge cancelled/);
  assert.deepEqual(after, []);
  assert.ok(!fs.existsSync(out));
  const late = new AbortController();
  await refused(mergeAdapters(inputsOf(three), { method: 'cat', signal: late.signal, onProgress: (p) => p.modulesDone === p.modulesTotal && late.abort() }, out), 'cancelled', /merge cancelled/);
  assert.ok(!fs.existsSync(out));
  await mergeAdapters(inputsOf(three), { method: 'cat' }, out);
  const before = fs.readFileSync(path.join(out, 'adapter_model.safetensors'));
  await assert.rejects(mergeAdapters(inputsOf([{ w: p1, weight: 1 }, { w: p2, weight: 1 }]), { method: 'cat', beforePublish: () => { throw new Error('no'); } }, out), /no/);
  assert.deepEqual(fs.readFileSync(path.join(out, 'adapter_model.safetensors')), before);
});

test('a folder compose has not written is replaced only when the caller has checked it (outputChecked)', async () => {
  const folder = path.join(tmp, 'theirs');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, 'notes.txt'), 'mine');
  await refused(mergeAdapters(inputsOf([{ w: p1, weight: 1 }]), { method: 'cat' }, folder), 'io', /refusing to replace/);
  assert.equal(fs.readFileSync(path.join(folder, 'notes.txt'), 'utf8'), 'mine');
  await mergeAdapters(inputsOf([{ w: p1, weight: 1 }]), { method: 'cat', outputChecked: true }, folder);
  assert.deepEqual(fs.readdirSync(folder).sort(), ['adapter_config.json', 'adapter_model.safetensors', 'composition.json']);
});

test('library facts: an input whose bytes are not the recorded ones is refused, naming the adapter; the recorded hash passes', async () => {
  const ins = inputsOf([{ w: p1, weight: 1 }]);
  const right = sha(path.join(p1.dir, 'adapter_model.safetensors'));
  const res = await mergeAdapters([{ ...ins[0], expect: { name: 'p1', path: p1.dir, sha256: right } }], { method: 'cat' }, path.join(tmp, 'facts'));
  assert.equal(res.inputs[0].sha256, right);
  const out = path.join(tmp, 'facts-bad');
  const e = await refused(mergeAdapters([{ ...ins[0], expect: { name: 'p1', path: p1.dir, sha256: '0'.repeat(64) } }], { method: 'cat', libraryUri: 'lib' }, out), 'library', /adapter `p1` changed since it was added to the library/);
  assert.equal(e.location?.file, path.join(p1.dir, 'adapter_model.safetensors'));
  assert.ok(!fs.existsSync(out));
});

test('modules_to_save: refused by default, dropped, or averaged with the weights renormalised over the holders', async () => {
  const head = (seed: number) => {
    const u = seededRandom(seed);
    return { 'head.weight': { shape: [2, 3], data: Array.from({ length: 6 }, () => u() - 0.5) }, 'head.bias': { shape: [2], data: [u(), u()] } };
  };
  const h1 = writePeft('h1', { 'l.0.q': { ...Q, r: 2 } }, { alpha: 2, seed: 51, extra: head(1) });
  const h2 = writePeft('h2', { 'l.0.q': { ...Q, r: 2 } }, { alpha: 2, seed: 52, extra: head(2) });
  const xs = [{ w: h1, weight: 0.25 }, { w: h2, weight: 0.5 }, { w: p1, weight: 0.25 }];
  const never = path.join(tmp, 'never4');
  const why = await refused(mergeAdapters(inputsOf(xs), { method: 'cat' }, never), 'unsupported-adapter', /h1, h2 carry full replacement weights \(modules_to_save: head\.bias, head\.weight\)/);
  assert.equal(why.location?.file, h1.dir, 'the first holder is named');
  const dropped = await mergeAdapters(inputsOf(xs), { method: 'cat', modulesToSave: 'drop' }, path.join(tmp, 'mts-drop'));
  assert.deepEqual(dropped.modulesToSave, { policy: 'drop', names: [] });
  assert.ok(dropped.warnings.includes('modules_to_save dropped: head.bias, head.weight'), dropped.warnings.join('\n'));
  assert.ok(![...SafetensorsFile.open(path.join(tmp, 'mts-drop', 'adapter_model.safetensors')).tensors.keys()].some((k) => k.includes('head')));

  const out = path.join(tmp, 'mts-avg');
  const res = await mergeAdapters(inputsOf(xs), { method: 'cat', modulesToSave: 'average' }, out);
  assert.deepEqual(res.modulesToSave, { policy: 'average', names: ['head.bias', 'head.weight'] });
  assert.ok(res.warnings.includes('modules_to_save averaged with the merge weights (renormalised over the adapters that have them): head.bias, head.weight'));
  assert.ok(!res.warnings.some((w) => /textual-inversion/.test(w)), 'modules_to_save tensors are not tokens');
  const st = SafetensorsFile.open(path.join(out, 'adapter_model.safetensors'));
  for (const key of ['head.weight', 'head.bias']) {
    const x = head(1)[key as 'head.bias'].data, y = head(2)[key as 'head.bias'].data;
    const got = st.readFloat64(`base_model.model.${key}`);
    assert.deepEqual(st.info(`base_model.model.${key}`).shape, head(1)[key as 'head.bias'].shape);
    assert.equal(st.info(`base_model.model.${key}`).dtype, 'F64');
    x.forEach((v, k) => assert.ok(Math.abs(got[k] - (0.25 * v + 0.5 * y[k]) / 0.75) < 1e-15, `${key}[${k}]`));
  }
  const config = JSON.parse(fs.readFileSync(path.join(out, 'adapter_config.json'), 'utf8'));
  assert.deepEqual(config.modules_to_save, ['head']);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'composition.json'), 'utf8')).modules_to_save, { policy: 'average', names: ['head.bias', 'head.weight'] });
  assert.ok(relErr(peftDense(out, 'l.0.q')!, reference(xs, 'l.0.q')!) < 1e-14);

  // the holders' weights summing to 0 cannot be averaged; shapes must agree; only PEFT can hold them
  await refused(mergeAdapters(inputsOf([{ w: h1, weight: 1 }, { w: h2, weight: -1 }, { w: p1, weight: 1 }]), { method: 'cat', modulesToSave: 'average' }, never), 'merge', /cannot average modules_to_save tensor "head\.bias": the weights of the adapters that have it sum to 0/);
  const h3 = writePeft('h3', { 'l.0.q': { ...Q, r: 2 } }, { alpha: 2, seed: 53, extra: { 'head.weight': { shape: [3, 2], data: [1, 2, 3, 4, 5, 6] } } });
  const e = await refused(mergeAdapters(inputsOf([{ w: h1, weight: 1 }, { w: h3, weight: 1 }]), { method: 'cat', modulesToSave: 'average' }, never), 'dimension', /modules_to_save tensor "head\.weight" has shape \[3, 2\] in h3 but \[2, 3\] elsewhere/);
  assert.equal(e.location?.file, path.join(h3.dir, 'adapter_model.safetensors'));
  const k = await refused(mergeAdapters(inputsOf(xs), { method: 'cat', modulesToSave: 'average', layout: 'mlx' }, never), 'merge', /modules_to_save can only be written in the PEFT layout, not mlx/);
  assert.equal(k.hint, 'use modules_to_save: drop');
  assert.ok(!fs.existsSync(never));
  // an adapter holding only some of the tensors: each averaged over its own holders
  const h4 = writePeft('h4', { 'l.0.q': { ...Q, r: 2 } }, { alpha: 2, seed: 54, extra: { 'head.bias': { shape: [2], data: [10, 20] } } });
  const part = await mergeAdapters(inputsOf([{ w: h1, weight: 1 }, { w: h4, weight: 3 }]), { method: 'cat', modulesToSave: 'average' }, path.join(tmp, 'mts-part'));
  assert.deepEqual(part.modulesToSave.names, ['head.bias', 'head.weight']);
  const pst = SafetensorsFile.open(path.join(tmp, 'mts-part', 'adapter_model.safetensors'));
  assert.deepEqual([...pst.readFloat64('base_model.model.head.weight')], head(1)['head.weight'].data);
  const b = head(1)['head.bias'].data;
  assert.deepEqual([...pst.readFloat64('base_model.model.head.bias')], [(b[0] + 30) / 4, (b[1] + 60) / 4]);
  // holders of different tensors, the later name first: the names are sorted
  const h5 = writePeft('h5', { 'l.0.q': { ...Q, r: 2 } }, { alpha: 2, seed: 55, extra: { 'head.weight': { shape: [1], data: [1] } } });
  const sorted = await mergeAdapters(inputsOf([{ w: h5, weight: 1 }, { w: h4, weight: 1 }]), { method: 'cat', modulesToSave: 'drop' }, path.join(tmp, 'mts-sorted'));
  assert.ok(sorted.warnings.includes('modules_to_save dropped: head.bias, head.weight'), sorted.warnings.join('\n'));
});

test('layout: MLX on request pads every module to the largest rank with ΔW unchanged; an MLX input (transposed factors) merges back exactly', async () => {
  const out = path.join(tmp, 'mlx');
  const res = await mergeAdapters(inputsOf(three), { method: 'cat', layout: 'mlx' }, out);
  assert.equal(res.layout, 'mlx');
  assert.deepEqual(res.ranks, { 'l.0.o': 7, 'l.0.q': 7, 'l.0.v': 7 });
  const back = openAdapter(out);
  assert.equal(back.format, 'mlx');
  const st = SafetensorsFile.open(path.join(out, 'adapters.safetensors'));
  assert.deepEqual(st.info('l.0.v.lora_a').shape, [V.in, 7]);
  assert.deepEqual(st.info('l.0.v.lora_b').shape, [7, V.out]);
  for (const m of MODULES) assert.ok(relErr(deltaOf(back, m), reference(three, m)!) < 1e-14, m);
  assert.deepEqual(res.files.map((f) => f.path), ['adapter_config.json', 'adapters.safetensors', 'composition.json']);
  // MLX in (factors stored transposed): cat and an exact svd give back the same ΔW in PEFT
  for (const method of ['cat', 'svd'] as const) {
    const again = path.join(tmp, `from-mlx-${method}`);
    // two formats in: PEFT out unless told otherwise
    const r = await mergeAdapters([{ name: 'mlx', path: out, weight: 0.5 }, { name: 'p1', path: p1.dir, weight: 1 }], { method, rank: 8, products: 'js' }, again);
    assert.equal(r.layout, 'peft');
    for (const m of MODULES) {
      const ref = reference([...three.map((x) => ({ ...x, weight: x.weight * 0.5 })), { w: p1, weight: 1 }], m)!;
      assert.ok(relErr(peftDense(again, m)!, ref) < 1e-12, `${method} ${m}: ${relErr(peftDense(again, m)!, ref)}`);
    }
  }
});

test('entry-wise methods: rank min(r, out, in) per module; linear at density 1 is the weighted sum; the parameters are recorded', async () => {
  const out = path.join(tmp, 'ties');
  const res = await mergeAdapters(inputsOf(three), { method: 'dare_linear', density: 1, rank: 3, dtype: 'f64', products: 'js' }, out);
  assert.deepEqual(res.ranks, { 'l.0.o': Math.min(3, O.out, O.in), 'l.0.q': Math.min(3, Q.out, Q.in), 'l.0.v': Math.min(3, V.out, V.in) });
  assert.deepEqual({ ...res.entrywise, relativeError: undefined, route: undefined }, { density: 1, seed: 0, normalize: false, relativeError: undefined, route: undefined });
  for (const m of ['l.0.o', 'l.0.v']) {
    // o is rank 2 ≤ min(7, 2), v has 2 rows: both held exactly
    assert.ok(relErr(peftDense(out, m)!, reference(three, m)!) < 1e-12, `${m}`);
    assert.ok(res.entrywise!.relativeError[m] < 1e-12);
    assert.ok(Math.abs(res.energyKept.perModule[m] - 1) < 1e-12);
  }
  const q = relErr(peftDense(out, 'l.0.q')!, reference(three, 'l.0.q')!);
  assert.ok(Math.abs(q - res.entrywise!.relativeError['l.0.q']) < 1e-9, `reported ${res.entrywise!.relativeError['l.0.q']} vs ${q}`);
  assert.ok(Math.abs(res.energyKept.perModule['l.0.q'] - (1 - q * q)) < 1e-9, 'energy kept = 1 − relative error²');
  const composition = JSON.parse(fs.readFileSync(path.join(out, 'composition.json'), 'utf8'));
  assert.deepEqual([composition.density, composition.seed, composition.normalize], [1, 0, false]);
  assert.equal(composition.relative_error_max, Math.max(...Object.values(res.entrywise!.relativeError)));
  assert.deepEqual(Object.keys(res.entrywise!.route).sort(), MODULES);
  // defaults: density 0.2, seed 0, normalize false; a given seed and normalize are recorded
  const d = await mergeAdapters(inputsOf(three), { method: 'ties', products: 'js' }, path.join(tmp, 'ties-default'));
  assert.deepEqual([d.entrywise!.density, d.entrywise!.seed, d.entrywise!.normalize], [0.2, 0, false]);
  const s = await mergeAdapters(inputsOf(three), { method: 'dare_ties', seed: 9, normalize: true, products: 'js' }, path.join(tmp, 'dare-seed'));
  assert.deepEqual([s.entrywise!.seed, s.entrywise!.normalize], [9, true]);
  assert.equal(d.method, 'ties');
  // the truncation route asked for is the one taken
  const rnd = await mergeAdapters(inputsOf(three), { method: 'ties', rank: 2, truncation: 'randomized', products: 'js' }, path.join(tmp, 'ties-randomized'));
  assert.deepEqual(Object.values(rnd.entrywise!.route), ['randomized', 'randomized', 'randomized']);
  assert.equal(d.energyKept.min, Math.min(...Object.values(d.energyKept.perModule)));
});

test('kohya layout where one module\'s tensors are not written back to back (l.0, then l.0.b between its alpha and its factors): each module keeps its own factors', async () => {
  const nested = writePeft('nested', { 'l.0': { out: 4, in: 3, r: 2 }, 'l.0.b': { out: 4, in: 3, r: 2 } }, { alpha: 2, seed: 61 });
  const nested2 = writePeft('nested2', { 'l.0': { out: 4, in: 3, r: 1 }, 'l.0.b': { out: 4, in: 3, r: 1 } }, { alpha: 3, seed: 62 });
  const xs = [{ w: nested, weight: 0.5 }, { w: nested2, weight: -2 }];
  const out = path.join(tmp, 'kohya-nested');
  const progress: { bytesWritten: number; bytesTotal: number }[] = [];
  const res = await mergeAdapters(inputsOf(xs), { method: 'cat', layout: 'kohya', dtype: 'f16', onProgress: (p) => progress.push({ ...p }) }, out);
  assert.equal(res.layout, 'kohya');
  // f16 factors and f32 alphas
  progressEndsAtFileSize(progress, path.join(out, 'adapter_model.safetensors'));
  const keys = [...SafetensorsFile.open(path.join(out, 'adapter_model.safetensors')).tensors.keys()];
  assert.ok(keys.indexOf('l.0.b.lora_up.weight') < keys.indexOf('l.0.lora_down.weight') && keys.indexOf('l.0.alpha') < keys.indexOf('l.0.b.alpha'), keys.join(' '));
  const back = openAdapter(out);
  assert.equal(back.format, 'kohya');
  for (const m of ['l.0', 'l.0.b']) assert.ok(relErr(deltaOf(back, m), reference(xs, m)!) < 2e-3, `${m}: ${relErr(deltaOf(back, m), reference(xs, m)!)}`);
  assert.deepEqual(res.files.map((f) => f.path), ['adapter_model.safetensors', 'composition.json'], 'kohya has no config file');
});

test('svd where the tensors\' order is not the modules\' name order (l.0.b before l.0 in PEFT keys): each module is still its own merge', async () => {
  const specs = { 'l.0': { out: 4, in: 3, r: 2 }, 'l.0.b': { out: 4, in: 3, r: 2 }, 'l.1': { out: 4, in: 3, r: 2 } };
  const xs = [{ w: writePeft('order1', specs, { alpha: 2, seed: 65 }), weight: 0.5 }, { w: writePeft('order2', specs, { alpha: 2, seed: 66 }), weight: -1 }];
  const out = path.join(tmp, 'svd-order');
  // rank 4 = Σ rᵢ: the svd is exact, so each module must be its own Σ wᵢ·sᵢ·Bᵢ·Aᵢ
  await mergeAdapters(inputsOf(xs), { method: 'svd', rank: 4, products: 'js' }, out);
  for (const m of Object.keys(specs)) assert.ok(relErr(peftDense(out, m)!, reference(xs, m)!) < 1e-12, `${m}: ${relErr(peftDense(out, m)!, reference(xs, m)!)}`);
});

test('an input rewritten while it is merged is refused (its pinned file changed); nothing is published', async () => {
  const copy = writePeft('changing', { 'l.0.q': { ...Q, r: 2 } }, { alpha: 2, seed: 71 });
  const file = path.join(copy.dir, 'adapter_model.safetensors');
  const out = path.join(tmp, 'changed');
  const e = await refused(mergeAdapters(inputsOf([{ w: p1, weight: 1 }, { w: copy, weight: 1 }]), {
    method: 'cat',
    onProgress: (p) => {
      if (p.modulesDone === p.modulesTotal) {
        const bytes = fs.readFileSync(file);
        const later = new Date(fs.statSync(file).mtimeMs + 5000);
        fs.writeFileSync(file, bytes);
        fs.utimesSync(file, later, later);
      }
    },
  }, out), 'io', /was modified while it was being merged/);
  assert.equal(e.location?.file, file);
  assert.ok(!fs.existsSync(out));
});

test('cloneofsimo inputs: a cloneofsimo composite of Σ wᵢ·Bᵢ·Aᵢ (scale 1); textual-inversion tokens are said, not merged', async () => {
  const u = seededRandom(81);
  const write = (name: string, tokens: boolean) => {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir, { recursive: true });
    const A = Array.from({ length: 2 * 3 }, () => u() - 0.5), B = Array.from({ length: 4 * 2 }, () => u() - 0.5);
    writeFloatTensors(path.join(dir, 'lora.safetensors'), [
      { name: 'unet:0:down', dtype: 'F32', shape: [2, 3], data: A.map(Math.fround) },
      { name: 'unet:0:up', dtype: 'F32', shape: [4, 2], data: B.map(Math.fround) },
      ...(tokens ? ['<cat-toy>', '<dog-toy>'].map((name) => ({ name, dtype: 'F32' as const, shape: [3], data: [1, 2, 3] })) : []),
    ], { unet: '["CrossAttention"]', ...(tokens ? { '<cat-toy>': '<embed>', '<dog-toy>': '<embed>' } : {}) });
    return { dir, A: A.map(Math.fround), B: B.map(Math.fround) };
  };
  const c1 = write('c1', true), c2 = write('c2', false);
  const out = path.join(tmp, 'cloneofsimo');
  const res = await mergeAdapters([{ name: 'c1', path: c1.dir, weight: 0.5 }, { name: 'c2', path: c2.dir, weight: -2 }], { method: 'cat', dtype: 'f64' }, out);
  assert.equal(res.layout, 'cloneofsimo');
  assert.deepEqual(res.warnings, ['c1: textual-inversion tokens <cat-toy>, <dog-toy> are not merged (they name new tokens, not weight updates)']);
  const ref = new Float64Array(4 * 3);
  for (const [c, w] of [[c1, 0.5], [c2, -2]] as const) for (let i = 0; i < 4; i++) for (let q = 0; q < 2; q++) for (let j = 0; j < 3; j++) ref[i * 3 + j] += w * c.B[i * 2 + q] * c.A[q * 3 + j];
  const back = openAdapter(out);
  assert.equal(back.format, 'cloneofsimo');
  assert.deepEqual(back.extras, [], 'the tokens are not written');
  assert.ok(relErr(deltaOf(back, 'unet:0'), ref) < 1e-14);
});

test('the cloneofsimo layout asked for named modules (PEFT inputs) is refused before anything is written; a PEFT composite is what they can have', async () => {
  // its keys are positions (<component>:<i>); a composite of named modules written that way could not be read back
  const out = path.join(tmp, 'peft-as-cloneofsimo');
  const e = await refused(mergeAdapters(inputsOf(three), { method: 'cat', layout: 'cloneofsimo' }, out), 'usage', /module "l\.0\.q" has no position: the cloneofsimo \(lora_diffusion\) layout/);
  assert.match(e.hint ?? '', /PEFT/);
  assert.ok(!fs.existsSync(out));
  const peft = await mergeAdapters(inputsOf(three), { method: 'cat', layout: 'peft' }, out);
  assert.equal(openAdapter(out).format, 'peft');
  assert.equal(peft.layout, 'peft');
});

test('entry-wise edges against the dense reference: weights summing to 0 under normalize, a density that keeps no entry, every method at full rank', async () => {
  // the reference of the published algorithms (entrywiseReference.ts) on the factors written here
  const ref = (xs: { w: Written; weight: number }[], module: string, o: Omit<RefOptions, 'module'>) => {
    const having = xs.filter((x) => x.w.factors[module]);
    const deltas = having.map((x) => reference([{ w: x.w, weight: x.weight }], module)!);
    return referenceMerge(deltas, having.map((x) => path.basename(x.w.dir)), having.map((x) => x.weight), { ...o, module });
  };
  const cases: [{ w: Written; weight: number }[], Omit<RefOptions, 'module'>][] = [
    // Σ wᵢ = 0: normalize divides by 1, not by 0
    [[{ w: p1, weight: 1 }, { w: p2, weight: -1 }], { method: 'dare_linear', density: 0.7, seed: 3, normalize: true }],
    [[{ w: p1, weight: 1 }, { w: p2, weight: -1 }], { method: 'magnitude_prune', density: 0.5, seed: 0, normalize: true }],
    // ⌊density·m·n⌋ = 0: nothing kept
    [three, { method: 'ties', density: 0.01, seed: 0, normalize: false }],
    ...(['ties', 'dare_linear', 'dare_ties', 'magnitude_prune'] as const).map((method) => [three, { method, density: 0.45, seed: 5, normalize: true }] as [typeof three, Omit<RefOptions, 'module'>]),
  ];
  for (const [i, [xs, o]] of cases.entries()) {
    const out = path.join(tmp, `ew-${i}`);
    const res = await mergeAdapters(inputsOf(xs), { ...o, rank: 8, dtype: 'f64', products: 'js' }, out);
    for (const m of Object.keys(res.ranks)) {
      const expected = ref(xs, m, o);
      const got = peftDense(out, m)!;
      const zero = expected.every((v) => v === 0);
      assert.ok(zero ? got.every((v) => v === 0) : relErr(got, expected) < 1e-12, `${o.method} ${JSON.stringify(o)} ${m}: ${relErr(got, expected)}`);
    }
  }
});

test('an entry-wise merge cancelled while a module is being trimmed stops there', async () => {
  let calls = 0;
  let signal = new AbortController();
  // products that cancel the merge during the first adapter's block of the first module
  const products: PanelProducts = { ...jsProducts, name: 'cancelling', combine: (...args) => { calls++; signal.abort(); return jsProducts.combine(...args); } };
  const out = path.join(tmp, 'ew-cancel');
  // the first module (o) has one adapter: stopped before its merge pass; then (p1 and p2: q first) before the second adapter's trim
  for (const xs of [three, [{ w: p1, weight: 1 }, { w: p2, weight: 1 }]]) {
    const controller = new AbortController();
    calls = 0;
    signal = controller;
    await refused(mergeAdapters(inputsOf(xs), { method: 'ties', products, signal: controller.signal }, out), 'cancelled', /merge cancelled/);
    assert.equal(calls, 1, 'nothing more is computed');
    assert.ok(!fs.existsSync(out));
  }
});

test('plan: modules in name order whatever the inputs\' order; fan_in_fan_out and base-model warnings name the right adapters', async () => {
  const s1 = writePeft('s1', { 'm.5': { out: 2, in: 2, r: 1 }, 'm.9': { out: 2, in: 2, r: 1 } }, { alpha: 1, seed: 91, fanInFanOut: true });
  const s2 = writePeft('s2', { 'm.1': { out: 2, in: 2, r: 1 }, 'm.7': { out: 2, in: 2, r: 1 }, 'm.9': { out: 2, in: 2, r: 1 } }, { alpha: 1, seed: 92 });
  const s3 = writePeft('s3', { 'm.0': { out: 2, in: 2, r: 1 }, 'm.3': { out: 2, in: 2, r: 1 }, 'm.5': { out: 2, in: 2, r: 1 } }, { alpha: 1, seed: 93, fanInFanOut: true });
  const res = await mergeAdapters(inputsOf([{ w: s1, weight: 1 }, { w: s2, weight: 1 }, { w: s3, weight: 1 }]), { method: 'cat' }, path.join(tmp, 'order'));
  assert.deepEqual(Object.keys(res.ranks), ['m.0', 'm.1', 'm.3', 'm.5', 'm.7', 'm.9']);
  // the first input says fan_in_fan_out: the one that does not is named
  assert.deepEqual(res.warnings, ['s2 and s1 disagree on fan_in_fan_out; the output uses true when any input does (PEFT forces it for Conv1D layers anyway)']);
  // an adapter that names no base model is no second base
  const nobase = path.join(tmp, 'nobase');
  fs.cpSync(p1.dir, nobase, { recursive: true });
  const config = JSON.parse(fs.readFileSync(path.join(nobase, 'adapter_config.json'), 'utf8'));
  delete config.base_model_name_or_path;
  fs.writeFileSync(path.join(nobase, 'adapter_config.json'), JSON.stringify(config));
  const r = await mergeAdapters([{ name: 'nobase', path: nobase, weight: 1 }, { name: 'p3', path: p3.dir, weight: 1 }], { method: 'cat' }, path.join(tmp, 'nobase-out'));
  assert.deepEqual(r.warnings, []);
});

test('no refused, cancelled or failed merge above left a staging folder behind', () => {
  // staging folders are `.<output>.tmp-…` beside the output (atomicFolder.ts); every output here is in tmp
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('.')), []);
});
