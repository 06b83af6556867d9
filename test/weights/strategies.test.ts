import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lambdaPath, medianDistance, solveAll, solveWeights, sparseAt, sumOfWeights, costMatrix } from '../../server/src/engine/weights';
import { ComposerError } from '../../server/src/engine/errors';
import { STRATEGIES } from '../../server/src/engine/types';
import {
  closeObjective, directResidualSquared, l1, randomProblem, referenceCost, referenceSparse, seededRandom, sparseViolation, sum,
} from './reference';

const distances = (p: ReturnType<typeof randomProblem>) => referenceCost(p.target, p.prototypes).map((r, i) => r[i]);

test('avg gives 1/k and nearest puts everything on the closest candidate (ties: first)', () => {
  const random = seededRandom(301);
  for (let trial = 0; trial < 50; trial++) {
    const k = 1 + Math.floor(random() * 8);
    const p = randomProblem(random, k, 5, { duplicates: trial % 3 === 0 ? 1 : 0 });
    const avg = solveWeights(p, { strategy: 'avg' });
    for (const name of p.names) assert.equal(avg.weights[name], 1 / k);
    assert.ok(Math.abs(avg.residual ** 2 - directResidualSquared(p, p.names.map(() => 1 / k))) <= 1e-10 * (1 + avg.objective));
    const d = distances(p);
    const best = d.indexOf(Math.min(...d));
    const nearest = solveWeights(p, { strategy: 'nearest' });
    assert.deepEqual(p.names.map((n) => nearest.weights[n]), d.map((_, i) => (i === best ? 1 : 0)));
    assert.equal(nearest.nonzero, 1);
  }
  const p = randomProblem(random, 3, 4);
  p.prototypes[2] = Float64Array.from(p.prototypes[0]);
  p.prototypes[1] = p.prototypes[0].map((x) => x + 10);
  const tie = solveWeights(p, { strategy: 'nearest' });
  assert.deepEqual(tie.weights, { 'adapter-0': 1, 'adapter-1': 0, 'adapter-2': 0 });
});

test('sim is softmax(−d/τ) with τ = median distance by default, stable for huge distances', () => {
  const random = seededRandom(302);
  for (let trial = 0; trial < 50; trial++) {
    const k = 1 + Math.floor(random() * 7);
    const p = randomProblem(random, k, 6);
    const d = distances(p);
    const sorted = [...d].sort((a, b) => a - b);
    const median = k % 2 ? sorted[(k - 1) / 2] : (sorted[k / 2 - 1] + sorted[k / 2]) / 2;
    const sim = solveWeights(p, { strategy: 'sim' });
    assert.ok(Math.abs(sim.temperature! - median) <= 1e-12 * median);
    assert.ok(Math.abs(medianDistance(costMatrix(p.target, p.prototypes), k) - median) <= 1e-12 * median);
    const raw = d.map((x) => Math.exp(-x / median));
    const total = raw.reduce((a, b) => a + b, 0);
    p.names.forEach((n, i) => assert.ok(Math.abs(sim.weights[n] - raw[i] / total) <= 1e-12));
    assert.ok(Math.abs(sum(Object.values(sim.weights)) - 1) <= 1e-12);
    const sharp = solveWeights(p, { strategy: 'sim', temperature: median / 10 });
    assert.equal(sharp.temperature, median / 10);
  }
  // Distances ~1e6 and a tiny τ: exp(−d/τ) underflows naively; the result must still be a distribution.
  const far = randomProblem(random, 4, 3);
  far.prototypes = far.prototypes.map((x, i) => x.map((v) => v * 1000 + i));
  const sim = solveWeights(far, { strategy: 'sim', temperature: 1e-3 });
  const w = Object.values(sim.weights);
  assert.ok(w.every((x) => Number.isFinite(x) && x >= 0));
  assert.ok(Math.abs(sum(w) - 1) <= 1e-12);
  assert.equal(w[distances(far).indexOf(Math.min(...distances(far)))], 1);
});

test('sim: a zero median distance spreads the weight over the candidates at the target', () => {
  const target = Float64Array.from([1, 2, 3]);
  const p = { target, prototypes: [Float64Array.from([0, 0, 0]), Float64Array.from(target), Float64Array.from(target)], names: ['a', 'b', 'c'] };
  const sim = solveWeights(p, { strategy: 'sim' });
  assert.deepEqual(sim.weights, { a: 0, b: 0.5, c: 0.5 });
  assert.equal(sim.temperature, 0);
  for (const temperature of [0, -1, NaN]) {
    assert.throws(() => solveWeights(p, { strategy: 'sim', temperature }), (e: unknown) => e instanceof ComposerError && e.code === 'weights');
  }
});

