import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lambdaPath, lassoData, solveAll, solveWeights, sparseAt } from '../../server/src/engine/weights';
import { dot, gaussSolve, gaussian, lassoKktViolation as kktViolation, minimumNormSolve, randomProblem, seededRandom, type Problem } from './reference';

/** ½‖t − Σwᵢpᵢ‖² + λ·Σw straight from the vectors. */
function lassoObjectiveDirect(p: Problem, w: ArrayLike<number>, lambda: number): number {
  let squared = 0;
  for (let d = 0; d < p.target.length; d++) {
    let r = p.target[d];
    for (let i = 0; i < p.prototypes.length; i++) if (w[i] !== 0) r -= w[i] * p.prototypes[i][d];
    squared += r * r;
  }
  let total = 0;
  for (let i = 0; i < w.length; i++) total += w[i];
  return 0.5 * squared + lambda * total;
}


/**
 * Independent reference: every support S, w_S from the stationarity system G_SS·w = b_S − λ·1
 * (Gaussian elimination, the minimum-norm solution when singular), kept when w ≥ 0; the smallest
 * objective wins. Some optimal solution has linearly independent support, so enumeration finds it.
 */
function referenceLasso(p: Problem, lambda: number): { objective: number; weights: number[] } {
  const k = p.prototypes.length;
  let best = { objective: lassoObjectiveDirect(p, new Array(k).fill(0), lambda), weights: new Array<number>(k).fill(0) };
  for (let mask = 1; mask < 1 << k; mask++) {
    const s: number[] = [];
    for (let i = 0; i < k; i++) if (mask & (1 << i)) s.push(i);
    const g = s.map((i) => s.map((j) => dot(p.prototypes[i], p.prototypes[j])));
    const rhs = s.map((i) => dot(p.prototypes[i], p.target) - lambda);
    const x = gaussSolve(g, rhs) ?? minimumNormSolve(g, rhs);
    if (!x || x.some((v) => v < 0)) continue;
    const w = new Array<number>(k).fill(0);
    s.forEach((i, a) => { w[i] = x[a]; });
    const objective = lassoObjectiveDirect(p, w, lambda);
    if (objective < best.objective) best = { objective, weights: w };
  }
  return best;
}

/** Projected coordinate descent, run long: a second, iterative reference. */
function coordinateDescent(p: Problem, lambda: number, sweeps: number): number[] {
  const k = p.prototypes.length;
  const g = p.prototypes.map((a) => p.prototypes.map((b) => dot(a, b)));
  const b = p.prototypes.map((a) => dot(a, p.target));
  const w = new Array<number>(k).fill(0);
  for (let sweep = 0; sweep < sweeps; sweep++) {
    for (let i = 0; i < k; i++) {
      if (g[i][i] === 0) continue;
      let grad = b[i] - lambda;
      for (let j = 0; j < k; j++) grad -= g[i][j] * w[j];
      w[i] = Math.max(0, w[i] + grad / g[i][i]);
    }
  }
  return w;
}

function problems(): { p: Problem; kind: string }[] {
  const random = seededRandom(1210);
  const out: { p: Problem; kind: string }[] = [];
  const kinds = ['plain', 'duplicates', 'k>D', 'affine', 'collinear', 'offset', 'negative', 'positive-lin'];
  for (let trial = 0; trial < 320; trial++) {
    const kind = kinds[trial % kinds.length];
    const k = 1 + Math.floor(random() * 8);
    const dim = kind === 'k>D' ? 1 + Math.floor(random() * 3) : 3 + Math.floor(random() * 8);
    const p = randomProblem(random, k, dim, {
      duplicates: kind === 'duplicates' ? 1 + Math.floor(random() * 2) : 0,
      affineMixes: kind === 'affine' ? 1 : 0,
      offset: kind === 'offset' ? 10 : kind === 'positive-lin' ? 3 : 0,
    });
    if (kind === 'collinear' && k > 1) p.prototypes[k - 1] = p.prototypes[0].map((x) => x * (1 + 1e-3) + 1e-3 * gaussian(random));
    if (kind === 'negative') {
      p.target = p.target.map((x) => -Math.abs(x) - 1);
      p.prototypes = p.prototypes.map((q) => q.map((x) => Math.abs(x)));
    }
    out.push({ p, kind: `${kind}#${trial}` });
  }
  return out;
}

