import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ComposerError } from '../../server/src/engine/errors';
import { createMatMulEngine } from '../../server/src/engine/onnx/matmul';
import { deltaOf } from '../../server/src/engine/lora/adapter';
import { openAdapter } from '../../server/src/engine/lora/formats';
import { jsProducts, ortProducts } from '../../server/src/engine/lora/panelProducts';
import { truncatedProduct } from '../../server/src/engine/lora/truncatedProduct';
import { mergeAdapters, readComposite } from '../../server/src/engine/lora/merge';
import { SafetensorsFile, writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { seededRandom } from '../../server/src/engine/random';
import { peftDense } from './peftReference';
import { REAL_LORAS } from '../sharedData';
import { jacobi, relErr } from './denseReference';

const REAL = REAL_LORAS;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lora-merge-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const rng = (seed: number): (() => number) => {
  const uniform = seededRandom(seed);
  return () => uniform() - 0.5; // centred: factor entries of both signs
};

/** Raw PEFT factors of one module with their scale (test-side reading, from the config). */
function peftFactors(dir: string, module: string): { A: Float64Array; B: Float64Array; r: number; m: number; n: number; s: number } | undefined {
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
  const st = SafetensorsFile.open(path.join(dir, 'adapter_model.safetensors'));
  const aKey = `base_model.model.${module}.lora_A.weight`;
  if (!st.tensors.has(aKey)) return undefined;
  const [r, n] = st.info(aKey).shape;
  const m = st.info(`base_model.model.${module}.lora_B.weight`).shape[0];
  const alpha = config.alpha_pattern?.[module] ?? config.lora_alpha;
  return { A: st.readFloat64(aKey), B: st.readFloat64(`base_model.model.${module}.lora_B.weight`), r, m, n, s: config.use_rslora ? alpha / Math.sqrt(r) : alpha / r };
}

/**
 * ‖ΣcₖBₖAₖ‖_F² without the dense matrix: Σₖₗ cₖcₗ·trace((BₖᵀBₗ)(AₗAₖᵀ)). Used to check the composite
 * against Σ wᵢsᵢBᵢAᵢ on every module cheaply (the dense check runs on a few).
 */
function factoredRelErr(mine: NonNullable<ReturnType<typeof peftFactors>>, refs: { f: NonNullable<ReturnType<typeof peftFactors>>; w: number }[]): number {
  const terms = [{ f: mine, c: mine.s }, ...refs.map((x) => ({ f: x.f, c: -x.w * x.f.s }))];
  const inner = (x: typeof mine, y: typeof mine) => {
    // trace((BxᵀBy)(AyAxᵀ)) = Σ_{p,q} (BxᵀBy)[p][q]·(AxAyᵀ)[p][q]
    let sum = 0;
    for (let p = 0; p < x.r; p++) for (let q = 0; q < y.r; q++) {
      let bb = 0;
      for (let i = 0; i < x.m; i++) bb += x.B[i * x.r + p] * y.B[i * y.r + q];
      let aa = 0;
      for (let j = 0; j < x.n; j++) aa += x.A[p * x.n + j] * y.A[q * y.n + j];
      sum += bb * aa;
    }
    return sum;
  };
  let diff = 0, ref = 0;
  for (const a of terms) for (const b of terms) diff += a.c * b.c * inner(a.f, b.f);
  for (const a of terms.slice(1)) for (const b of terms.slice(1)) ref += a.c * b.c * inner(a.f, b.f);
  return Math.sqrt(Math.max(diff, 0) / ref);
}

function weightedDense(inputs: { path: string; weight: number }[], module: string, size: number): Float64Array {
  const sum = new Float64Array(size);
  for (const i of inputs) {
    const d = peftDense(i.path, module);
    if (d) for (let k = 0; k < size; k++) sum[k] += i.weight * d[k];
  }
  return sum;
}


function modulesOf(dir: string): string[] {
  const st = SafetensorsFile.open(path.join(dir, 'adapter_model.safetensors'));
  return [...st.tensors.keys()].filter((k) => k.endsWith('.lora_A.weight')).map((k) => k.slice('base_model.model.'.length, -'.lora_A.weight'.length));
}

const gpt2 = [
  { name: 'tigrinya', path: `${REAL}/peft-gpt2/tigrinya-causal-lm`, weight: 0.65 },
  { name: 'gradience', path: `${REAL}/peft-gpt2/dialogpt-small-synthetic-gradience`, weight: -0.35 },
];

test('cat merge of the two real GPT-2 adapters reproduces Σ wᵢ·sᵢ·Bᵢ·Aᵢ (float32, rel err ≤ 1e-6), read back as PEFT', async () => {
  const out = path.join(tmp, 'gpt2-cat');
  const res = await mergeAdapters(gpt2, { method: 'cat', products: 'js' }, out);
  assert.equal(res.dtype, 'F32');
  assert.equal(res.layout, 'peft');
  const modules = modulesOf(out);
  assert.equal(modules.length, 36);
  assert.equal(res.ranks['transformer.h.0.attn.c_attn'], 16);
  assert.equal(res.ranks['transformer.h.11.mlp.c_proj'], 8);
  for (const m of modules) {
    const refs = gpt2.map((g) => ({ f: peftFactors(g.path, m)!, w: g.weight })).filter((x) => x.f);
    const err = factoredRelErr(peftFactors(out, m)!, refs);
    assert.ok(err <= 1e-6, `${m}: ${err}`);
  }
  for (const m of ['transformer.h.0.attn.c_attn', 'transformer.h.4.attn.c_proj', 'transformer.h.9.mlp.c_proj']) {
    const mine = peftDense(out, m)!;
    const ref = weightedDense(gpt2, m, mine.length);
    assert.ok(relErr(mine, ref) <= 1e-6, `${m}: ${relErr(mine, ref)}`);
  }
  // our own reader sees a valid PEFT adapter with scale 1 and the same ΔW
  const back = readComposite(out);
  assert.equal(back.format, 'peft');
  for (const m of back.modules.values()) assert.equal(m.scale, 1);
  const d = deltaOf(back, 'transformer.h.3.attn.c_attn');
  assert.ok(relErr(d, weightedDense(gpt2, 'transformer.h.3.attn.c_attn', d.length)) <= 1e-6);
  assert.deepEqual(res.files.map((f) => f.path), ['adapter_config.json', 'adapter_model.safetensors', 'composition.json']);
  assert.ok(res.warnings.some((w) => /different base models/.test(w)));
});

test('svd merge of the real GPT-2 adapters: truncation error equals the dropped energy (Eckart–Young), JS and ORT agree', async () => {
  const engine = await createMatMulEngine({ provider: 'cpu' });
  try {
    const results = [];
    for (const products of [jsProducts, ortProducts(engine)]) {
      const out = path.join(tmp, `gpt2-svd-${products.name}`);
      const res = await mergeAdapters(gpt2, { method: 'svd', rank: 8, products }, out);
      results.push({ out, res });
      for (const m of ['transformer.h.0.attn.c_attn', 'transformer.h.5.attn.c_proj']) {
        const mine = peftDense(out, m)!;
        const ref = weightedDense(gpt2, m, mine.length);
        let total = 0, err = 0;
        for (let k = 0; k < ref.length; k++) {
          total += ref[k] ** 2;
          err += (ref[k] - mine[k]) ** 2;
        }
        const kept = res.energyKept.perModule[m];
        assert.ok(kept > 0.5 && kept < 1, `${m} kept ${kept}`);
        // ‖ΔW − ΔW_r‖² = Σ dropped σ² for the optimal rank-r truncation
        assert.ok(Math.abs(err / total - (1 - kept)) < 1e-5, `${m}: ${err / total} vs ${1 - kept}`);
      }
      // single-adapter modules have rank 8 ≤ r: reproduced exactly
      const solo = peftDense(out, 'transformer.h.11.mlp.c_proj')!;
      assert.ok(relErr(solo, weightedDense(gpt2, 'transformer.h.11.mlp.c_proj', solo.length)) < 1e-6);
      assert.equal(res.energyKept.perModule['transformer.h.11.mlp.c_proj'], 1);
    }
    for (const m of Object.keys(results[0].res.energyKept.perModule)) {
      assert.ok(Math.abs(results[0].res.energyKept.perModule[m] - results[1].res.energyKept.perModule[m]) < 1e-9);
    }
    const a = peftDense(results[0].out, 'transformer.h.2.attn.c_attn')!;
    const b = peftDense(results[1].out, 'transformer.h.2.attn.c_attn')!;
    assert.ok(relErr(a, b) < 1e-6);
  } finally {
    await engine.dispose();
  }
});

test('roberta checkpoints: modules_to_save refused by default, dropped or averaged on request', async () => {
  const inputs = [
    { name: 'epoch1', path: `${REAL}/peft-roberta-mrpc/checkpoint-230`, weight: 0.25 },
    { name: 'epoch2', path: `${REAL}/peft-roberta-mrpc/checkpoint-460`, weight: 0.75 },
  ];
  await assert.rejects(mergeAdapters(inputs, { method: 'cat' }, path.join(tmp, 'rob-refused')), (e: unknown) => {
    assert.ok(e instanceof ComposerError);
    assert.equal(e.code, 'unsupported-adapter');
    assert.match(e.message, /modules_to_save: classifier\.dense\.bias/);
    assert.match(e.hint!, /drop.*average/);
    return true;
  });
  assert.ok(!fs.existsSync(path.join(tmp, 'rob-refused')));

  const dropped = await mergeAdapters(inputs, { method: 'cat', modulesToSave: 'drop', products: 'js' }, path.join(tmp, 'rob-drop'));
  assert.deepEqual(dropped.modulesToSave.names, []);
  const dst = SafetensorsFile.open(path.join(tmp, 'rob-drop', 'adapter_model.safetensors'));
  assert.ok(![...dst.tensors.keys()].some((k) => k.includes('classifier')));
  for (const m of modulesOf(path.join(tmp, 'rob-drop'))) {
    const err = factoredRelErr(peftFactors(path.join(tmp, 'rob-drop'), m)!, inputs.map((x) => ({ f: peftFactors(x.path, m)!, w: x.weight })));
    assert.ok(err <= 1e-6, `${m}: ${err}`);
  }
  const mine = peftDense(path.join(tmp, 'rob-drop'), 'roberta.encoder.layer.7.attention.self.value')!;
  assert.ok(relErr(mine, weightedDense(inputs, 'roberta.encoder.layer.7.attention.self.value', mine.length)) <= 1e-6);

  const averaged = await mergeAdapters(inputs, { method: 'svd', rank: 8, modulesToSave: 'average', products: 'js' }, path.join(tmp, 'rob-avg'));
  assert.equal(averaged.modulesToSave.names.length, 4);
  const ast = SafetensorsFile.open(path.join(tmp, 'rob-avg', 'adapter_model.safetensors'));
  const got = ast.readFloat64('base_model.model.classifier.dense.weight');
  const x = SafetensorsFile.open(`${inputs[0].path}/adapter_model.safetensors`).readFloat64('base_model.model.classifier.dense.weight');
  const y = SafetensorsFile.open(`${inputs[1].path}/adapter_model.safetensors`).readFloat64('base_model.model.classifier.dense.weight');
  for (let k = 0; k < got.length; k += 997) assert.ok(Math.abs(got[k] - Math.fround(0.25 * x[k] + 0.75 * y[k])) <= 1e-7 * (1 + Math.abs(got[k])));
  const config = JSON.parse(fs.readFileSync(path.join(tmp, 'rob-avg', 'adapter_config.json'), 'utf8'));
  assert.deepEqual(config.modules_to_save, ['classifier', 'score']);
  assert.equal(readComposite(path.join(tmp, 'rob-avg')).extras.length, 4);
});

// ------------------------------------------------------------------------------------------
// Small random adapters against an independent dense truncated SVD.


function writePeft(dir: string, modules: Record<string, { out: number; in: number; r: number }>, alpha: number, seed: number, dtype: 'F32' | 'F64' | 'BF16' = 'F64') {
  const r = rng(seed);
  fs.mkdirSync(dir, { recursive: true });
  const tensors = [];
  const ranks = new Set(Object.values(modules).map((m) => m.r));
  const rank = [...ranks][0];
  for (const [name, m] of Object.entries(modules)) {
    tensors.push({ name: `base_model.model.${name}.lora_A.weight`, dtype, shape: [m.r, m.in], data: Array.from({ length: m.r * m.in }, r) });
    tensors.push({ name: `base_model.model.${name}.lora_B.weight`, dtype, shape: [m.out, m.r], data: Array.from({ length: m.out * m.r }, r) });
  }
  writeFloatTensors(path.join(dir, 'adapter_model.safetensors'), tensors);
  const rankPattern: Record<string, number> = {};
  for (const [name, m] of Object.entries(modules)) if (m.r !== rank) rankPattern[name] = m.r;
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: rank, lora_alpha: alpha, rank_pattern: rankPattern, target_modules: ['q', 'v'], base_model_name_or_path: 'toy' }));
}

