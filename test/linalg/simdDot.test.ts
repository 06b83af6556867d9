/**
 * The WebAssembly SIMD Gram kernel: present on this runtime (Node 20 has WebAssembly SIMD, so CI
 * exercises it), bit for bit the scalar fallback (so weights do not depend on the runtime), exactly
 * symmetric, and within rounding of a plain one-accumulator dot product — over sizes that hit every
 * edge of the 2×4 blocking (k odd, k < 4, D odd, D = 1) and memory growth (k·D larger than one page).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scalarKernels, simdKernels } from '../../server/src/engine/linalg/simdDot';
import { costMatrix } from '../../server/src/engine/weights';
import { seededRandom, gaussian } from '../weights/reference';

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
