/**
 * The WebAssembly SIMD Gram kernel: present on this runtime (Node 20 has WebAssembly SIMD, so CI
 * exercises it), bit for bit the scalar fallback (so weights do not depend on the runtime), exactly
 * symmetric, and within rounding of a plain one-accumulator dot product — over sizes that hit every
 * edge of the 2×4 blocking (k odd, k < 4, D odd, D = 1) and memory growth (k·D larger than one page);
 * and the λ-paths' kernels (row sums, substitutions, residuals, the pivoted Cholesky), each bit for bit
 * the loop it replaced; and the whole solver with the scalar twins only, bit for bit the SIMD run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { denseKernels, scalarKernels, simdKernels } from '../../server/src/engine/linalg/simdDot';
import { withScalarTwins } from '../../server/src/engine/linalg/scalarTwins';
import { addRows, dot } from '../../server/src/engine/linalg/dense';
import { choleskySolve, substituteCholesky } from '../../server/src/engine/linalg/cholesky';
import { costMatrix, solveAll, WeightsSession } from '../../server/src/engine/weights';
import { seededRandom, gaussian, randomFactor, randomProblem } from '../weights/reference';

const SIZES: [number, number][] = [[1, 1], [1, 7], [2, 3], [3, 5], [4, 4], [5, 9], [7, 2], [9, 1], [64, 768], [70, 769], [130, 300]];

function rowsOf(random: () => number, k: number, dim: number): Float64Array {
  // Mixed magnitudes, so a changed summation order shows in the last bits.
  return Float64Array.from({ length: k * dim }, (_, i) => gaussian(random) * (i % 3 === 0 ? 1e3 : 1));
}

test('the SIMD kernels load on this runtime', () => {
  assert.ok(simdKernels(), 'WebAssembly SIMD is available in Node 20; CI must exercise the SIMD path');
});

test('SIMD Gram = scalar Gram bit for bit, exactly symmetric, within rounding of a plain dot product', () => {
  const random = seededRandom(1204);
  const simd = simdKernels()!;
  for (const [k, dim] of SIZES) {
    const rows = rowsOf(random, k, dim);
    const fast = simd.gramOfRows(rows, k, dim);
    const scalar = scalarKernels.gramOfRows(rows, k, dim);
    for (let i = 0; i < k * k; i++) assert.ok(Object.is(fast[i], scalar[i]), `k=${k} D=${dim} entry ${i}: ${fast[i]} vs ${scalar[i]}`);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        assert.ok(Object.is(fast[i * k + j], fast[j * k + i]), `k=${k} D=${dim}: symmetric at ${i},${j}`);
        let plain = 0;
        let magnitude = 0;
        for (let t = 0; t < dim; t++) { plain += rows[i * dim + t] * rows[j * dim + t]; magnitude += Math.abs(rows[i * dim + t] * rows[j * dim + t]); }
        assert.ok(Math.abs(fast[i * k + j] - plain) <= 4 * dim * Number.EPSILON * magnitude, `k=${k} D=${dim} (${i},${j}): ${fast[i * k + j]} vs ${plain}`);
      }
    }
  }
});

test('SIMD squared distances = scalar bit for bit, zero diagonal, symmetric, within rounding of a plain sum', () => {
  const random = seededRandom(1207);
  const simd = simdKernels()!;
  for (const [k, dim] of SIZES) {
    const rows = rowsOf(random, k, dim);
    const fast = simd.squaredDistances(rows, k, dim);
    const scalar = scalarKernels.squaredDistances(rows, k, dim);
    for (let i = 0; i < k * k; i++) assert.ok(Object.is(fast[i], scalar[i]), `k=${k} D=${dim} entry ${i}: ${fast[i]} vs ${scalar[i]}`);
    for (let i = 0; i < k; i++) {
      assert.equal(fast[i * k + i], 0);
      for (let j = 0; j < k; j++) {
        assert.ok(Object.is(fast[i * k + j], fast[j * k + i]));
        let plain = 0;
        for (let t = 0; t < dim; t++) plain += (rows[i * dim + t] - rows[j * dim + t]) ** 2;
        assert.ok(Math.abs(fast[i * k + j] - plain) <= 4 * dim * Number.EPSILON * plain, `k=${k} D=${dim} (${i},${j}): ${fast[i * k + j]} vs ${plain}`);
      }
    }
  }
});

test('a smaller problem after a larger one reads no stale memory', () => {
  const random = seededRandom(1205);
  const simd = simdKernels()!;
  simd.gramOfRows(rowsOf(random, 80, 800), 80, 800);
  const rows = rowsOf(random, 3, 5);
  assert.deepEqual(Array.from(simd.gramOfRows(rows, 3, 5)), Array.from(scalarKernels.gramOfRows(rows, 3, 5)));
});

test('the cost matrix goes through the kernel: C = Gram of the differences t − pᵢ', () => {
  const random = seededRandom(1206);
  const target = Float64Array.from({ length: 33 }, () => gaussian(random));
  const prototypes = Array.from({ length: 6 }, () => Float64Array.from({ length: 33 }, () => gaussian(random)));
  const differences = new Float64Array(6 * 33);
  prototypes.forEach((p, i) => p.forEach((x, d) => { differences[i * 33 + d] = target[d] - x; }));
  assert.deepEqual(Array.from(costMatrix(target, prototypes)), Array.from(scalarKernels.gramOfRows(differences, 6, 33)));
});

test('SIMD row sums = dense.ts addRows bit for bit (any k, skipped zero weights, ±0, scales ±1 and 2), into their own vectors', () => {
  const random = seededRandom(1208);
  const simd = simdKernels()!;
  for (const k of [1, 2, 3, 4, 5, 7, 8, 9, 31, 64, 65]) {
    const m = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = i; j < k; j++) { const x = gaussian(random) * (j % 3 === 0 ? 1e3 : 1); m[i * k + j] = x; m[j * k + i] = x; }
    for (let trial = 0; trial < 10; trial++) {
      const rows = Array.from({ length: k }, (_, i) => i).filter(() => random() < 0.7);
      const v = Float64Array.from({ length: k }, () => (random() < 0.2 ? (random() < 0.5 ? 0 : -0) : gaussian(random)));
      const start = Float64Array.from({ length: k }, () => (random() < 0.1 ? -0 : gaussian(random)));
      for (const scale of [1, -1, 2]) {
        const fast = simd.rowSums(m, k, 2);
        assert.deepEqual(fast.vectors.map((x) => x.length), [k, k]);
        assert.ok(fast.vectors[0].every((x) => Object.is(x, 0)), 'the vectors start at zero');
        const out = fast.vectors[1];
        out.set(start);
        fast.addRows(out, rows, rows.length, v, scale);
        const expected = Float64Array.from(start);
        addRows(expected, m, k, rows, rows.length, v, scale);
        for (let i = 0; i < k; i++) assert.ok(Object.is(out[i], expected[i]), `k=${k} scale ${scale} entry ${i}: ${out[i]} vs ${expected[i]}`);
        const scalar = scalarKernels.rowSums(m, k, 1);
        scalar.vectors[0].set(start);
        scalar.addRows(scalar.vectors[0], rows, rows.length, v, scale);
        assert.deepEqual(Array.from(scalar.vectors[0]), Array.from(expected));
      }
    }
  }
});

test('a row-sum workspace refuses to run once another kernel call has reused the memory', () => {
  const simd = simdKernels()!;
  const sums = simd.rowSums(Float64Array.of(1, 2, 2, 5), 2, 1);
  sums.addRows(sums.vectors[0], [0, 1], 2, Float64Array.of(1, 1));
  assert.deepEqual(Array.from(sums.vectors[0]), [3, 7]);
  simd.gramOfRows(Float64Array.of(1, 2, 3), 1, 3);
  assert.throws(() => sums.addRows(sums.vectors[0], [0], 1, Float64Array.of(1, 0)), /reused/);
});

test('SIMD substitution (L with its transpose) = substituteCholesky and SIMD residual = rhs − dot, bit for bit, for every leading size m ≤ k', () => {
  const random = seededRandom(1209);
  const simd = simdKernels()!;
  for (const k of [1, 2, 3, 5, 8, 9, 33, 64]) {
    const space = simd.rowSums(new Float64Array(k * k), k, 4, 3);
    const [l, u, a] = space.matrices;
    const [y, z, rhs, out] = space.vectors;
    for (let m = 0; m <= k; m++) {
      randomFactor(random, l, u, a, k, m);
      const b = Float64Array.from({ length: k }, () => (random() < 0.2 ? -0 : gaussian(random)));
      y.set(b);
      space.substitute(l, u, m, y);
      const expected = substituteCholesky(l, k, m, b);
      for (let i = 0; i < m; i++) assert.ok(Object.is(y[i], expected[i]), `k=${k} m=${m} entry ${i}: ${y[i]} vs ${expected[i]}`);
      for (let i = m; i < k; i++) assert.ok(Object.is(y[i], b[i]), 'entries past m are left alone');
      // The forward half alone (an appended factor row): the scalar twin's, bit for bit, and L·y = b.
      y.set(b);
      space.forward(u, m, y);
      const scalarForward = Float64Array.from(b);
      scalarKernels.rowSums(new Float64Array(k * k), k, 0).forward(u, m, scalarForward);
      for (let i = 0; i < k; i++) assert.ok(Object.is(y[i], scalarForward[i]), `k=${k} m=${m} forward entry ${i}`);
      for (let i = 0; i < m; i++) {
        let lower = 0;
        let magnitude = 0;
        for (let j = 0; j <= i; j++) { lower += l[i * k + j] * y[j]; magnitude += Math.abs(l[i * k + j] * y[j]); }
        assert.ok(Math.abs(lower - b[i]) <= 1e-12 * (magnitude + Math.abs(b[i])), `k=${k} m=${m}: (L·y)[${i}] = ${lower} vs ${b[i]}`);
      }
      z.set(b.map((x) => 3 * x + 1));
      rhs.set(b);
      space.residual(a, m, z, rhs, out);
      for (let p = 0; p < m; p++) {
        const plain = rhs[p] - dot(a, p * k, z, 0, m);
        assert.ok(Object.is(out[p], plain), `k=${k} m=${m} residual ${p}: ${out[p]} vs ${plain}`);
      }
    }
  }
});

test('costOrGram: the cost matrix (gramOfDifferences) or, when asked after the products, the prototypes\' Gram (gramOfRows), = the scalar twin, bit for bit', () => {
  const random = seededRandom(1211);
  for (const [k, dim] of [[1, 1], [3, 7], [64, 768], [5, 769]] as const) {
    const target = Float64Array.from({ length: dim }, () => gaussian(random) * 100);
    const prototypes = Array.from({ length: k }, () => Float64Array.from({ length: dim }, () => gaussian(random) * 100));
    const rows = new Float64Array(k * dim);
    prototypes.forEach((p, i) => rows.set(p, i * dim));
    for (const own of [false, true]) {
      const products = () => ({ b: new Float64Array(k), e: new Float64Array(k), squares: new Float64Array(k) });
      const [fastProducts, scalarProducts, plainProducts] = [products(), products(), products()];
      let asked = 0;
      const fast = simdKernels()!.costOrGram(target, prototypes, fastProducts, (q) => { asked++; assert.ok(q.squares.every((x) => x > 0)); return own; });
      const scalar = scalarKernels.costOrGram(target, prototypes, scalarProducts, () => own);
      assert.equal(asked, 1);
      assert.equal(fast.gram, own);
      assert.equal(scalar.gram, own);
      const expected = own ? scalarKernels.gramOfRows(rows, k, dim) : scalarKernels.gramOfDifferences(target, prototypes, plainProducts);
      for (let i = 0; i < k * k; i++) assert.ok(Object.is(fast.matrix[i], scalar.matrix[i]) && Object.is(fast.matrix[i], expected[i]), `k=${k} D=${dim} own=${own} entry ${i}`);
      for (const key of ['b', 'e', 'squares'] as const) for (let i = 0; i < k; i++) assert.ok(Object.is(fastProducts[key][i], scalarProducts[key][i]), `k=${k} ${key}[${i}]`);
    }
  }
});

test('the cost matrix from the differences formed in kernel memory, and the lasso products of the same pass, = the scalar twin, bit for bit (odd D, k not a multiple of 4)', () => {
  const random = seededRandom(1210);
  for (const [k, dim] of [[1, 1], [3, 7], [64, 768], [5, 769]] as const) {
    const target = Float64Array.from({ length: dim }, () => gaussian(random) * 100);
    const prototypes = Array.from({ length: k }, () => Float64Array.from({ length: dim }, () => gaussian(random) * 100));
    const products = { b: new Float64Array(k), e: new Float64Array(k), squares: new Float64Array(k) };
    const fast = simdKernels()!.gramOfDifferences(target, prototypes, products);
    const scalarProducts = { b: new Float64Array(k), e: new Float64Array(k), squares: new Float64Array(k) };
    const scalar = scalarKernels.gramOfDifferences(target, prototypes, scalarProducts);
    for (let i = 0; i < k * k; i++) assert.ok(Object.is(fast[i], scalar[i]), `k=${k} D=${dim} entry ${i}`);
    // The lasso's products from the same pass: bit for bit the scalar ones, and each the plain sum.
    for (const key of ['b', 'e', 'squares'] as const) {
      for (let i = 0; i < k; i++) {
        assert.ok(Object.is(products[key][i], scalarProducts[key][i]), `k=${k} D=${dim} ${key}[${i}]`);
        let plain = 0;
        for (let d = 0; d < dim; d++) {
          const p = prototypes[i][d];
          const t = target[d];
          plain += key === 'b' ? p * t : key === 'e' ? (t - p) * t : p * p;
        }
        assert.ok(Object.is(products[key][i], plain), `k=${k} D=${dim} ${key}[${i}] is the sum in ascending order`);
      }
    }
  }
});

test('SIMD pivoted Cholesky solve = cholesky.ts choleskySolve bit for bit, null on the same (rank-deficient) matrices, and it leaves a row-sum workspace alone', () => {
  const random = seededRandom(1211);
  const simd = simdKernels()!;
  const space = simd.rowSums(Float64Array.of(2, 1, 1, 2), 2, 1);
  let refused = 0;
  // Sizes up, then down again: each solve runs over what the larger ones left in the module memory.
  for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 33, 64, 70, 33, 9, 4, 1]) {
    for (let trial = 0; trial < 4; trial++) {
      const rank = trial === 3 ? Math.max(1, n - 2) : n + 3;
      const x = Array.from({ length: n * rank }, () => gaussian(random));
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = dot(x, i * rank, x, j * rank, rank);
      const b = Float64Array.from({ length: n }, () => gaussian(random));
      const reference = trial % 2 === 1 ? 1 : 0;
      const expected = choleskySolve(a, n, b, reference);
      const fast = simd.choleskySolve(a, n, b, reference);
      assert.equal(fast === null, expected === null, `n=${n} trial ${trial}: singular on both or neither`);
      if (!expected || !fast) { refused++; continue; }
      for (let i = 0; i < n; i++) assert.ok(Object.is(fast[i], expected[i]), `n=${n} trial ${trial} entry ${i}: ${fast[i]} vs ${expected[i]}`);
    }
  }
  assert.ok(refused > 0, 'the rank-deficient cases are refused');
  space.addRows(space.vectors[0], [0, 1], 2, Float64Array.of(1, 1));
  assert.deepEqual(Array.from(space.vectors[0]), [3, 3]);
});

test('the whole solver gives the same bits with the scalar twins (a runtime without WebAssembly SIMD): every strategy, both paths, objectives', () => {
  const random = seededRandom(1212);
  const cases = [
    randomProblem(random, 64, 768),
    randomProblem(random, 33, 100, { duplicates: 2, offset: 50 }),
    randomProblem(random, 9, 7, { affineMixes: 1 }),
  ];
  for (const problem of cases) {
    // A target near an affine mix, so lin has negative weights and both paths have many breakpoints.
    const mix = problem.prototypes.map(() => gaussian(random));
    const total = mix.reduce((a, b) => a + b, 0);
    problem.target = Float64Array.from(problem.target, (x, d) => 0.2 * x + problem.prototypes.reduce((s, p, i) => s + (mix[i] / total) * p[d], 0));
    for (const form of ['constrained', 'lasso'] as const) {
      const params = { strategy: 'sparse' as const, form, rho: 0.4 };
      const fast = solveAll(problem, params);
      const scalar = withScalarTwins(() => solveAll(problem, params));
      assert.ok(Object.is(denseKernels(), simdKernels()), 'back to the SIMD kernels after the scalar run');
      assert.deepEqual(JSON.stringify(scalar), JSON.stringify(fast), `k=${problem.names.length} ${form}: the same results`);
      const numbers = (x: unknown): number[] => (typeof x === 'number' ? [x] : x && typeof x === 'object' ? Object.values(x).flatMap(numbers) : []);
      const a = numbers(fast);
      const b = numbers(scalar);
      assert.equal(a.length, b.length);
      a.forEach((x, i) => assert.ok(Object.is(x, b[i]), `k=${problem.names.length} ${form}: number ${i} ${x} vs ${b[i]}`));
      assert.ok((fast.lambdaPaths.constrained?.breakpoints.length ?? 0) > 2, 'the constrained path has breakpoints to compare');
    }
  }
});

test('the paths write every entry of their kernel scratch matrices before reading it: garbage left in the module memory changes no bit', () => {
  const random = seededRandom(1213);
  const simd = simdKernels()!;
  for (const [k, dim] of [[40, 50], [17, 9]] as const) {
    const problem = randomProblem(random, k, dim);
    const mix = problem.prototypes.map(() => gaussian(random));
    const total = mix.reduce((a, b) => a + b, 0);
    problem.target = Float64Array.from(problem.target, (x, d) => 0.2 * x + problem.prototypes.reduce((s, p, i) => s + (mix[i] / total) * p[d], 0));
    const scalar = withScalarTwins(() => {
      const session = new WeightsSession(problem);
      return [session.lambdaPath(), session.lassoPath()];
    });
    const session = new WeightsSession(problem);
    session.linear();
    session.convexHull();
    // A workspace with no vectors and eight matrices covers the memory where each path's workspace,
    // made next, puts its matrices (after its vectors): fill it with finite garbage (NaN or 0 could
    // send both runs down the same singular fallback), which would change the bits of any result
    // computed from an entry read before it was written.
    const poison = () => { for (const m of simd.rowSums(new Float64Array(k * k), k, 0, 8).matrices) for (let i = 0; i < m.length; i++) m[i] = 0.5 + random(); };
    poison();
    const constrained = session.lambdaPath();
    poison();
    const lasso = session.lassoPath();
    for (const [path, expected] of [[constrained, scalar[0]], [lasso, scalar[1]]] as const) {
      assert.ok(path.breakpoints.length > 2, `k=${k}: breakpoints to compare`);
      assert.equal(path.breakpoints.length, expected.breakpoints.length);
      path.breakpoints.forEach((point, p) => {
        assert.ok(Object.is(point.lambda, expected.breakpoints[p].lambda), `k=${k} breakpoint ${p}: λ`);
        point.weights.forEach((x, i) => assert.ok(Object.is(x, expected.breakpoints[p].weights[i]), `k=${k} breakpoint ${p} weight ${i}: ${x} vs ${expected.breakpoints[p].weights[i]}`));
      });
    }
  }
});