test('svd on small random adapters equals the dense truncated SVD (singular values and rank-r reconstruction)', async () => {
  const shapes = { 'l.0.q': { out: 23, in: 17, r: 3 }, 'l.0.v': { out: 9, in: 31, r: 3 } };
  writePeft(path.join(tmp, 'r1'), shapes, 6, 1);
  writePeft(path.join(tmp, 'r2'), { 'l.0.q': { out: 23, in: 17, r: 4 }, 'l.0.v': { out: 9, in: 31, r: 4 } }, 4, 2);
  writePeft(path.join(tmp, 'r3'), { 'l.0.q': { out: 23, in: 17, r: 2 } }, 5, 3);
  const inputs = [
    { name: 'r1', path: path.join(tmp, 'r1'), weight: 0.5 },
    { name: 'r2', path: path.join(tmp, 'r2'), weight: -0.8 },
    { name: 'r3', path: path.join(tmp, 'r3'), weight: 0.3 },
  ];
  for (const rank of [1, 4, 6]) {
    const out = path.join(tmp, `rsvd-${rank}`);
    const res = await mergeAdapters(inputs, { method: 'svd', rank, dtype: 'f64', products: 'js' }, out);
    assert.equal(res.dtype, 'F64');
    for (const [m, s] of Object.entries({ 'l.0.q': shapes['l.0.q'], 'l.0.v': shapes['l.0.v'] })) {
      const dense = weightedDense(inputs, m, s.out * s.in);
      // ΔWᵀΔW [in, in] → eigenpairs: σ² and right singular vectors
      const gram = Array.from({ length: s.in }, (_, i) => Array.from({ length: s.in }, (_, j) => {
        let sum = 0;
        for (let o = 0; o < s.out; o++) sum += dense[o * s.in + i] * dense[o * s.in + j];
        return sum;
      }));
      const { values, vectors } = jacobi(gram);
      const total = values.reduce((x, y) => x + Math.max(y, 0), 0);
      const keep = Math.min(rank, m === 'l.0.q' ? 9 : 7);
      const kept = values.slice(0, keep).reduce((x, y) => x + y, 0);
      assert.ok(Math.abs(res.energyKept.perModule[m] - kept / total) < 1e-9, `${m} r=${rank}: energy ${res.energyKept.perModule[m]} vs ${kept / total}`);
      // best rank-r approximation: ΔW·V_r·V_rᵀ
      const best = new Float64Array(s.out * s.in);
      for (let q = 0; q < keep; q++) {
        const vq = vectors[q];
        for (let o = 0; o < s.out; o++) {
          let proj = 0;
          for (let j = 0; j < s.in; j++) proj += dense[o * s.in + j] * vq[j];
          for (let j = 0; j < s.in; j++) best[o * s.in + j] += proj * vq[j];
        }
      }
      const mine = peftDense(out, m)!;
      assert.ok(relErr(mine, best) < 1e-9, `${m} r=${rank}: ${relErr(mine, best)}`);
      assert.equal(res.ranks[m], keep);
    }
  }
});