test('manual: weights by name, as given; unknown names are errors; the residual is exact even when Σw ≠ 1', () => {
  const random = seededRandom(303);
  const p = randomProblem(random, 3, 5);
  const manual = { 'adapter-2': 0.7, 'adapter-0': 0.5 };
  const result = solveWeights(p, { strategy: 'manual', manual });
  assert.deepEqual(Object.keys(result.weights), p.names);
  assert.deepEqual(result.weights, { 'adapter-0': 0.5, 'adapter-1': 0, 'adapter-2': 0.7 });
  assert.ok(Math.abs(sumOfWeights(manual) - 1.2) < 1e-15);
  const direct = directResidualSquared(p, [0.5, 0, 0.7]);
  assert.ok(Math.abs(result.objective - direct) <= 1e-12 * direct);
  assert.ok(Math.abs(result.residual - Math.sqrt(direct)) <= 1e-12 * Math.sqrt(direct));
  assert.throws(() => solveWeights(p, { strategy: 'manual', manual: { nope: 1 } }), (e: unknown) => e instanceof ComposerError && e.code === 'weights' && /nope/.test(e.message));
  assert.throws(() => solveWeights(p, { strategy: 'manual', manual: { 'adapter-0': NaN } }), (e: unknown) => e instanceof ComposerError && e.code === 'non-finite');
  assert.throws(() => solveWeights(p, { strategy: 'manual' }), (e: unknown) => e instanceof ComposerError && e.code === 'weights');
});

test('solveAll: every strategy over one C; manual only when given; consistent with solveWeights', () => {
  const random = seededRandom(304);
  const p = randomProblem(random, 6, 9);
  const params = { strategy: 'sparse' as const, lambda: 0.3, manual: { 'adapter-1': 1 } };
  const all = solveAll(p, params);
  assert.deepEqual(Object.keys(all.strategies).sort(), [...STRATEGIES].sort());
  for (const strategy of STRATEGIES) assert.deepEqual(all.strategies[strategy], solveWeights(p, { ...params, strategy }));
  assert.deepEqual(all.lambdaPath, lambdaPath(p));
  const withoutManual = solveAll(p, { strategy: 'lin' });
  assert.equal(withoutManual.strategies.manual, undefined);
  for (const result of Object.values(all.strategies)) {
    assert.equal(result.nonzero, Object.values(result.weights).filter((x) => Math.abs(x) > 1e-12).length);
    assert.ok(Object.values(result.weights).every(Number.isFinite));
  }
  // The optimisers are ordered as their feasible sets are: lin ≤ convex ≤ nearest in residual.
  const s = all.strategies;
  assert.ok(s.lin!.residual <= s.convex!.residual * (1 + 1e-12));
  assert.ok(s.convex!.residual <= s.nearest!.residual * (1 + 1e-12));
});

test('determinism: the same input gives bit-identical output', () => {
  const random = seededRandom(305);
  for (let trial = 0; trial < 20; trial++) {
    const p = randomProblem(random, 2 + (trial % 9), trial % 2 ? 3 : 40, { duplicates: trial % 3 === 0 ? 1 : 0 });
    const copy = { target: Float64Array.from(p.target), prototypes: p.prototypes.map((x) => Float64Array.from(x)), names: [...p.names] };
    const a = solveAll(p, { strategy: 'sparse', lambda: 0.2 });
    const b = solveAll(copy, { strategy: 'sparse', lambda: 0.2 });
    const bits = (x: unknown) => JSON.stringify(x, (_, v) => (typeof v === 'number' ? Array.from(new Uint8Array(Float64Array.of(v).buffer)).join(',') : v));
    assert.equal(bits(a), bits(b));
  }
});

test('k > D + 1 (D = 3, k = 8): sparse matches the exhaustive reference', () => {
  const random = seededRandom(306);
  for (let trial = 0; trial < 4; trial++) {
    const p = randomProblem(random, 8, 3, { duplicates: trial % 2 });
    const c = referenceCost(p.target, p.prototypes);
    const path = lambdaPath(p);
    for (const lambda of [0.05 * path.lambda_star, 0.5 * path.lambda_star]) {
      const w = sparseAt(path, lambda);
      assert.equal(sparseViolation(c, w, lambda), '');
      const ref = referenceSparse(c, lambda);
      const objective = solveWeights(p, { strategy: 'sparse', lambda }).objective;
      assert.ok(closeObjective(objective, ref.objective, c, ref.weights), `${objective} vs ${ref.objective}`);
      assert.ok(Math.abs(sum(w) - 1) <= 1e-12 * Math.max(1, l1(w)));
    }
  }
});

test('sparse splits exact duplicates evenly along the whole path', () => {
  const random = seededRandom(307);
  for (let trial = 0; trial < 40; trial++) {
    const p = randomProblem(random, 5, 6);
    p.prototypes[4] = Float64Array.from(p.prototypes[2]);
    for (const point of lambdaPath(p).breakpoints) {
      const w = point.weights;
      assert.ok(Math.abs(w[2] - w[4]) <= 1e-10 * (1 + l1(w)), `λ=${point.lambda}: ${w}`);
    }
  }
});
