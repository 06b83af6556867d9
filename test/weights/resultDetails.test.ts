/**
 * What the mutation review of the small weights files (docs/testing.md#mutation-testing) found
 * untested: the clean-up of rounding noise and −0 in a StrategyResult, the fields a result carries only
 * when they apply, and sim when more than half of the candidates coincide with the target but not all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { costMatrix, solveWeights } from '../../server/src/engine/weights';
import { NONZERO_THRESHOLD, cleanWeights, strategyResult } from '../../server/src/engine/weights/result';
import { randomProblem, seededRandom } from './reference';

test('result: weights within 1e-13 of the largest are exact zeros (never −0), larger ones are kept as they are', () => {
  const random = seededRandom(1430);
  for (let trial = 0; trial < 20; trial++) {
    const k = 6;
    const largest = 10 ** (Math.floor(random() * 7) - 3) * (trial % 2 ? -1 : 1);
    // noise at ±0.5e-13·|largest|, an exact −0, and kept weights ≥ 1e-12·|largest|; the largest anywhere
    const w = [largest, 0.5e-13 * largest, -0.5e-13 * largest, -0, 1e-12 * largest, -0.3 * largest];
    const at = trial % k;
    [w[0], w[at]] = [w[at], w[0]];
    const out = cleanWeights(w);
    w.forEach((x, i) => {
      if (Math.abs(x) <= 1e-13 * Math.abs(largest)) assert.ok(Object.is(out[i], 0), `trial ${trial}: w[${i}] = ${x} → ${out[i]}`);
      else assert.equal(out[i], x, `trial ${trial}: w[${i}] kept`);
    });
  }
  // all zero (the largest is 0): −0 still becomes 0
  for (const x of cleanWeights([-0, 0, -0])) assert.ok(Object.is(x, 0));
});

test('result: nonzero counts |w| > NONZERO_THRESHOLD, objective and residual from C, the optional fields only when given', () => {
  const random = seededRandom(1431);
  const p = randomProblem(random, 4, 5);
  const c = costMatrix(p.target, p.prototypes);
  const w = [0.7, NONZERO_THRESHOLD, 0.3 - NONZERO_THRESHOLD, 0];
  const plain = strategyResult(c, p.names, w);
  assert.equal(plain.nonzero, 2, 'a weight of exactly the threshold does not count');
  assert.deepEqual(Object.keys(plain).sort(), ['nonzero', 'objective', 'residual', 'weights']);
  let quadratic = 0;
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) quadratic += w[i] * w[j] * c[i * 4 + j];
  assert.ok(Math.abs(plain.objective - quadratic) <= 1e-12 * quadratic);
  assert.ok(Math.abs(plain.residual - Math.sqrt(quadratic)) <= 1e-12 * Math.sqrt(quadratic));
  const full = strategyResult(c, p.names, w, { lambda: 0.5, lambda_star: 2, rho: 0.25, form: 'constrained', temperature: 3 });
  assert.deepEqual([full.lambda, full.lambda_star, full.rho, full.form, full.temperature], [0.5, 2, 0.25, 'constrained', 3]);
  const l1 = w.reduce((s, x) => s + Math.abs(x), 0);
  assert.ok(Math.abs(full.objective - (quadratic + 0.5 * l1)) <= 1e-12 * full.objective);
  const given = strategyResult(c, p.names, w, { lambda: 0.5, objective: 42 });
  assert.equal(given.objective, 42, 'an objective given (the lasso form) replaces wᵀCw + λ‖w‖₁');
  for (const strategy of ['lin', 'convex', 'avg', 'nearest'] as const) {
    const result = solveWeights(p, { strategy });
    for (const key of ['lambda', 'lambda_star', 'rho', 'form', 'temperature']) assert.ok(!(key in result), `${strategy} has no ${key}`);
  }
});

test('sim: when more than half of the candidates coincide with the target (median distance 0) they share the weight, the others get 0', () => {
  const random = seededRandom(1432);
  for (const [k, at] of [[5, [0, 1, 2]], [5, [2, 3, 4]], [7, [0, 2, 4, 6]], [6, [1, 2, 3, 5]]] as const) {
    const p = randomProblem(random, k, 4);
    for (const i of at) p.prototypes[i] = Float64Array.from(p.target);
    const sim = solveWeights(p, { strategy: 'sim' });
    assert.equal(sim.temperature, 0);
    p.names.forEach((n, i) => assert.equal(sim.weights[n], at.includes(i as never) ? 1 / at.length : 0, `k=${k} ${n}`));
  }
});

test('sparse: ρ = λ/λ* is reported when λ* > 0, and absent when λ* = 0 (both forms)', () => {
  const random = seededRandom(1433);
  // a problem where lin has a negative weight (constrained λ* > 0) and some pᵢ·t > 0 (lasso λ* > 0)
  let p = randomProblem(random, 4, 6);
  while (!(solveWeights(p, { strategy: 'sparse', rho: 0.5 }).lambda_star! > 0 && solveWeights(p, { strategy: 'sparse', form: 'lasso', rho: 0.5 }).lambda_star! > 0)) p = randomProblem(random, 4, 6);
  for (const form of ['constrained', 'lasso'] as const) {
    const byRho = solveWeights(p, { strategy: 'sparse', form, rho: 0.3 });
    assert.ok(byRho.lambda_star! > 0);
    assert.equal(byRho.rho, 0.3, form);
    assert.equal(byRho.lambda, 0.3 * byRho.lambda_star!, form);
    const byLambda = solveWeights(p, { strategy: 'sparse', form, lambda: 0.25 * byRho.lambda_star! });
    assert.equal(byLambda.rho, 0.25, form);
  }
  // λ* = 0: for the constrained form a target inside the hull of affinely independent prototypes (lin
  // is already ≥ 0); for the lasso form a target no prototype correlates with positively
  const inside = randomProblem(random, 3, 5);
  inside.target = Float64Array.from(inside.target, (_, d) => 0.2 * inside.prototypes[0][d] + 0.3 * inside.prototypes[1][d] + 0.5 * inside.prototypes[2][d]);
  const against = randomProblem(random, 3, 5);
  against.prototypes = against.prototypes.map((q) => q.map(Math.abs));
  against.target = against.target.map((x) => -Math.abs(x) - 0.5);
  for (const [form, q] of [['constrained', inside], ['lasso', against]] as const) {
    const result = solveWeights(q, { strategy: 'sparse', form, lambda: 0.5 });
    assert.equal(result.lambda_star, 0, form);
    assert.equal(result.lambda, 0.5, form);
    assert.ok(!('rho' in result), `${form}: no ρ when λ* = 0`);
  }
});
