/**
 * Parts of the lasso form (engine/weights/lassoPath.ts) the mutation review found untested
 * (docs/testing.md#mutation-testing): the objective it reports (lassoObjective, through C and the
 * translation-invariant pieces) against ½‖t − Σwᵢpᵢ‖² + λΣw summed straight from the vectors; the
 * all-zero path (no prototype correlates positively with the target); and many candidates reaching
 * the boundary at once (exact duplicates: up to 10 the joining subset is enumerated, above that it is
 * chosen greedily), checked by the KKT conditions of the non-negative Lasso at every breakpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { costMatrix, lambdaPath, lassoData, lassoObjective, solveWeights, sparseAt } from '../../server/src/engine/weights';
import { dot, gaussSolve, lassoKktViolation, minimumNormSolve, randomProblem, seededRandom, type Problem } from './reference';


/** ½‖t − Σwᵢpᵢ‖² + λ·Σw straight from the vectors. */
function direct(p: Problem, w: ArrayLike<number>, lambda: number): number {
  let squared = 0;
  for (let d = 0; d < p.target.length; d++) {
    let r = p.target[d];
    for (let i = 0; i < p.prototypes.length; i++) r -= w[i] * p.prototypes[i][d];
    squared += r * r;
  }
  let total = 0;
  for (let i = 0; i < w.length; i++) total += w[i];
  return 0.5 * squared + lambda * total;
}

/** KKT of the non-negative Lasso (G, b from the vectors), at the scale of the largest squared norm. */
function kktViolation(p: Problem, w: ArrayLike<number>, lambda: number): string {
  return lassoKktViolation(p, w, lambda, Math.max(1, ...p.prototypes.map((q) => dot(q, q)), Math.abs(dot(p.target, p.target))));
}

test('lasso objective: ½‖t − Σwᵢpᵢ‖² + λΣw as summed from the vectors, for any w ≥ 0 (zeros, Σw ≠ 1), both Gram routes', () => {
  const random = seededRandom(1420);
  let checked = 0;
  for (let trial = 0; trial < 60; trial++) {
    const k = 1 + (trial % 7);
    const dim = 2 + (trial % 5);
    const p = randomProblem(random, k, dim, { offset: trial % 3 === 0 ? 4 : 0 });
    const c = costMatrix(p.target, p.prototypes);
    for (const data of [lassoData(p.target, p.prototypes), lassoData(p.target, p.prototypes, c)]) {
      for (let s = 0; s < 4; s++) {
        // weights of both signs of 1 − Σw, some exactly 0
        const w = Array.from({ length: k }, (_, i) => (i % 3 === s % 3 ? 0 : random() * (s < 2 ? 0.5 : 2)));
        const lambda = s === 0 ? 0 : random() * Math.max(...data.b.map(Math.abs));
        const expected = direct(p, w, lambda);
        const actual = lassoObjective(c, data, w, lambda);
        const size = 0.5 * (dot(p.target, p.target) + Math.max(...p.prototypes.map((q) => dot(q, q))) * (1 + w.reduce((a, x) => a + x, 0)) ** 2) + lambda * w.reduce((a, x) => a + x, 0);
        assert.ok(Math.abs(actual - expected) <= 1e-12 * size, `trial ${trial} s=${s}: ${actual} vs ${expected}`);
        checked++;
      }
    }
  }
  assert.equal(checked, 480);
});

test('lasso objective: reported by the sparse lasso result, at the path point of its λ', () => {
  const random = seededRandom(1421);
  for (let trial = 0; trial < 20; trial++) {
    const p = randomProblem(random, 2 + (trial % 5), 6, { offset: trial % 2 ? 3 : 0 });
    const path = lambdaPath(p, 'lasso');
    for (const rho of [0.2, 0.6]) {
      const result = solveWeights(p, { strategy: 'sparse', form: 'lasso', rho });
      const lambda = rho * path.lambda_star;
      const expected = direct(p, sparseAt(path, lambda), lambda);
      assert.ok(result.objective !== undefined && Math.abs(result.objective - expected) <= 1e-10 * Math.abs(expected), `trial ${trial} ρ=${rho}: ${result.objective} vs ${expected}`);
    }
  }
});

