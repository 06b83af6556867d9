// ties / dare_linear / dare_ties / magnitude_prune against an independent dense float64 implementation of
// the published algorithms (TIES: Yadav et al. 2023; DARE: Yu et al. 2024), the dense truncation against a
// Jacobi SVD, determinism (the real gpt2 pair is in entrywiseMergeReal.test.ts: it takes ~40 s, so the
// mutation run, scripts/mutate.mjs, lists it last).
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createMatMulEngine } from '../../server/src/engine/onnx/matmul';
import { deltaOf } from '../../server/src/engine/lora/adapter';
import { openAdapter } from '../../server/src/engine/lora/formats';
import { entrywiseModule, kthLargestInPlace, type EntrywiseMethod } from '../../server/src/engine/lora/entrywiseMerge';
import { truncateDense } from '../../server/src/engine/lora/denseTruncation';
import { jsProducts, ortProducts } from '../../server/src/engine/lora/panelProducts';
import { mergeAdapters, readComposite } from '../../server/src/engine/lora/merge';
import { writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { seededRandom } from '../../server/src/engine/random';
import { checkRecipe } from '../../server/src/engine/recipe';
import { VALID_RECIPE, edit } from '../recipe/fixtures';
import { referenceMerge, type RefOptions, relErr } from './entrywiseReference';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrywise-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Singular values of a small dense matrix (one-sided Jacobi on the columns), descending. */
function jacobiSingularValues(d: Float64Array, m: number, n: number): number[] {
  // work on the orientation with fewer columns
  const [rows, cols, at] = n <= m ? [m, n, (i: number, j: number) => d[i * n + j]] : [n, m, (i: number, j: number) => d[j * n + i]];
  const u = Array.from({ length: cols }, (_, j) => Float64Array.from({ length: rows }, (_, i) => at(i, j)));
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < cols; p++) {
      for (let q = p + 1; q < cols; q++) {
        let a = 0, b = 0, c = 0;
        for (let i = 0; i < rows; i++) {
          a += u[p][i] ** 2;
          b += u[q][i] ** 2;
          c += u[p][i] * u[q][i];
        }
        if (Math.abs(c) <= 1e-15 * Math.sqrt(a * b)) continue;
        off = Math.max(off, Math.abs(c) / Math.sqrt(a * b));
        const zeta = (b - a) / (2 * c);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const cs = 1 / Math.sqrt(1 + t * t), sn = cs * t;
        for (let i = 0; i < rows; i++) {
          const x = u[p][i], y = u[q][i];
          u[p][i] = cs * x - sn * y;
          u[q][i] = sn * x + cs * y;
        }
      }
    }
    if (off < 1e-15) break;
  }
  return u.map((col) => Math.sqrt(col.reduce((s, x) => s + x * x, 0))).sort((x, y) => y - x);
}

// ---- small synthetic adapters ----

const centred = (seed: number) => {
  const u = seededRandom(seed);
  return () => u() - 0.5;
};

function writePeft(dir: string, modules: Record<string, { out: number; in: number; r: number }>, alpha: number, seed: number): void {
  const r = centred(seed);
  fs.mkdirSync(dir, { recursive: true });
  const tensors = [];
  for (const [name, m] of Object.entries(modules)) {
    tensors.push({ name: `base_model.model.${name}.lora_A.weight`, dtype: 'F64', shape: [m.r, m.in], data: Array.from({ length: m.r * m.in }, r) });
    tensors.push({ name: `base_model.model.${name}.lora_B.weight`, dtype: 'F64', shape: [m.out, m.r], data: Array.from({ length: m.out * m.r }, r) });
  }
  writeFloatTensors(path.join(dir, 'adapter_model.safetensors'), tensors as never);
  const r0 = Object.values(modules)[0].r;
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: r0, lora_alpha: alpha, target_modules: ['q', 'v'], base_model_name_or_path: 'toy' }));
}