test('truncatedProduct: rank-deficient and cancelling inputs, JS and ORT products agree', async () => {
  const r = rng(11);
  const m = 40, n = 30, k = 3;
  const bt1 = Float64Array.from({ length: k * m }, r);
  const a1 = Float64Array.from({ length: k * n }, r);
  // the same factors twice with weights 1 and −1: ΔW = 0
  const bt = new Float64Array([...bt1, ...bt1]);
  const a = new Float64Array([...a1, ...a1]);
  const zero = await truncatedProduct(bt, m, a, n, new Float64Array([1, 1, 1, -1, -1, -1]), 4);
  let norm = 0;
  for (const x of zero.bt) norm += x * x;
  assert.ok(zero.sigma.every((s) => s < 1e-12 * 100), `σ ${[...zero.sigma]}`);
  // twice with weights 1 and 1: rank 3, doubled; rank 4 output is exact
  const doubled = await truncatedProduct(bt, m, a, n, new Float64Array([1, 1, 1, 1, 1, 1]), 4);
  const engine = await createMatMulEngine({ provider: 'cpu', minOnnxWork: 0 });
  try {
    const viaOrt = await truncatedProduct(bt, m, a, n, new Float64Array([1, 1, 1, 1, 1, 1]), 4, ortProducts(engine));
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(doubled.sigma[i] - viaOrt.sigma[i]) < 1e-10 * doubled.sigma[0]);
  } finally {
    await engine.dispose();
  }
  const product = (btX: Float64Array, aX: Float64Array, rank: number) => {
    const out = new Float64Array(m * n);
    for (let q = 0; q < rank; q++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] += btX[q * m + i] * aX[q * n + j];
    return out;
  };
  const expected = product(bt1, a1, k).map((x) => 2 * x);
  assert.ok(relErr(product(doubled.bt, doubled.a, doubled.rank), expected) < 1e-10);
  assert.equal(doubled.energyKept, 1);
  void norm;
});

