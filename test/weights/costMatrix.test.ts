import { test } from 'node:test';
import assert from 'node:assert/strict';
import { costMatrix, solveWeights } from '../../server/src/engine/weights';
import { quadraticForm, squaredDistance } from '../../server/src/engine/weights/costMatrix';
import { ComposerError } from '../../server/src/engine/errors';
import { directResidualSquared, quadratic, randomProblem, referenceCost, seededRandom, sum } from './reference';

function asRows(c: Float64Array, k: number): number[][] {
  return Array.from({ length: k }, (_, i) => Array.from(c.subarray(i * k, (i + 1) * k)));
}

test('C matches the definition and is symmetric', () => {
  const random = seededRandom(11);
  for (let trial = 0; trial < 50; trial++) {
    const k = 1 + Math.floor(random() * 9);
    const dim = 1 + Math.floor(random() * 40);
    const p = randomProblem(random, k, dim);
    const c = costMatrix(p.target, p.prototypes);
    const ref = referenceCost(p.target, p.prototypes);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      assert.equal(c[i * k + j], c[j * k + i]);
      assert.ok(Math.abs(c[i * k + j] - ref[i][j]) <= 1e-12 * (1 + Math.abs(ref[i][i]) + Math.abs(ref[j][j])));
    }
  }
});

test('wᵀCw equals ‖t − Σwᵢpᵢ‖² whenever Σw = 1', () => {
  const random = seededRandom(12);
  for (let trial = 0; trial < 50; trial++) {
    const k = 1 + Math.floor(random() * 6);
    const p = randomProblem(random, k, 7);
    const w = Array.from({ length: k }, () => random() * 4 - 2);
    const s = sum(w);
    w[0] += 1 - s;
    const c = asRows(costMatrix(p.target, p.prototypes), k);
    const direct = directResidualSquared(p, w);
    assert.ok(Math.abs(quadratic(c, w) - direct) <= 1e-10 * (1 + direct));
  }
});

test('prototypes offset by 1e6: the C form keeps ~1e-10, the raw Gram route does not', () => {
  const random = seededRandom(13);
  const k = 6;
  const dim = 64;
  const base = randomProblem(random, k, dim);
  const shift = 1e6;
  const target = base.target.map((x) => x + shift);
  const prototypes = base.prototypes.map((p) => p.map((x) => x + shift));
  const exact = costMatrix(base.target, base.prototypes);
  const shifted = costMatrix(target, prototypes);
  let worstC = 0;
  let worstGram = 0;
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    const denom = Math.sqrt(exact[i * k + i] * exact[j * k + j]);
    worstC = Math.max(worstC, Math.abs(shifted[i * k + j] - exact[i * k + j]) / denom);
    // The route this module avoids: tᵀt − tᵀpᵢ − tᵀpⱼ + pᵢᵀpⱼ from raw inner products.
    const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, d) => s + x * b[d], 0);
    const gram = dot(target, target) - dot(target, prototypes[i]) - dot(target, prototypes[j]) + dot(prototypes[i], prototypes[j]);
    worstGram = Math.max(worstGram, Math.abs(gram - exact[i * k + j]) / denom);
  }
  assert.ok(worstC < 1e-8, `C-form relative error ${worstC}`);
  assert.ok(worstGram > 1e-5, `the Gram route was expected to lose accuracy here (got ${worstGram})`);
  // And the weights agree with the un-shifted problem (the problem is translation invariant).
  for (const strategy of ['lin', 'convex', 'sparse'] as const) {
    const a = solveWeights({ ...base }, { strategy, lambda: 0.1 });
    const b = solveWeights({ target, prototypes, names: base.names }, { strategy, lambda: 0.1 });
    for (const name of base.names) assert.ok(Math.abs(a.weights[name] - b.weights[name]) < 1e-6, `${strategy} ${name}`);
    assert.ok(Math.abs(a.objective - b.objective) <= 1e-7 * a.objective);
  }
});

test('NaN / Inf inputs are rejected with a non-finite ComposerError', () => {
  const random = seededRandom(14);
  const p = randomProblem(random, 3, 5);
  const badTarget = Float64Array.from(p.target);
  badTarget[2] = NaN;
  const badPrototype = p.prototypes.map((x) => Float64Array.from(x));
  badPrototype[1][4] = Infinity;
  for (const call of [
    () => costMatrix(badTarget, p.prototypes),
    () => costMatrix(p.target, badPrototype),
    () => solveWeights({ target: badTarget, prototypes: p.prototypes, names: p.names }, { strategy: 'lin' }),
    () => solveWeights({ target: p.target, prototypes: badPrototype, names: p.names }, { strategy: 'sparse', lambda: 1 }),
  ]) {
    assert.throws(call, (e: unknown) => e instanceof ComposerError && e.code === 'non-finite');
  }
  // Overflowing distances are non-finite too, not NaN weights.
  const huge = p.prototypes.map((x) => x.map((v) => v * 1e200));
  assert.throws(() => solveWeights({ target: p.target, prototypes: huge, names: p.names }, { strategy: 'lin' }), (e: unknown) => e instanceof ComposerError && e.code === 'non-finite');
});

