import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RHO, lambdaPath, solveAll, solveWeights } from '../../server/src/engine/weights';
import { randomProblem, seededRandom } from './reference';

const scaled = (p: ReturnType<typeof randomProblem>, s: number) => ({
  names: p.names,
  target: p.target.map((x) => x * s),
  prototypes: p.prototypes.map((q) => q.map((x) => x * s)),
});

function relativeDifference(a: Record<string, number>, b: Record<string, number>): number {
  let largest = 0;
  let diff = 0;
  for (const name of Object.keys(a)) {
    largest = Math.max(largest, Math.abs(a[name]));
    diff = Math.max(diff, Math.abs(a[name] - b[name]));
  }
  return diff / Math.max(largest, 1e-300);
}

test('sparse with the same ρ gives the same weights for prototypes and target scaled by 1e-3 … 1e3', () => {
  const random = seededRandom(1201);
  let worst = 0;
  for (let trial = 0; trial < 60; trial++) {
    const k = 2 + Math.floor(random() * 7);
    const p = randomProblem(random, k, 3 + Math.floor(random() * 6));
    for (const rho of [0, 0.1, 0.25, DEFAULT_RHO, 0.9, 1, 2]) {
      const base = solveWeights(p, { strategy: 'sparse', rho });
      for (const s of [1e-3, 1e-2, 0.1, 10, 1e3]) {
        const other = solveWeights(scaled(p, s), { strategy: 'sparse', rho });
        const d = relativeDifference(base.weights, other.weights);
        worst = Math.max(worst, d);
        assert.ok(d <= 1e-9, `trial ${trial} ρ=${rho} s=${s}: weights differ by ${d}`);
        assert.equal(other.rho, rho);
        // λ scales with the features (λ* ∝ s²); ρ does not.
        assert.ok(Math.abs(other.lambda! - base.lambda! * s * s) <= 1e-9 * Math.max(base.lambda! * s * s, 1e-300) + 1e-300);
      }
    }
  }
  console.log(`# sparse scale invariance: worst relative weight difference ${worst.toExponential(2)}`);
});

test('one default: the recipe without λ/ρ and `--strategy sparse` over another recipe both use ρ = DEFAULT_RHO', () => {
  const random = seededRandom(1202);
  const p = randomProblem(random, 5, 4);
  const star = lambdaPath(p).lambda_star;
  const fromSparse = solveAll(p, { strategy: 'sparse' }).strategies.sparse!;
  const fromLin = solveAll(p, { strategy: 'lin' }).strategies.sparse!;
  assert.deepEqual(fromLin, fromSparse);
  assert.equal(fromSparse.rho, DEFAULT_RHO);
  assert.equal(fromSparse.lambda, DEFAULT_RHO * star);
  assert.equal(fromSparse.form, 'constrained');
});

test('absolute λ is kept, reported with its ρ = λ/λ*; λ and ρ together are an error', () => {
  const random = seededRandom(1203);
  const p = randomProblem(random, 5, 3);
  const star = lambdaPath(p).lambda_star;
  assert.ok(star > 0);
  const r = solveWeights(p, { strategy: 'sparse', lambda: star / 4 });
  assert.equal(r.lambda, star / 4);
  assert.ok(Math.abs(r.rho! - 0.25) < 1e-15);
  assert.deepEqual(r.weights, solveWeights(p, { strategy: 'sparse', rho: 0.25 }).weights);
  assert.throws(() => solveWeights(p, { strategy: 'sparse', lambda: 0.1, rho: 0.5 }), /either `lambda`.*or `rho`/);
  assert.throws(() => solveWeights(p, { strategy: 'sparse', rho: -1 }), /ρ/);
  assert.deepEqual(solveWeights(p, { strategy: 'sparse', rho: 0 }).weights, solveWeights(p, { strategy: 'lin' }).weights);
  assert.deepEqual(solveWeights(p, { strategy: 'sparse', rho: 1 }).weights, solveWeights(p, { strategy: 'convex' }).weights);
});