test('lasso form: the exact λ-path matches exhaustive active-set enumeration and the KKT conditions', () => {
  let worst = 0;
  let checked = 0;
  let kktWorst = '';
  for (const { p, kind } of problems()) {
    const path = lambdaPath(p, 'lasso');
    const data = lassoData(p.target, p.prototypes);
    const scale = Math.max(1, ...data.b.map(Math.abs), ...p.prototypes.map((q) => dot(q, q)));
    assert.equal(path.form, 'lasso');
    assert.equal(path.lambda_star, Math.max(0, ...data.b), `${kind}: λ* = max pᵢ·t`);
    const lambdas = [...path.breakpoints.map((b) => b.lambda), ...[0.05, 0.2, 0.5, 0.8, 1.2].map((r) => r * path.lambda_star)];
    for (const lambda of lambdas) {
      const raw = sparseAt(path, lambda);
      const reference = referenceLasso(p, lambda);
      const ours = lassoObjectiveDirect(p, raw, lambda);
      const tolerance = 1e-9 * Math.max(Math.abs(reference.objective), 1e-6 * 0.5 * dot(p.target, p.target));
      const gap = (ours - reference.objective) / Math.max(Math.abs(reference.objective), 1e-6 * 0.5 * dot(p.target, p.target));
      worst = Math.max(worst, Math.abs(gap));
      assert.ok(Math.abs(ours - reference.objective) <= tolerance, `${kind} k=${p.prototypes.length} λ=${lambda}: objective ${ours} vs reference ${reference.objective} (relative ${gap})`);
      const v = kktViolation(p, raw, lambda, scale);
      if (!kind.startsWith('collinear')) assert.equal(v, '', `${kind} λ=${lambda}`);
      else if (v) kktWorst = v;
      checked++;
    }
  }
  console.log(`# lasso path vs enumeration: ${checked} (problem, λ) pairs, worst objective gap relative to max(objective, 1e-6·½‖t‖²) ${worst.toExponential(2)}${kktWorst ? `; near-collinear KKT at 1e-8: ${kktWorst}` : ''}`);
});

test('lasso form: the path agrees with long-run projected coordinate descent', () => {
  const random = seededRandom(1211);
  let worst = 0;
  for (let trial = 0; trial < 60; trial++) {
    const p = randomProblem(random, 2 + Math.floor(random() * 5), 4 + Math.floor(random() * 6), { offset: trial % 2 ? 2 : 0 });
    const path = lambdaPath(p, 'lasso');
    for (const ratio of [0.1, 0.4, 0.7]) {
      const lambda = ratio * path.lambda_star;
      const raw = sparseAt(path, lambda);
      const cd = coordinateDescent(p, lambda, 20000);
      const a = lassoObjectiveDirect(p, raw, lambda);
      const b = lassoObjectiveDirect(p, cd, lambda);
      worst = Math.max(worst, (a - b) / Math.abs(b));
      assert.ok(a <= b + 1e-9 * Math.abs(b), `trial ${trial} ρ=${ratio}: path ${a} vs coordinate descent ${b}`);
    }
  }
  console.log(`# lasso path vs coordinate descent: worst (path − CD)/CD ${worst.toExponential(2)}`);
});

test('lasso form: normalised to Σw = 1, ρ = 1 keeps the first adapter to enter, small weights go to exactly 0', () => {
  // The paper's case: lin ≥ 0 (so the constrained form equals lin at every λ), the lasso zeroes the small weight.
  const random = seededRandom(1212);
  let differs = 0;
  for (let trial = 0; trial < 40; trial++) {
    const p = randomProblem(random, 3, 12, { offset: 3 });
    const w = [0.8, 0.18, 0.02];
    p.target = Float64Array.from(p.target, (_, d) => w.reduce((s, wi, i) => s + wi * p.prototypes[i][d], 0) + 0.01 * gaussian(random));
    const all = solveAll(p, { strategy: 'sparse', form: 'lasso', rho: 0.5 });
    const lasso = all.strategies.sparse!;
    assert.equal(lasso.form, 'lasso');
    assert.ok(Math.abs(Object.values(lasso.weights).reduce((s, x) => s + x, 0) - 1) < 1e-12);
    assert.equal(all.lambdaPath.form, 'lasso');
    assert.ok(all.lambdaPaths.constrained && all.lambdaPaths.lasso);
    const lin = solveWeights(p, { strategy: 'lin' });
    if (Object.values(lin.weights).every((x) => x >= 0)) {
      // Constrained form = lin for every λ (Σw = 1 ⇒ ‖w‖₁ = 1 + 2·negative mass).
      for (const rho of [0.25, 0.5, 1]) assert.deepEqual(solveWeights(p, { strategy: 'sparse', rho }).weights, lin.weights);
    }
    if (lasso.nonzero < 3) differs++;
    const end = solveWeights(p, { strategy: 'sparse', form: 'lasso', rho: 1 });
    assert.equal(end.nonzero, 1);
    const data = lassoData(p.target, p.prototypes);
    const first = data.b.indexOf(Math.max(...data.b));
    assert.equal(end.weights[p.names[first]], 1);
  }
  assert.ok(differs > 0, 'the lasso form drops a small weight in some of these problems');
});