test('dimension mismatch, no candidates and duplicate names are user errors', () => {
  const random = seededRandom(15);
  const p = randomProblem(random, 3, 5);
  const short = [...p.prototypes];
  short[1] = short[1].subarray(0, 4);
  assert.throws(() => costMatrix(p.target, short), (e: unknown) => e instanceof ComposerError && e.code === 'dimension');
  assert.throws(() => solveWeights({ target: p.target, prototypes: [], names: [] }, { strategy: 'avg' }), (e: unknown) => e instanceof ComposerError && e.code === 'weights');
  assert.throws(() => solveWeights({ ...p, names: ['a', 'b', 'a'] }, { strategy: 'avg' }), (e: unknown) => e instanceof ComposerError && e.code === 'weights');
});

test('C for every k from 1 to 11 (odd k, blocks of 2×4 and their remainders) equals the direct sums, exactly symmetric', () => {
  const random = seededRandom(0xc057);
  for (let k = 1; k <= 11; k++) {
    const { target, prototypes } = randomProblem(random, k, 7);
    const c = costMatrix(target, prototypes);
    const ref = referenceCost(target, prototypes);
    assert.equal(c.length, k * k);
    // the same sums (the kernel's accumulation order may differ in the last bit), and exactly symmetric
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        assert.ok(Math.abs(c[i * k + j] - ref[i][j]) <= 1e-13 * Math.max(1, Math.abs(ref[i][j])), `k = ${k}, C[${i}][${j}] = ${c[i * k + j]} vs ${ref[i][j]}`);
        assert.equal(c[i * k + j], c[j * k + i]);
      }
    }
  }
});

test('squaredDistance and quadraticForm against direct sums; wᵀCw is the residual ‖t − Σwᵢpᵢ‖² (Σw = 1), clamped at 0', () => {
  const random = seededRandom(0xd157);
  const problem = randomProblem(random, 5, 9);
  for (const p of problem.prototypes) {
    let s = 0;
    for (let d = 0; d < p.length; d++) s += (problem.target[d] - p[d]) ** 2;
    assert.equal(squaredDistance(problem.target, p), s);
  }
  assert.equal(squaredDistance([1, 2, 3], [1, 2, 3]), 0);
  assert.equal(squaredDistance([0, 3], [4, 0]), 25);
  const c = costMatrix(problem.target, problem.prototypes);
  const w = [0.5, 0, -0.25, 0.5, 0.25];
  const direct = directResidualSquared(problem, w);
  assert.ok(Math.abs(quadraticForm(c, 5, w) - direct) <= 1e-12 * direct, `${quadraticForm(c, 5, w)} vs ${direct}`);
  assert.equal(quadraticForm(Float64Array.from([-1]), 1, [1]), 0, 'a negative total (rounding) is 0');
  assert.equal(quadraticForm(Float64Array.from([2, 1, 1, 3]), 2, [1, 0]), 2);
  assert.equal(quadraticForm(Float64Array.from([2, 1, 1, 3]), 2, [0, 1]), 3);
  assert.equal(quadraticForm(Float64Array.from([2, 1, 1, 3]), 2, [1, 1]), 7);
});

test('quadraticForm is the row-by-row sum written out, bit for bit: rows with wᵢ = 0 (either sign) skipped, every other row summed over all j in ascending order, the rows added in order', () => {
  const random = seededRandom(0x9f0a);
  for (const k of [1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 31, 64, 70]) {
    const c = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = i; j < k; j++) { const x = (random() - 0.3) * (j % 3 === 0 ? 1e3 : 1); c[i * k + j] = x; c[j * k + i] = x; }
    for (let i = 0; i < k; i++) c[i * k + i] = Math.abs(c[i * k + i]) + 1e3 * k; // mostly positive totals (not clamped)
    for (const density of [0, 0.1, 0.5, 0.9, 1]) {
      const w = Array.from({ length: k }, () => (random() < density ? random() - 0.4 : random() < 0.5 ? 0 : -0));
      let total = 0;
      for (let i = 0; i < k; i++) {
        if (w[i] === 0) continue;
        let row = 0;
        for (let j = 0; j < k; j++) row += c[i * k + j] * w[j];
        total += w[i] * row;
      }
      const expected = Math.max(0, total);
      const got = quadraticForm(c, k, w);
      assert.ok(Object.is(got, expected), `k=${k} density ${density}: ${got} vs ${expected}`);
      assert.ok(Object.is(quadraticForm(c, k, Float64Array.from(w)), expected), `k=${k} density ${density}, typed`);
    }
  }
});

test('an overflow in any entry of C is refused, not only in the first', () => {
  const refused = (e: unknown) => e instanceof ComposerError && e.code === 'non-finite'
    && e.message === 'the distances between the target and the candidate prototypes overflow float64' && /too large/.test(e.hint ?? '');
  // C[0][0] = 1 is finite; C[1][1] = 1e400 is not
  assert.throws(() => costMatrix(Float64Array.from([0]), [Float64Array.from([1]), Float64Array.from([1e200])]), refused);
});