test('output is atomic: a failed or cancelled merge leaves the previous output untouched; success replaces it', async () => {
  const out = path.join(tmp, 'atomic');
  await mergeAdapters(gpt2, { method: 'svd', rank: 4, products: 'js' }, out);
  const before = fs.readFileSync(path.join(out, 'adapter_model.safetensors'));
  const controller = new AbortController();
  await assert.rejects(
    mergeAdapters(gpt2, {
      method: 'cat',
      products: 'js',
      signal: controller.signal,
      onProgress: (p) => {
        if (p.modulesDone === 5) controller.abort();
      },
    }, out),
    (e: unknown) => e instanceof ComposerError && e.code === 'cancelled',
  );
  assert.deepEqual(fs.readFileSync(path.join(out, 'adapter_model.safetensors')), before);
  await assert.rejects(mergeAdapters(gpt2, { method: 'cat', products: 'js', onProgress: () => { throw new Error('disk full (simulated)'); } }, out), /disk full/);
  assert.deepEqual(fs.readFileSync(path.join(out, 'adapter_model.safetensors')), before);
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('.atomic')), [], 'no staging folder left behind');
  const res = await mergeAdapters(gpt2, { method: 'cat', products: 'js' }, out);
  assert.notDeepEqual(fs.readFileSync(path.join(out, 'adapter_model.safetensors')), before);
  assert.equal(res.rank, 8);
  // a folder that is not an adapter output is never replaced
  const precious = path.join(tmp, 'precious');
  fs.mkdirSync(precious);
  fs.writeFileSync(path.join(precious, 'notes.txt'), 'mine');
  await assert.rejects(mergeAdapters(gpt2, { method: 'cat', products: 'js' }, precious), /refusing to replace/);
  assert.equal(fs.readFileSync(path.join(precious, 'notes.txt'), 'utf8'), 'mine');
});