const Q = { out: 23, in: 17 };
const V = { out: 9, in: 31 };
writePeft(path.join(tmp, 'a1'), { 'l.0.q': { ...Q, r: 3 }, 'l.0.v': { ...V, r: 3 } }, 6, 1);
writePeft(path.join(tmp, 'a2'), { 'l.0.q': { ...Q, r: 4 }, 'l.0.v': { ...V, r: 4 } }, 8, 2);
writePeft(path.join(tmp, 'a3'), { 'l.0.q': { ...Q, r: 2 } }, 2, 3);
const small = [
  { name: 'a1', path: path.join(tmp, 'a1'), weight: 0.5 },
  { name: 'a2', path: path.join(tmp, 'a2'), weight: 0.3 },
  { name: 'a3', path: path.join(tmp, 'a3'), weight: -0.4 },
];

function referenceModule(inputs: typeof small, module: string, o: Omit<RefOptions, 'module'>): Float64Array {
  const having = inputs.map((i) => ({ i, a: openAdapter(i.path) })).filter((x) => x.a.modules.has(module));
  const deltas = having.map(({ i, a }) => deltaOf(a, module).map((v) => v * i.weight));
  return referenceMerge(deltas, having.map((x) => x.i.name), having.map((x) => x.i.weight), { ...o, module });
}

const METHODS: EntrywiseMethod[] = ['ties', 'dare_linear', 'dare_ties', 'magnitude_prune'];

test('each method at full rank equals the dense reference (js and ONNX Runtime products, normalize on and off)', async () => {
  const engine = await createMatMulEngine({ minOnnxWork: 1 });
  try {
    for (const products of ['js', ortProducts(engine)] as const) {
      for (const method of METHODS) {
        for (const normalize of [false, true]) {
          const density = method.startsWith('dare') ? 0.6 : 0.35;
          const out = path.join(tmp, `full-${method}-${normalize}-${typeof products === 'string' ? 'js' : 'ort'}`);
          // rank ≥ min(m, n): the truncation is exact, the output is the merge itself
          const res = await mergeAdapters(small, { method, rank: 31, density, seed: 7, normalize, products, dtype: 'f64' }, out);
          const composite = readComposite(out);
          for (const module of ['l.0.q', 'l.0.v']) {
            const ref = referenceModule(small, module, { method, density, normalize, seed: 7 });
            const err = relErr(deltaOf(composite, module), ref);
            assert.ok(err < 1e-10, `${method} normalize=${normalize} ${module}: relative error ${err}`);
            assert.ok(res.entrywise!.relativeError[module] < 1e-7, `reported truncation error ${res.entrywise!.relativeError[module]}`);
            assert.equal(res.entrywise!.route[module], 'exact');
          }
        }
      }
    }
  } finally {
    await engine.dispose();
  }
});

test('at a lower rank the output is the optimal truncation of the reference, and the reported error is the actual one', async () => {
  for (const method of METHODS) {
    const out = path.join(tmp, `low-${method}`);
    const res = await mergeAdapters(small, { method, rank: 3, density: 0.4, seed: 1, products: 'js', dtype: 'f64' }, out);
    const composite = readComposite(out);
    for (const [module, shape] of [['l.0.q', Q], ['l.0.v', V]] as const) {
      const ref = referenceModule(small, module, { method, density: 0.4, normalize: false, seed: 1 });
      const actual = relErr(deltaOf(composite, module), ref);
      const sv = jacobiSingularValues(ref, shape.out, shape.in);
      const all = sv.reduce((s, x) => s + x * x, 0);
      const optimal = Math.sqrt(sv.slice(3).reduce((s, x) => s + x * x, 0) / all);
      assert.ok(Math.abs(actual - optimal) < 1e-9, `${method} ${module}: error ${actual} vs optimal ${optimal}`);
      assert.ok(Math.abs(res.entrywise!.relativeError[module] - actual) < 1e-9, `${method} ${module}: reported ${res.entrywise!.relativeError[module]} vs actual ${actual}`);
      assert.ok(Math.abs(res.energyKept.perModule[module] - (1 - optimal ** 2)) < 1e-9);
    }
  }
});

