import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lambdaPath, solveAll, solveWeights, sparseAt } from '../../server/src/engine/weights';
import { closeObjective, l1, randomProblem, referenceCost, referenceMinimumNormSparse, seededRandom, sparseViolation, type Problem } from './reference';

/** Problems whose sparse optimum is often not unique: duplicates, or more prototypes than D + 1. */
function* degenerateProblems(seed: number, count: number): Generator<Problem> {
  const random = seededRandom(seed);
  for (let trial = 0; trial < count; trial++) {
    const k = 3 + Math.floor(random() * 4);
    const dim = 1 + Math.floor(random() * 4);
    const kind = random();
    const duplicates = kind < 0.3 ? 1 + Math.floor(random() * 2) : 0;
    const affineMixes = kind >= 0.3 ? 1 + Math.floor(random() * 2) : 0;
    yield randomProblem(random, k, dim, { duplicates, affineMixes });
  }
}

/** The path read off at λ: optimal, but not necessarily the minimum-norm minimiser. */
function lambdaPathWeights(p: Problem, lambda: number): number[] {
  return sparseAt(lambdaPath(p), lambda);
}

function sameWeights(a: number[], b: number[]): boolean {
  return a.every((x, i) => Math.abs(x - b[i]) <= 1e-6 * (1 + l1(b)));
}

test('sparse: the minimum-norm minimiser among all minimisers (exhaustive reference)', () => {
  const random = seededRandom(301);
  let checked = 0;
  let ambiguous = 0;
  for (const p of degenerateProblems(302, 160)) {
    const c = referenceCost(p.target, p.prototypes);
    const star = lambdaPath(p).lambda_star;
    if (star === 0) continue;
    for (const fraction of [0.05 + 0.9 * random(), 0.05 + 0.9 * random()]) {
      const lambda = star * fraction;
      const result = solveWeights(p, { strategy: 'sparse', lambda });
      const w = p.names.map((n) => result.weights[n]);
      assert.equal(sparseViolation(c, w, lambda), '', `k=${p.names.length} D=${p.target.length} λ=${lambda} w=${w}`);
      const ref = referenceMinimumNormSparse(c, lambda);
      assert.ok(closeObjective(result.objective, ref.objective, c, ref.weights), `objective ${result.objective} vs ${ref.objective}`);
      assert.ok(sameWeights(w, ref.weights), `k=${p.names.length} D=${p.target.length} λ=${lambda}\n  got ${w}\n  min-norm ${ref.weights}`);
      if (!sameWeights(lambdaPathWeights(p, lambda), ref.weights)) ambiguous++;
      checked++;
    }
  }
  assert.ok(checked >= 150, `checked ${checked}`);
  assert.ok(ambiguous >= 8, `only ${ambiguous} cases where the plain path point is not the minimum-norm one`);
});

test('sparse minimum-norm weights are deterministic (bit-identical on reruns)', () => {
  for (const p of degenerateProblems(303, 30)) {
    const star = lambdaPath(p).lambda_star;
    const params = { strategy: 'sparse' as const, lambda: star * 0.4 };
    const first = solveAll(p, params).strategies.sparse;
    const second = solveAll(p, params).strategies.sparse;
    assert.deepEqual(second, first);
    assert.deepEqual(solveWeights(p, params), first);
  }
});
