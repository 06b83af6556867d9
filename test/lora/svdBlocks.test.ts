/**
 * The svd merge at inner ranks above one Gram block (R > 64): the symmetric block Grams of the
 * transposed panels, the eigenvectors of the kept directions only (topEigen) and the R×R steps on a
 * worker thread, against an independent dense computation (ΔW = Σ wᵢ·sᵢ·Bᵢ·Aᵢ formed in the test,
 * its best rank-r approximation from a Jacobi eigen-decomposition of ΔWᵀΔW written here); and the
 * bytes written do not depend on the worker or on ONNX Runtime's thread count.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createMatMulEngine } from '../../server/src/engine/onnx/matmul';
import { ortProducts } from '../../server/src/engine/lora/panelProducts';
import { mergeAdapters } from '../../server/src/engine/lora/merge';
import { writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { topEigen } from '../../server/src/engine/linalg/eigen';
import { MixPool } from '../../server/src/engine/lora/mixPool';
import { seededRandom } from '../../server/src/engine/random';
import { peftDense } from './peftReference';
import { jacobi, relErr } from './denseReference';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'svd-blocks-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const rng = (seed: number): (() => number) => {
  const uniform = seededRandom(seed);
  return () => uniform() - 0.5;
};

/** 8 modules (so that the merge starts its mixing worker), each [out, in]. */
const SHAPES: Record<string, [number, number]> = {
  'l.0.q': [140, 130], 'l.0.k': [70, 130], 'l.0.v': [70, 130], 'l.0.o': [130, 140],
  'l.1.q': [140, 130], 'l.1.k': [70, 130], 'l.1.v': [70, 130], 'l.1.o': [130, 140],
};
const RANK = 40; // 3 adapters → R = 120: two Gram blocks (64 + 56 rows)
const ALPHA = [80, 40, 20];
const WEIGHTS = [0.5, -0.8, 0.3];

interface Factors { A: number[]; B: number[] }
const factors: Record<string, Factors>[] = [];

function writeAdapter(dir: string, seed: number, alpha: number): Record<string, Factors> {
  const r = rng(seed);
  const mine: Record<string, Factors> = {};
  const tensors = [];
  for (const [name, [out, inF]] of Object.entries(SHAPES)) {
    const A = Array.from({ length: RANK * inF }, r), B = Array.from({ length: out * RANK }, r);
    mine[name] = { A, B };
    tensors.push({ name: `base_model.model.${name}.lora_A.weight`, dtype: 'F64' as const, shape: [RANK, inF], data: A });
    tensors.push({ name: `base_model.model.${name}.lora_B.weight`, dtype: 'F64' as const, shape: [out, RANK], data: B });
  }
  fs.mkdirSync(dir, { recursive: true });
  writeFloatTensors(path.join(dir, 'adapter_model.safetensors'), tensors);
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: RANK, lora_alpha: alpha, target_modules: ['q', 'k', 'v', 'o'], base_model_name_or_path: 'toy' }));
  return mine;
}

const inputs = [0, 1, 2].map((i) => {
  const dir = path.join(tmp, `a${i}`);
  factors.push(writeAdapter(dir, 100 + i, ALPHA[i]));
  return { name: `a${i}`, path: dir, weight: WEIGHTS[i] };
});

/** ΔW = Σ wᵢ·(αᵢ/r)·Bᵢ·Aᵢ, dense, in the test. */
function dense(module: string): Float64Array {
  const [out, inF] = SHAPES[module];
  const d = new Float64Array(out * inF);
  factors.forEach((f, i) => {
    const c = WEIGHTS[i] * (ALPHA[i] / RANK);
    const { A, B } = f[module];
    for (let o = 0; o < out; o++) for (let t = 0; t < RANK; t++) {
      const b = c * B[o * RANK + t];
      for (let j = 0; j < inF; j++) d[o * inF + j] += b * A[t * inF + j];
    }
  });
  return d;
}