test('lasso path: no prototype correlates positively with the target — one all-zero point at λ = 0, every name kept, the nearest adapter chosen', () => {
  const random = seededRandom(1422);
  for (let trial = 0; trial < 6; trial++) {
    const k = 2 + trial;
    const p = randomProblem(random, k, 4);
    if (trial % 2 === 0) {
      // every pᵢ·t < 0
      p.prototypes = p.prototypes.map((q) => q.map(Math.abs));
      p.target = p.target.map((x) => -Math.abs(x) - 0.5);
    } else {
      // pᵢ·t = 0 up to rounding: the prototypes span the first three axes, the target is the fourth
      // (plus 1e-17 along the first: a correlation at rounding level is no correlation)
      // (prototypes of length ~1e3 for trial 3: the rounding level of pᵢ·t scales with them)
      const size = trial === 3 ? 1e3 : 1;
      p.prototypes = p.prototypes.map((q) => Float64Array.from(q, (x, d) => (d === 3 ? 0 : size * x)));
      p.target = Float64Array.from([1e-17, 0, 0, 1]);
    }
    const path = lambdaPath(p, 'lasso');
    assert.equal(path.lambda_star, 0);
    assert.deepEqual(path.names, p.names);
    assert.deepEqual(path.breakpoints, [{ lambda: 0, weights: new Array<number>(k).fill(0) }]);
    const result = solveWeights(p, { strategy: 'sparse', form: 'lasso', rho: 0.5 });
    const distances = p.prototypes.map((q) => q.reduce((s, x, d) => s + (x - p.target[d]) ** 2, 0));
    const nearest = p.names[distances.indexOf(Math.min(...distances))];
    assert.deepEqual(Object.entries(result.weights).filter(([, x]) => x !== 0).map(([n]) => n), [nearest], `trial ${trial}`);
    assert.equal(result.weights[nearest], 1);
  }
});

test('lasso path: a correlation at the rounding level of |t|·|p| (a target 500 times longer than the prototypes, 1e-14 of it along them) is none; 1e-13 of it is one', () => {
  // |pᵢ| = 2, |t| = 1e3: pᵢ·t is summed with errors of ~1e-16·|t|·|p| = 2e-13 for a t off their span,
  // so the path is all zero up to 1e-14·|t|·|p| = 2e-11 (not 1e-14·max|pᵢ|² = 4e-14: the target's
  // length counts) and real above it
  const prototypes = [Float64Array.from([2, 0, 0, 0]), Float64Array.from([0, 2, 0, 0]), Float64Array.from([1, 1, 1, 0].map((x) => (x * 2) / Math.sqrt(3)))];
  for (const along of [0, 5e-12, 1e-11, 1e-10]) {
    const p: Problem = { target: Float64Array.from([along, 0, 0, 1e3]), prototypes, names: ['a', 'b', 'c'] };
    const path = lambdaPath(p, 'lasso');
    const correlation = Math.max(...prototypes.map((q) => dot(q, p.target)));
    if (along < 1e-10) {
      assert.equal(path.lambda_star, 0, `t₁ = ${along}: correlation ${correlation}`);
      assert.deepEqual(path.breakpoints, [{ lambda: 0, weights: [0, 0, 0] }]);
    } else {
      assert.equal(path.lambda_star, correlation);
      assert.ok(path.breakpoints.length > 1 && path.breakpoints[0].weights.some((x) => x > 0), `t₁ = ${along}`);
    }
  }
});

test('lasso path: many exact duplicates reach the boundary at once (2…10 enumerated, 11+ greedy) and every breakpoint is optimal', () => {
  const random = seededRandom(1423);
  for (const copies of [2, 3, 5, 11, 13]) {
    for (let trial = 0; trial < 3; trial++) {
      const others = 2 + trial;
      const base = randomProblem(random, others + 1, 5);
      // the duplicated prototype correlates best with the target: it is the first to enter (all copies at once)
      base.target = Float64Array.from(base.prototypes[0], (x) => x + 0.3 * (random() - 0.5));
      const prototypes = [...Array.from({ length: copies }, () => Float64Array.from(base.prototypes[0])), ...base.prototypes.slice(1)];
      const p: Problem = { target: base.target, prototypes, names: prototypes.map((_, i) => `adapter-${String(i).padStart(2, '0')}`) };
      const path = lambdaPath(p, 'lasso');
      assert.equal(path.lambda_star, Math.max(0, ...p.prototypes.map((q) => dot(q, p.target))));
      for (let b = 0; b < path.breakpoints.length; b++) {
        const point = path.breakpoints[b];
        assert.equal(kktViolation(p, point.weights, point.lambda), '', `${copies} copies, trial ${trial}, breakpoint λ=${point.lambda}`);
        if (b > 0) assert.ok(point.lambda > path.breakpoints[b - 1].lambda);
      }
      for (const ratio of [0.1, 0.5, 0.9]) {
        const lambda = ratio * path.lambda_star;
        assert.equal(kktViolation(p, sparseAt(path, lambda), lambda), '', `${copies} copies, trial ${trial}, λ = ${ratio}·λ*`);
      }
      assert.equal(path.breakpoints[0].lambda, 0);
      assert.equal(path.breakpoints[path.breakpoints.length - 1].lambda, path.lambda_star);
    }
  }
});