test('density 1 with nothing to disagree with is the linear merge', async () => {
  // one adapter: nothing to disagree with, ties at density 1 is just w·ΔW
  const one = [small[0]];
  const out = path.join(tmp, 'ties-one');
  await mergeAdapters(one, { method: 'ties', rank: 31, density: 1, products: 'js', dtype: 'f64' }, out);
  const ref = deltaOf(openAdapter(small[0].path), 'l.0.q').map((v) => v * small[0].weight);
  assert.ok(relErr(deltaOf(readComposite(out), 'l.0.q'), ref) < 1e-12);
  // dare_linear at density 1 keeps everything: the linear merge Σ wᵢΔWᵢ
  const out2 = path.join(tmp, 'dare-1');
  await mergeAdapters(small, { method: 'dare_linear', rank: 31, density: 1, products: 'js', dtype: 'f64' }, out2);
  const lin = new Float64Array(Q.out * Q.in);
  for (const i of small) deltaOf(openAdapter(i.path), 'l.0.q').forEach((v, j) => (lin[j] += i.weight * v));
  assert.ok(relErr(deltaOf(readComposite(out2), 'l.0.q'), lin) < 1e-12);
});

test('trim keeps exactly ⌊density·m·n⌋ entries, equal magnitudes in row-major order; selection is exact', async () => {
  // rank 1, B = 1, A = ±1: every entry of ΔW has magnitude 1
  const m = 5, n = 7;
  const a = Float64Array.from({ length: n }, (_, j) => (j % 2 ? -1 : 1));
  const b = new Float64Array(m).fill(1);
  const out = new Float64Array(m * n);
  const res = await entrywiseModule({ m, n, a, b, coefficients: Float64Array.of(1) }, [{ key: 'x', row: 0, rank: 1, weight: 1 }], 'mod', { method: 'magnitude_prune', density: 0.3, seed: 0, normalize: false }, jsProducts, out);
  const k = Math.floor(0.3 * m * n);
  assert.equal(res.kept[0], k);
  for (let e = 0; e < m * n; e++) assert.equal(out[e], e < k ? (e % n) % 2 ? -1 : 1 : 0, `entry ${e}`);
  // quickselect against a sort
  const u = seededRandom(5);
  for (const len of [1, 2, 17, 1000]) {
    const xs = Float64Array.from({ length: len }, () => Math.floor(u() * 20)); // many repeats
    const sorted = [...xs].sort((p, q) => q - p);
    for (const kk of [1, Math.ceil(len / 2), len]) assert.equal(kthLargestInPlace(Float64Array.from(xs), len, kk), sorted[kk - 1]);
  }
});

test('DARE keeps a density fraction in expectation and its masks depend on the seed only', async () => {
  const m = 200, n = 150, density = 0.3;
  const u = centred(11);
  const panels = { m, n, a: Float64Array.from({ length: 2 * n }, u), b: Float64Array.from({ length: m * 2 }, u), coefficients: Float64Array.of(1, 1) };
  const group = [{ key: 'x', row: 0, rank: 2, weight: 1 }];
  const run = async (seed: number) => {
    const out = new Float64Array(m * n);
    const r = await entrywiseModule(panels, group, 'mod', { method: 'dare_linear', density, seed, normalize: false }, jsProducts, out);
    return { out, kept: r.kept[0] };
  };
  const r0 = await run(0), r0b = await run(0), r1 = await run(1);
  const N = m * n;
  // binomial: 5 standard deviations
  assert.ok(Math.abs(r0.kept - density * N) < 5 * Math.sqrt(N * density * (1 - density)), `kept ${r0.kept} of ${N}`);
  assert.deepEqual(r0.out, r0b.out);
  assert.notDeepEqual(r0.out, r1.out);
});

test('same inputs and seed give the same bytes; another seed changes dare, not ties', async () => {
  const sha = (dir: string) => createHash('sha256').update(fs.readFileSync(path.join(dir, 'adapter_model.safetensors'))).digest('hex');
  const run = async (method: EntrywiseMethod, seed: number, tag: string) => {
    const out = path.join(tmp, `det-${method}-${seed}-${tag}`);
    await mergeAdapters(small, { method, rank: 4, density: 0.5, seed }, out);
    return sha(out);
  };
  for (const method of ['dare_ties', 'dare_linear'] as const) {
    assert.equal(await run(method, 3, 'a'), await run(method, 3, 'b'));
    assert.notEqual(await run(method, 3, 'a'), await run(method, 4, 'a'));
  }
  assert.equal(await run('ties', 3, 'a'), await run('ties', 4, 'a'));
  const comp = JSON.parse(fs.readFileSync(path.join(tmp, 'det-dare_ties-3-a', 'composition.json'), 'utf8'));
  assert.equal(comp.method, 'dare_ties');
  assert.equal(comp.seed, 3);
  assert.equal(comp.density, 0.5);
});