/** The best rank-r approximation ΔW·V_r·V_rᵀ and the kept energy fraction. */
function bestRank(d: Float64Array, out: number, inF: number, r: number): { best: Float64Array; kept: number } {
  const gram = Array.from({ length: inF }, (_, i) => Array.from({ length: inF }, (_, j) => {
    let s = 0;
    for (let o = 0; o < out; o++) s += d[o * inF + i] * d[o * inF + j];
    return s;
  }));
  const { values, vectors } = jacobi(gram);
  const total = values.reduce((x, y) => x + Math.max(y, 0), 0);
  const best = new Float64Array(out * inF);
  for (let q = 0; q < r; q++) {
    const vq = vectors[q];
    for (let o = 0; o < out; o++) {
      let proj = 0;
      for (let j = 0; j < inF; j++) proj += d[o * inF + j] * vq[j];
      for (let j = 0; j < inF; j++) best[o * inF + j] += proj * vq[j];
    }
  }
  return { best, kept: values.slice(0, r).reduce((x, y) => x + y, 0) / total };
}


test('svd at R = 120 (two Gram blocks, worker thread, ORT and JS) equals the dense truncated SVD computed independently', async () => {
  const outRank = 16;
  const references = Object.fromEntries(Object.entries(SHAPES).map(([m, [out, inF]]) => [m, bestRank(dense(m), out, inF, outRank)]));
  for (const products of ['auto', 'js'] as const) {
    const out = path.join(tmp, `svd-${products}`);
    const res = await mergeAdapters(inputs, { method: 'svd', rank: outRank, dtype: 'f64', products }, out);
    for (const m of Object.keys(SHAPES)) {
      const ref = references[m];
      const mine = peftDense(out, m)!;
      assert.ok(relErr(mine, ref.best) < 1e-9, `${products} ${m}: relative error ${relErr(mine, ref.best)}`);
      assert.ok(Math.abs(res.energyKept.perModule[m] - ref.kept) < 1e-10, `${products} ${m}: energy ${res.energyKept.perModule[m]} vs ${ref.kept}`);
      assert.equal(res.ranks[m], outRank);
    }
  }
});

test('svd output bytes do not depend on the mixing workers (none, 1, 3, 7) or on ONNX Runtime\'s thread count', async () => {
  const engine = await createMatMulEngine({ provider: 'cpu' });
  try {
    const runs: { label: string; files: { path: string; sha256: string }[] }[] = [];
    const variants = [
      { label: 'worker, ORT 1 thread', mixThreads: 1, threads: 1 },
      { label: 'worker, ORT 2 threads', mixThreads: 1, threads: 2 },
      { label: 'inline, ORT 2 threads', mixThreads: 0, threads: 2 },
      { label: 'inline, ORT 1 thread', mixThreads: 0, threads: 1 },
      // several workers: as many modules prepared ahead, in rotating scratch slots
      { label: '3 workers, ORT 2 threads', mixThreads: 3, threads: 2 },
      { label: '7 workers (all 8 modules live at once), ORT 1 thread', mixThreads: 7, threads: 1 },
    ];
    for (const v of variants) {
      const out = path.join(tmp, `det-${v.mixThreads}-${v.threads}`);
      // bf16 output: the float32 output products are covered too
      const res = await mergeAdapters(inputs, { method: 'svd', rank: 24, dtype: 'bf16', products: ortProducts(engine, { intraOpThreads: v.threads }), mixThreads: v.mixThreads }, out);
      runs.push({ label: v.label, files: res.files });
    }
    for (const r of runs.slice(1)) assert.deepEqual(r.files, runs[0].files, `${r.label} vs ${runs[0].label}`);
  } finally {
    await engine.dispose();
  }
});