test('layouts: kohya inputs give a kohya composite, MLX inputs an MLX one, bf16 stays bf16; both read back with the same ΔW', async () => {
  const r = rng(5);
  const kohya = (file: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFloatTensors(file, [
      { name: 'lora_unet_a_proj.lora_down.weight', dtype: 'BF16', shape: [2, 6], data: Array.from({ length: 12 }, r) },
      { name: 'lora_unet_a_proj.lora_up.weight', dtype: 'BF16', shape: [5, 2], data: Array.from({ length: 10 }, r) },
      { name: 'lora_unet_a_proj.alpha', dtype: 'BF16', shape: [], data: [1] },
      { name: 'lora_unet_conv.lora_down.weight', dtype: 'BF16', shape: [2, 3, 3, 3], data: Array.from({ length: 54 }, r) },
      { name: 'lora_unet_conv.lora_up.weight', dtype: 'BF16', shape: [4, 2, 1, 1], data: Array.from({ length: 8 }, r) },
    ]);
  };
  kohya(path.join(tmp, 'k1', 'k1.safetensors'));
  kohya(path.join(tmp, 'k2', 'k2.safetensors'));
  const inputs = [
    { name: 'k1', path: path.join(tmp, 'k1', 'k1.safetensors'), weight: 0.4 },
    { name: 'k2', path: path.join(tmp, 'k2', 'k2.safetensors'), weight: 0.6 },
  ];
  const res = await mergeAdapters(inputs, { method: 'cat', products: 'js' }, path.join(tmp, 'k-out'));
  assert.equal(res.layout, 'kohya');
  assert.equal(res.dtype, 'BF16');
  const back = openAdapter(path.join(tmp, 'k-out'));
  assert.equal(back.format, 'kohya');
  const st = SafetensorsFile.open(path.join(tmp, 'k-out', 'adapter_model.safetensors'));
  assert.deepEqual(st.info('lora_unet_conv.lora_down.weight').shape, [4, 3, 3, 3]);
  assert.equal(st.info('lora_unet_conv.lora_down.weight').dtype, 'BF16');
  const a1 = openAdapter(inputs[0].path), a2 = openAdapter(inputs[1].path);
  for (const m of ['lora_unet_a_proj', 'lora_unet_conv']) {
    const d = deltaOf(back, m);
    const x = deltaOf(a1, m), y = deltaOf(a2, m);
    const ref = x.map((v, k) => 0.4 * v + 0.6 * y[k]);
    assert.ok(relErr(d, ref) < 1e-2, `${m}: bf16 factors: ${relErr(d, ref)}`);
  }

  const mlx = `${REAL}/mlx-minicpm/minicpm-2b-q-v-r8`;
  const mres = await mergeAdapters([{ name: 'a', path: mlx, weight: 0.5 }, { name: 'b', path: mlx, weight: 0.25 }], { method: 'svd', rank: 8, products: 'js' }, path.join(tmp, 'mlx-out'));
  assert.equal(mres.layout, 'mlx');
  const mback = openAdapter(path.join(tmp, 'mlx-out'));
  assert.equal(mback.format, 'mlx');
  const config = JSON.parse(fs.readFileSync(path.join(tmp, 'mlx-out', 'adapter_config.json'), 'utf8'));
  assert.equal(config.lora_parameters.scale, 1);
  const src = openAdapter(mlx);
  const name = 'model.layers.37.self_attn.v_proj';
  const d = deltaOf(mback, name);
  const ref = deltaOf(src, name).map((v) => 0.75 * v);
  assert.ok(relErr(d, ref) < 1e-6, `mlx: ${relErr(d, ref)}`);
  assert.ok(mres.energyKept.min > 1 - 1e-9, 'the same adapter twice has rank 8: nothing dropped');
});

test('incompatible inputs are refused: different shapes, no shared modules', async () => {
  writePeft(path.join(tmp, 'shape-a'), { 'l.0.q': { out: 8, in: 6, r: 2 } }, 2, 1);
  writePeft(path.join(tmp, 'shape-b'), { 'l.0.q': { out: 8, in: 7, r: 2 } }, 2, 2);
  await assert.rejects(
    mergeAdapters([{ name: 'a', path: path.join(tmp, 'shape-a'), weight: 1 }, { name: 'b', path: path.join(tmp, 'shape-b'), weight: 1 }], { method: 'cat' }, path.join(tmp, 'x')),
    (e: unknown) => e instanceof ComposerError && e.code === 'dimension' && /l\.0\.q/.test(e.message),
  );
  await assert.rejects(
    mergeAdapters([{ name: 'gpt2', path: gpt2[0].path, weight: 1 }, { name: 'sd', path: `${REAL}/diffusers-sd-unet/sd15-weapons-catundchat`, weight: 1 }], { method: 'cat' }, path.join(tmp, 'x')),
    (e: unknown) => e instanceof ComposerError && /no module in common/.test(e.message),
  );
});