test('lasso path: a target far from the origin (t·t ≫ max‖pᵢ‖²) matches enumeration with the Gram summed from the vectors', () => {
  // pᵢ·pⱼ recovered from C (bᵢ + bⱼ − t·t + C_ij) cancels terms of size t·t: with |t| = 1e5 and |pᵢ| ≈ 1
  // that loses ~10 digits, so such a target must get the Gram from the vectors.
  const random = seededRandom(1424);
  for (let trial = 0; trial < 8; trial++) {
    const k = 2 + (trial % 3);
    const p = randomProblem(random, k, 4);
    // far along the prototypes' mean, so every pᵢ·t is large and positive for most i
    const mean = Float64Array.from(p.target, (_, d) => p.prototypes.reduce((s, q) => s + q[d], 0) / k);
    p.target = Float64Array.from(mean, (x, d) => 1e5 * x + p.target[d]);
    const path = lambdaPath(p, 'lasso');
    const g = p.prototypes.map((a) => p.prototypes.map((b) => dot(a, b)));
    const bv = p.prototypes.map((a) => dot(a, p.target));
    for (const ratio of [0.2, 0.5, 0.8]) {
      const lambda = ratio * path.lambda_star;
      // the reference: every support S, G_SS·w = b_S − λ, kept when w ≥ 0 and the KKT holds off S
      let expected: number[] | null = null;
      for (let mask = 1; mask < 1 << k && !expected; mask++) {
        const s = Array.from({ length: k }, (_, i) => i).filter((i) => mask & (1 << i));
        const rhs = s.map((i) => bv[i] - lambda);
        const x = gaussSolve(s.map((i) => s.map((j) => g[i][j])), rhs) ?? minimumNormSolve(s.map((i) => s.map((j) => g[i][j])), rhs);
        if (!x || x.some((v) => v <= 0)) continue;
        const w = new Array<number>(k).fill(0);
        s.forEach((i, a) => { w[i] = x[a]; });
        const off = Array.from({ length: k }, (_, j) => j).filter((j) => !s.includes(j));
        if (off.every((j) => bv[j] - g[j].reduce((t, gj, i) => t + gj * w[i], 0) <= lambda * (1 + 1e-9))) expected = w;
      }
      assert.ok(expected, `trial ${trial}: the reference found a support`);
      const raw = sparseAt(path, lambda);
      const size = Math.max(...expected.map(Math.abs));
      const diff = Math.max(...raw.map((x, i) => Math.abs(x - expected[i])));
      assert.ok(diff <= 1e-8 * size, `trial ${trial} λ = ${ratio}·λ*: ${raw} vs ${expected}`);
    }
  }
});

test('lasso path: 11-13 copies of a prototype that enters and later leaves — the copies leave together, above the enumeration limit, and every point stays optimal', () => {
  // The copies share the weight, so they reach 0 at the same λ: more than 10 candidates at the
  // boundary at once, each moving back towards 0 if it joined (the greedy choice drops them one by one).
  const random = seededRandom(78);
  let points = 0;
  for (let trial = 0; trial < 230; trial++) {
    const others = 2 + (trial % 5);
    const dim = 2 + (trial % 4);
    const base = randomProblem(random, others + 1, dim);
    const copies = 11 + (trial % 3);
    const prototypes = [...Array.from({ length: copies }, () => Float64Array.from(base.prototypes[0])), ...base.prototypes.slice(1)];
    // the target: mostly the others' mean, some of the duplicated one
    const mix = trial % 2 ? 0.5 : 0.2;
    const target = Float64Array.from(base.target, (x, d) => mix * base.prototypes[0][d] + base.prototypes.slice(1).reduce((s, q) => s + q[d], 0) / others + 0.1 * x);
    const p: Problem = { target, prototypes, names: prototypes.map((_, i) => `adapter-${String(i).padStart(2, '0')}`) };
    const path = lambdaPath(p, 'lasso');
    const lambdas = [...path.breakpoints.map((q) => q.lambda), ...path.breakpoints.slice(1).map((q, b) => (q.lambda + path.breakpoints[b].lambda) / 2)];
    for (const lambda of lambdas) {
      assert.equal(kktViolation(p, sparseAt(path, lambda), lambda), '', `trial ${trial} (${copies} copies, ${others} others, D=${dim}) λ=${lambda}`);
      points++;
    }
  }
  assert.ok(points > 1000, `${points} points checked`);
});

test('lasso weights: the raw path point at λ divided by its sum (0 < ρ < 1); at ρ ≥ 1 the direction of the first segment', () => {
  const random = seededRandom(1425);
  for (let trial = 0; trial < 10; trial++) {
    const p = randomProblem(random, 3 + (trial % 4), 6, { offset: trial % 2 ? 2 : 0 });
    const path = lambdaPath(p, 'lasso');
    if (!(path.lambda_star > 0)) continue;
    for (const rho of [0.1, 0.5, 0.9, 1, 2]) {
      const result = solveWeights(p, { strategy: 'sparse', form: 'lasso', rho });
      // below λ*: the raw point (checked against enumeration in weights/lassoPath) normalised; at and
      // above λ*: the raw point is 0, and the limit is the point just below λ*, normalised
      const raw = sparseAt(path, Math.min(rho, 0.999999) * path.lambda_star);
      const total = raw.reduce((s, x) => s + x, 0);
      p.names.forEach((n, i) => assert.ok(Math.abs(result.weights[n] - raw[i] / total) <= 1e-6, `trial ${trial} ρ=${rho} ${n}: ${result.weights[n]} vs ${raw[i] / total}`));
    }
  }
});
