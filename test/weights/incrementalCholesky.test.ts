/**
 * The Cholesky factor kept across a path's breakpoints (engine/weights/incrementalCholesky.ts) alone:
 * through random sequences of subsets (members added, dropped from any position, reordered, more than
 * the rebuild interval of changes) every solve must match Gaussian elimination on A_SS written out in
 * test/weights/reference.ts, and a subset on which A is singular must be refused (null).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncrementalCholesky } from '../../server/src/engine/weights/incrementalCholesky';
import { gaussSolve, gaussian, seededRandom } from './reference';

/** A = PᵀP for k random vectors in D dimensions (positive definite on any ≤ D of them, generically). */
function gram(random: () => number, k: number, dim: number, conditioned = 1): Float64Array {
  const p = Array.from({ length: k }, (_, i) => Array.from({ length: dim }, (_, d) => gaussian(random) * (d === 0 ? 1 : conditioned ** (i / k))));
  const a = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) a[i * k + j] = p[i].reduce((s, x, d) => s + x * p[j][d], 0);
  return a;
}

test('incremental Cholesky: solves on a random sequence of subsets match Gaussian elimination on A_SS', () => {
  const random = seededRandom(1440);
  let solves = 0;
  for (let trial = 0; trial < 12; trial++) {
    const k = 6 + (trial % 7);
    const a = gram(random, k, k + 2, trial % 3 === 2 ? 1e-2 : 1);
    let scale = 0;
    for (let i = 0; i < k; i++) scale = Math.max(scale, a[i * k + i]);
    const factor = new IncrementalCholesky(a, k, scale);
    let subset: number[] = [];
    for (let step = 0; step < 80; step++) {
      // add one, drop one (anywhere), or jump to a fresh random subset; order of the subset varies too
      const move = random();
      const outside = Array.from({ length: k }, (_, i) => i).filter((i) => !subset.includes(i));
      if (move < 0.45 && outside.length > 0) subset = [...subset, outside[Math.floor(random() * outside.length)]];
      else if (move < 0.85 && subset.length > 1) subset = subset.filter((_, at) => at !== Math.floor(random() * subset.length));
      else subset = Array.from({ length: k }, (_, i) => i).filter(() => random() < 0.5);
      if (subset.length === 0) subset = [Math.floor(random() * k)];
      if (random() < 0.3) subset = [...subset].reverse();
      const b = subset.map(() => gaussian(random));
      const x = factor.solve(subset, b);
      const expected = gaussSolve(subset.map((i) => subset.map((j) => a[i * k + j])), b);
      assert.ok(x && expected, `trial ${trial} step ${step}: A_SS on ${subset} is positive definite`);
      const size = Math.max(...expected.map(Math.abs));
      subset.forEach((_, s) => assert.ok(Math.abs(x[s] - expected[s]) <= 1e-9 * size, `trial ${trial} step ${step} (${subset}): x[${s}] = ${x[s]} vs ${expected[s]}`));
      // the residual of the refined solution is at rounding level of A_SS·x
      subset.forEach((i, s) => {
        let r = b[s];
        let magnitude = Math.abs(b[s]);
        subset.forEach((j, t) => { r -= a[i * k + j] * x[t]; magnitude += Math.abs(a[i * k + j] * x[t]); });
        assert.ok(Math.abs(r) <= 1e-13 * magnitude, `trial ${trial} step ${step}: residual ${r} of row ${i}`);
      });
      solves++;
    }
  }
  assert.equal(solves, 960);
});

test('incremental Cholesky: a subset with a dependent member is refused, and the factor still solves afterwards', () => {
  const random = seededRandom(1441);
  for (let trial = 0; trial < 10; trial++) {
    const k = 7;
    const dim = 4;
    // only 4 dimensions: any 5 members are dependent; members 5 and 6 copy 0 and mix 1, 2
    const p = Array.from({ length: k }, () => Array.from({ length: dim }, () => gaussian(random)));
    p[5] = [...p[0]];
    p[6] = p[1].map((x, d) => 0.5 * x + 0.5 * p[2][d]);
    const a = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) a[i * k + j] = p[i].reduce((s, x, d) => s + x * p[j][d], 0);
    let scale = 0;
    for (let i = 0; i < k; i++) scale = Math.max(scale, a[i * k + i]);
    const factor = new IncrementalCholesky(a, k, scale);
    for (const [subset, singular] of [[[0, 1], false], [[0, 1, 5], true], [[1, 3], false], [[1, 2, 6], true], [[0, 1, 2, 3, 4], true], [[4, 3, 2, 1], false], [[2, 6], false], [[6, 2, 1], true], [[3, 0], false]] as const) {
      const b = subset.map(() => gaussian(random));
      const x = factor.solve(subset, b);
      if (singular) {
        assert.equal(x, null, `trial ${trial}: ${subset} is singular`);
        continue;
      }
      const expected = gaussSolve(subset.map((i) => subset.map((j) => a[i * k + j])), b);
      assert.ok(x && expected, `trial ${trial}: ${subset}`);
      const size = Math.max(...expected.map(Math.abs));
      subset.forEach((_, s) => assert.ok(Math.abs(x[s] - expected[s]) <= 1e-9 * size, `trial ${trial} (${subset}): ${x[s]} vs ${expected[s]}`));
    }
  }
});

test('incremental Cholesky: the dependence threshold is relative to the largest diagonal (a pivot² of 1e-12·scale is refused, 1e-8·scale is not)', () => {
  const random = seededRandom(1442);
  for (const size of [1e-3, 1, 100]) {
    const dim = 4;
    const base = Array.from({ length: 3 }, () => Array.from({ length: dim }, () => size * gaussian(random)));
    // a unit direction orthogonal to the first vector: the near copy's pivot² is ε²·size² exactly enough
    const u = Array.from({ length: dim }, () => gaussian(random));
    const along = u.reduce((s, x, d) => s + x * base[0][d], 0) / base[0].reduce((s, x) => s + x * x, 0);
    const orth = u.map((x, d) => x - along * base[0][d]);
    const norm = Math.hypot(...orth);
    const p = [...base, ...[1e-6, 1e-4].map((relative) => base[0].map((x, d) => x + relative * size * Math.sqrt(dim) * (orth[d] / norm)))];
    const k = p.length;
    const a = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) a[i * k + j] = p[i].reduce((s, x, d) => s + x * p[j][d], 0);
    let scale = 0;
    for (let i = 0; i < k; i++) scale = Math.max(scale, a[i * k + i]);
    // pivot² of member 3 (4) after member 0: ‖its part orthogonal to p₀‖² = (1e-6)²·size²·D (resp. (1e-4)²…)
    // ≈ 1e-12·scale (resp. 1e-8·scale), scale ≈ size²·D
    const factor = new IncrementalCholesky(a, k, scale);
    assert.equal(factor.solve([0, 3], [1, 1]), null, `size ${size}: a pivot² of ~1e-12·scale is refused`);
    const x = factor.solve([0, 4], [1, 1]);
    const expected = gaussSolve([[a[0], a[4]], [a[4 * k], a[4 * k + 4]]], [1, 1]);
    assert.ok(x && expected, `size ${size}: a pivot² of ~1e-8·scale is solved`);
    // (the answer's first subset.length entries: the buffer is k long and reused)
    expected.forEach((e, s) => assert.ok(Math.abs(x[s] - e) <= 1e-4 * Math.max(...expected.map(Math.abs)), `size ${size}: ${x[s]} vs ${e}`));
  }
});
