/**
 * Every refusal of the weights step through its public entry points (solveWeights, sparseAt,
 * resolveSparsePenalty): the error code, a message that names what is wrong with this input (the
 * adapter, the index, the value — taken from the input here), and a hint saying what to do.
 * Added from the mutation review (docs/testing.md#mutation-testing): the existing tests checked the
 * codes only, so a message emptied or a check removed went unnoticed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RHO, defaultLambda, lambdaPath, resolveSparsePenalty, solveWeights, sparseAt } from '../../server/src/engine/weights';
import { ComposerError } from '../../server/src/engine/errors';
import type { WeightsParams } from '../../server/src/engine/types';
import { randomProblem, seededRandom } from './reference';

function refusal(call: () => unknown, code: string, message: RegExp, hint?: RegExp): void {
  assert.throws(call, (e: unknown) => {
    assert.ok(e instanceof ComposerError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    if (hint) assert.match(e.hint ?? '', hint);
    return true;
  });
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('the problem: no candidates, names that do not match the prototypes, a name twice, an empty or mis-sized or non-finite vector', () => {
  const random = seededRandom(1451);
  const p = randomProblem(random, 3, 5);
  refusal(() => solveWeights({ target: p.target, prototypes: [], names: [] }, { strategy: 'lin' }), 'weights', /no candidate/, /candidates/);
  refusal(() => solveWeights({ ...p, names: p.names.slice(0, 2) }, { strategy: 'lin' }), 'internal', new RegExp(`${p.prototypes.length} prototypes but 2 names`));
  refusal(() => solveWeights({ ...p, names: ['x', 'y', 'x'] }, { strategy: 'lin' }), 'weights', /'x' appears twice/, /unique/);
  // a problem that is fine up to the dimension check
  solveWeights(p, { strategy: 'lin' });
  refusal(() => solveWeights({ target: new Float64Array(0), prototypes: p.prototypes.map(() => new Float64Array(0)), names: p.names }, { strategy: 'lin' }), 'dimension', /target prototype is empty/);
  const short = p.prototypes.map((x, i) => (i === 2 ? x.subarray(0, 4) : x));
  refusal(() => solveWeights({ ...p, prototypes: short }, { strategy: 'lin' }), 'dimension', new RegExp(`'${p.names[2]}' has dimension 4, the target has 5`), /same encoder/);
  for (const [where, bad] of [[-1, NaN], [1, Infinity], [2, -Infinity]] as const) {
    const index = 3;
    const target = Float64Array.from(p.target);
    const prototypes = p.prototypes.map((x) => Float64Array.from(x));
    if (where < 0) target[index] = bad;
    else prototypes[where][index] = bad;
    const what = where < 0 ? 'the target prototype' : `the prototype of '${p.names[where]}'`;
    refusal(() => solveWeights({ target, prototypes, names: p.names }, { strategy: 'avg' }), 'non-finite', new RegExp(`^${escape(what)} has a non-finite value \\(${bad}\\) at index ${index}$`), /recompute/);
  }
});

test('the strategies: unknown strategy or sparse form, manual without or with wrong weights, a bad sim temperature', () => {
  const random = seededRandom(1452);
  const p = randomProblem(random, 3, 4);
  refusal(() => solveWeights(p, { strategy: 'median' } as unknown as WeightsParams), 'weights', /unknown weights strategy 'median'/, /avg, sim, lin, sparse, convex, nearest, manual/);
  refusal(() => solveWeights(p, { strategy: 'sparse', form: 'ridge' } as unknown as WeightsParams), 'weights', /unknown sparse form 'ridge'/, /constrained or lasso/);
  refusal(() => solveWeights(p, { strategy: 'manual' }), 'weights', /needs weights by adapter name/, /weights:/);
  refusal(() => solveWeights(p, { strategy: 'manual', manual: { [p.names[0]]: 0.5, ghost: 0.5 } }), 'weights', new RegExp(`'ghost', which is not among the candidates \\(${p.names.join(', ')}\\)`), /library ls/);
  refusal(() => solveWeights(p, { strategy: 'manual', manual: { [p.names[1]]: Infinity } }), 'non-finite', new RegExp(`'${p.names[1]}' is not a finite number \\(Infinity\\)`));
  for (const temperature of [0, -2, NaN, Infinity]) {
    refusal(() => solveWeights(p, { strategy: 'sim', temperature }), 'weights', new RegExp(`positive number, got ${temperature}$`), /median distance/);
  }
});

test('the sparse penalty: λ and ρ must be finite and ≥ 0, not both given; λ = 0 and ρ = 0 are allowed', () => {
  const random = seededRandom(1453);
  const p = randomProblem(random, 4, 3);
  const path = lambdaPath(p);
  for (const lambda of [-0.5, NaN, Infinity]) {
    refusal(() => solveWeights(p, { strategy: 'sparse', lambda }), 'weights', new RegExp(`λ must be a number ≥ 0, got ${lambda}$`), /λ = 0 gives lin/);
    refusal(() => sparseAt(path, lambda), 'weights', new RegExp(`got ${lambda}$`));
  }
  for (const rho of [-0.5, NaN, Infinity]) {
    refusal(() => solveWeights(p, { strategy: 'sparse', rho }), 'weights', new RegExp(`ρ = λ/λ\\* must be a number ≥ 0, got ${rho}$`), /ρ = 0 gives lin/);
  }
  refusal(() => resolveSparsePenalty(path, { lambda: 1, rho: 0.5 }), 'weights', /either `lambda`.*or `rho`.*not both/, /prefer `rho`/);
  refusal(() => sparseAt({ ...path, breakpoints: [] }, 0.1), 'internal', /empty λ-path/);
  // the boundary values are accepted
  assert.deepEqual(resolveSparsePenalty(path, { lambda: 0 }), path.lambda_star > 0 ? { lambda: 0, rho: 0 } : { lambda: 0 });
  assert.deepEqual(resolveSparsePenalty(path, { rho: 0 }), { lambda: 0, rho: 0 });
  assert.deepEqual(sparseAt(path, 0), path.breakpoints[0].weights);
  // the default penalty is ρ = DEFAULT_RHO, the same λ whether asked for by defaultLambda or by omission
  assert.ok(path.lambda_star > 0);
  assert.equal(defaultLambda(path), DEFAULT_RHO * path.lambda_star);
  assert.equal(solveWeights(p, { strategy: 'sparse' }).lambda, defaultLambda(path));
});

test('an absolute λ where λ* = 0 (lin is already ≥ 0) is kept without a ρ: λ/λ* would be infinite', () => {
  // a target inside the hull of affinely independent prototypes: lin = convex, no negative weight to price
  const random = seededRandom(1454);
  const p = randomProblem(random, 4, 5);
  p.target = Float64Array.from(p.target, (_, d) => 0.1 * p.prototypes[0][d] + 0.2 * p.prototypes[1][d] + 0.3 * p.prototypes[2][d] + 0.4 * p.prototypes[3][d]);
  const path = lambdaPath(p);
  assert.equal(path.lambda_star, 0);
  assert.deepEqual(resolveSparsePenalty(path, { lambda: 0.25 }), { lambda: 0.25 });
  const result = solveWeights(p, { strategy: 'sparse', lambda: 0.25 });
  assert.equal(result.lambda, 0.25);
  assert.equal(result.rho, undefined);
  assert.equal(result.lambda_star, 0);
  // and a ρ there is λ = ρ·0 = 0
  assert.deepEqual(resolveSparsePenalty(path, { rho: 0.7 }), { lambda: 0, rho: 0.7 });
});