test('dense truncation: exact route matches Jacobi singular values; randomized route is never better than exact', async () => {
  const m = 60, n = 45, r = 6;
  const u = centred(21);
  // a decaying spectrum plus noise
  const d = new Float64Array(m * n);
  for (let t = 0; t < 12; t++) {
    const x = Array.from({ length: m }, u), y = Array.from({ length: n }, u);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) d[i * n + j] += 0.6 ** t * x[i] * y[j];
  }
  const sv = jacobiSingularValues(d, m, n);
  const all = sv.reduce((s, x) => s + x * x, 0);
  const kept = sv.slice(0, r).reduce((s, x) => s + x * x, 0) / all;
  for (const [mm, nn, dd] of [[m, n, d], [n, m, transposeOf(d, m, n)]] as const) {
    const exact = await truncateDense(dd, mm, nn, r, jsProducts, { route: 'exact' });
    assert.ok(Math.abs(exact.energyKept - kept) < 1e-12, `exact energy ${exact.energyKept} vs ${kept}`);
    const rebuilt = new Float64Array(mm * nn);
    for (let i = 0; i < mm; i++) for (let q = 0; q < r; q++) for (let j = 0; j < nn; j++) rebuilt[i * nn + j] += exact.b[i * r + q] * exact.a[q * nn + j];
    assert.ok(Math.abs(relErr(rebuilt, dd) - exact.relativeError) < 1e-10);
    const rand = await truncateDense(dd, mm, nn, r, jsProducts, { route: 'randomized', oversample: 4, powerIterations: 2 });
    assert.ok(rand.energyKept <= exact.energyKept + 1e-12);
    assert.ok(rand.relativeError <= exact.relativeError * 1.01, `randomized ${rand.relativeError} vs exact ${exact.relativeError}`);
  }
});

function transposeOf(x: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
  return t;
}

test('recipe: the entry-wise methods take density, seed and normalize; unused ones are flagged; out-of-range refused', () => {
  const FILE = '/ws/recipes/prostate-e.compose.yaml';
  const withMerge = (m: string) => edit(VALID_RECIPE, 'merge: { method: svd, rank: 16, dtype: bf16, modules_to_save: refuse }', `merge: ${m}`);
  const dare = checkRecipe(withMerge('{ method: dare_ties, density: 0.3, rank: 8, seed: 5 }'), FILE, { workspaceRoot: '/' });
  assert.deepEqual(dare.problems.filter((p) => p.severity !== 'information'), []);
  const spec = dare.recipe!.spec.merge;
  assert.deepEqual([spec.method, spec.rank, spec.density, spec.seed, spec.normalize], ['dare_ties', 8, 0.3, 5, false]);
  const ties = checkRecipe(withMerge('{ method: ties, rank: 8 }'), FILE, { workspaceRoot: '/' }).recipe!.spec.merge;
  assert.deepEqual([ties.density, ties.seed, ties.normalize], [0.2, undefined, false]);
  const unusedSeed = checkRecipe(withMerge('{ method: ties, seed: 3 }'), FILE, { workspaceRoot: '/' });
  assert.ok(unusedSeed.problems.some((p) => p.code === 'unused-parameter' && p.path?.join('.') === 'merge.seed'));
  const unusedDensity = checkRecipe(withMerge('{ method: svd, density: 0.5 }'), FILE, { workspaceRoot: '/' });
  assert.ok(unusedDensity.problems.some((p) => p.code === 'unused-parameter' && p.path?.join('.') === 'merge.density'));
  for (const bad of ['{ method: ties, density: 0 }', '{ method: ties, density: 1.5 }', '{ method: dare_ties, seed: -1 }', '{ method: dare }']) {
    assert.ok(checkRecipe(withMerge(bad), FILE, { workspaceRoot: '/' }).problems.some((p) => p.severity === 'error'), bad);
  }
});