test('topEigen: every eigenvalue and the top eigenvectors of householder/QL match an independent Jacobi, including a repeated eigenvalue below the kept ones and a null space', () => {
  const n = 40, keep = 12;
  const r = rng(7);
  // Q·diag(λ)·Qᵀ with a random orthogonal Q (Gram–Schmidt), λ: 12 distinct, a 5-fold repeated value, zeros
  const q: number[][] = [];
  while (q.length < n) {
    const x = Array.from({ length: n }, r);
    for (const y of q) {
      const d = x.reduce((s, xi, i) => s + xi * y[i], 0);
      for (let i = 0; i < n; i++) x[i] -= d * y[i];
    }
    const norm = Math.sqrt(x.reduce((s, xi) => s + xi * xi, 0));
    q.push(x.map((xi) => xi / norm));
  }
  const lambda = Array.from({ length: n }, (_, i) => (i < keep ? 100 - 5 * i : i < keep + 5 ? 3 : i < 30 ? 2 - i / 40 : 0));
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += q[k][i] * lambda[k] * q[k][j];
    m[i * n + j] = s;
  }
  const ref = jacobi(Array.from({ length: n }, (_, i) => Array.from(m.subarray(i * n, i * n + n))));
  for (const k of [keep, keep + 5, 0]) {
    const mine = topEigen(m, n, k);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(mine.values[i] - ref.values[i]) < 1e-12 * ref.values[0], `λ${i}: ${mine.values[i]} vs ${ref.values[i]}`);
    // the kept span equals the reference's (the repeated eigenvalue's vectors are any basis of their span)
    for (let a = 0; a < k; a++) {
      let norm = 0;
      for (let i = 0; i < n; i++) norm += mine.vectors[i * k + a] ** 2;
      assert.ok(Math.abs(norm - 1) < 1e-12, `‖v${a}‖² = ${norm}`);
      let inSpan = 0;
      for (let b = 0; b < k; b++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += mine.vectors[i * k + a] * ref.vectors[b][i];
        inSpan += d * d;
      }
      assert.ok(Math.abs(inSpan - 1) < 1e-10, `vector ${a} of ${k} lies in the reference's top-${k} span: ${inSpan}`);
      // and it is an eigenvector: ‖M·v − λ·v‖ small
      let res = 0;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += m[i * n + j] * mine.vectors[j * k + a];
        res += (s - mine.values[a] * mine.vectors[i * k + a]) ** 2;
      }
      assert.ok(Math.sqrt(res) < 1e-11 * ref.values[0], `residual of vector ${a}: ${Math.sqrt(res)}`);
    }
  }
});

test('the mixing workers start from sources and return bit-identical mixes to the inline computation, also with more requests than workers', async () => {
  const R = 90;
  const r = rng(3);
  const x = Array.from({ length: R * 120 }, r), y = Array.from({ length: R * 100 }, r);
  const gram = (v: number[], cols: number) => {
    const g = new Float64Array(R * R);
    for (let i = 0; i < R; i++) for (let j = 0; j < R; j++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += v[i * cols + k] * v[j * cols + k];
      g[i * R + j] = s;
    }
    return g;
  };
  const ga = gram(x, 120), gb = gram(y, 100);
  const c = Float64Array.from({ length: R }, (_, i) => (i % 3) - 1.5);
  const threaded = new MixPool(1), inline = new MixPool(0), pool = new MixPool(3);
  try {
    assert.equal(threaded.threaded, true);
    assert.equal(pool.size, 3);
    const [a, b] = await Promise.all([threaded.mix(ga, gb, c, 20), inline.mix(ga, gb, c, 20)]);
    assert.deepEqual(a, b);
    // more requests than workers: queued, each answered with its own mix
    const ranks = [20, 5, 33, 1, 12, 20, 8];
    const pooled = await Promise.all(ranks.map((k) => pool.mix(ga, gb, c, k)));
    for (const [i, k] of ranks.entries()) assert.deepEqual(pooled[i], await inline.mix(ga, gb, c, k), `rank ${k}`);
  } finally {
    await threaded.close();
    await inline.close();
    await pool.close();
  }
});
