// The dense helpers of engine/linalg against independent computations written here: eigenpairs of
// matrices built from chosen eigenvalues and a random orthogonal basis, the two eigen-solvers against
// each other, Cholesky factors against plain textbook recomputation, and the kernels against loops.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { householderQlEigen, jacobiEigen, pseudoInverseSolve, type EigenOrder, type SymmetricEigen } from '../../server/src/engine/linalg/eigen';
import { appendBesideTranspose, choleskyDelete, choleskySolve, pivotedCholesky, substituteCholesky } from '../../server/src/engine/linalg/cholesky';
import { dot, multiply, rowGram, transpose } from '../../server/src/engine/linalg/dense';
import { seededRandom } from '../../server/src/engine/random';

const rng = (seed: number): (() => number) => {
  const uniform = seededRandom(seed);
  return () => uniform() - 0.5;
};

/** A random orthogonal n×n matrix: the product of n Householder reflections I − 2vvᵀ/vᵀv. */
function randomOrthogonal(n: number, r: () => number): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let s = 0; s < n; s++) {
    const v = Array.from({ length: n }, r);
    const vv = v.reduce((a, x) => a + x * x, 0);
    // Q ← Q·(I − 2vvᵀ/vᵀv)
    for (let i = 0; i < n; i++) {
      let qv = 0;
      for (let j = 0; j < n; j++) qv += q[i * n + j] * v[j];
      for (let j = 0; j < n; j++) q[i * n + j] -= (2 * qv * v[j]) / vv;
    }
  }
  return q;
}

/** Q·diag(λ)·Qᵀ. */
function withEigenvalues(lambda: number[], q: Float64Array): Float64Array {
  const n = lambda.length;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let t = 0; t < n; t++) s += q[i * n + t] * lambda[t] * q[j * n + t];
    a[i * n + j] = s;
  }
  return a;
}

const SOLVERS: [string, (a: Float64Array, n: number, order: EigenOrder) => SymmetricEigen][] = [
  ['jacobiEigen', jacobiEigen],
  ['householderQlEigen', householderQlEigen],
];

for (const [name, solve] of SOLVERS) {
  test(`${name}: the chosen eigenvalues of Q·diag(λ)·Qᵀ, in the order asked for, with A·v = λ·v and orthonormal v`, () => {
    const r = rng(name.length);
    const cases: number[][] = [
      [3, -1, 0.5, 7, 2, -4, 1e-3, 0],
      [2, 2, 2, 1, 1, 5], // repeated
      [0, 0, 0, 1e-9, 4], // rank-deficient
      Array.from({ length: 24 }, (_, i) => (i - 11) * 0.37),
      [6],
    ];
    for (const lambda of cases) {
      const n = lambda.length;
      const a = withEigenvalues(lambda, randomOrthogonal(n, r));
      const scale = Math.max(...lambda.map(Math.abs));
      for (const order of ['ascending', 'descending'] as const) {
        const { values, vectors } = solve(a, n, order);
        const expected = [...lambda].sort((x, y) => (order === 'ascending' ? x - y : y - x));
        for (let j = 0; j < n; j++) assert.ok(Math.abs(values[j] - expected[j]) <= 1e-12 * scale, `${name} ${order} λ${j}: ${values[j]} vs ${expected[j]}`);
        for (let j = 0; j < n; j++) {
          for (let i = 0; i < n; i++) {
            let av = 0;
            for (let t = 0; t < n; t++) av += a[i * n + t] * vectors[t * n + j];
            assert.ok(Math.abs(av - values[j] * vectors[i * n + j]) <= 1e-11 * scale, `${name} A·v = λ·v, pair ${j}`);
          }
          for (let k = 0; k < n; k++) {
            let vv = 0;
            for (let t = 0; t < n; t++) vv += vectors[t * n + j] * vectors[t * n + k];
            assert.ok(Math.abs(vv - (j === k ? 1 : 0)) <= 1e-12, `${name} vᵀv, ${j} ${k}`);
          }
        }
      }
    }
  });
}

test('the two eigen-solvers agree on random symmetric matrices; the two orders are each other reversed', () => {
  const r = rng(7);
  for (const n of [1, 2, 5, 17, 40]) {
    const x = Float64Array.from({ length: n * n }, r);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = x[i * n + j] + x[j * n + i];
    const jacobi = jacobiEigen(a, n, 'ascending');
    const ql = householderQlEigen(a, n, 'descending');
    let scale = 0;
    for (const v of jacobi.values) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < n; j++) assert.ok(Math.abs(jacobi.values[j] - ql.values[n - 1 - j]) <= 1e-12 * scale, `n=${n} λ${j}`);
    assert.deepEqual(Array.from(jacobiEigen(a, n, 'descending').values), Array.from(jacobi.values).reverse());
  }
});

test('pseudoInverseSolve gives the least-squares solution of a rank-deficient system', () => {
  const r = rng(3);
  const n = 6;
  const q = randomOrthogonal(n, r);
  const a = withEigenvalues([0, 0, 1, 2, 3, 4], q);
  const b = Float64Array.from({ length: n }, r);
  const x = pseudoInverseSolve(jacobiEigen(a, n, 'ascending'), n, b);
  // A⁺b = Σ over the non-zero eigenpairs (qᵀb / λ)·q, computed from the chosen basis
  const lambda = [0, 0, 1, 2, 3, 4];
  for (let i = 0; i < n; i++) {
    let expected = 0;
    for (let t = 2; t < n; t++) {
      let qb = 0;
      for (let s = 0; s < n; s++) qb += q[s * n + t] * b[s];
      expected += (qb / lambda[t]) * q[i * n + t];
    }
    assert.ok(Math.abs(x[i] - expected) < 1e-12, `x${i}: ${x[i]} vs ${expected}`);
  }
});

/** A random SPD matrix XᵀX + n·I and a textbook (unpivoted) Cholesky of it. */
function spd(n: number, r: () => number): Float64Array {
  const x = Float64Array.from({ length: n * n }, r);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    for (let t = 0; t < n; t++) a[i * n + j] += x[t * n + i] * x[t * n + j];
    if (i === j) a[i * n + j] += n;
  }
  return a;
}

function textbookCholesky(a: Float64Array, n: number, stride = n): Float64Array {
  const l = new Float64Array(n * stride);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
    let s = a[i * n + j];
    for (let t = 0; t < j; t++) s -= l[i * stride + t] * l[j * stride + t];
    l[i * stride + j] = i === j ? Math.sqrt(s) : s / l[j * stride + j];
  }
  return l;
}

test('choleskySolve and substituteCholesky solve A·x = b; a singular A answers null', () => {
  const r = rng(11);
  const n = 9;
  const a = spd(n, r);
  const b = Float64Array.from({ length: n }, r);
  for (const x of [choleskySolve(a, n, b)!, substituteCholesky(textbookCholesky(a, n), n, n, b)]) {
    for (let i = 0; i < n; i++) {
      let ax = 0;
      for (let j = 0; j < n; j++) ax += a[i * n + j] * x[j];
      assert.ok(Math.abs(ax - b[i]) < 1e-10, `row ${i}: ${ax} vs ${b[i]}`);
    }
  }
  const singular = withEigenvalues([0, 1, 2], randomOrthogonal(3, r));
  assert.equal(choleskySolve(singular, 3, new Float64Array([1, 2, 3])), null);
});

test('pivotedCholesky reproduces the Gram in pivot order and stops at its rank', () => {
  const r = rng(5);
  const R = 10, cols = 7, rank = 4;
  const base = Float64Array.from({ length: rank * cols }, r);
  const x = new Float64Array(R * cols);
  for (let i = 0; i < R; i++) for (let t = 0; t < cols; t++) x[i * cols + t] = base[(i % rank) * cols + t] * (1 + i);
  const g = rowGram(x, R, cols);
  const { k, pivots, l } = pivotedCholesky(g, R);
  assert.equal(k, rank);
  assert.equal(new Set(Array.from(pivots.subarray(0, k))).size, k);
  let scale = 0;
  for (let i = 0; i < R; i++) scale = Math.max(scale, g[i * R + i]);
  for (let s = 0; s < R; s++) for (let t = 0; t < R; t++) {
    let llt = 0;
    for (let j = 0; j < k; j++) llt += l[s * R + j] * l[t * R + j];
    assert.ok(Math.abs(llt - g[s * R + t]) <= 1e-10 * scale, `G[${s},${t}]`);
  }
});

test('choleskyDelete gives the Cholesky factor of the matrix without that row and column', () => {
  const r = rng(13);
  const n = 8, stride = 10;
  const a = spd(n, r);
  for (const p of [0, 3, n - 1]) {
    const factor = textbookCholesky(a, n, stride);
    choleskyDelete(factor, stride, n, p, new Float64Array(n));
    const keep = Array.from({ length: n }, (_, i) => i).filter((i) => i !== p);
    const reduced = new Float64Array((n - 1) * (n - 1));
    keep.forEach((i, ri) => keep.forEach((j, rj) => (reduced[ri * (n - 1) + rj] = a[i * n + j])));
    const expected = textbookCholesky(reduced, n - 1);
    for (let i = 0; i < n - 1; i++) for (let j = 0; j <= i; j++) {
      assert.ok(Math.abs(factor[i * stride + j] - expected[i * (n - 1) + j]) < 1e-12, `p=${p} L[${i},${j}]`);
    }
  }
});

test('appendBesideTranspose builds the Cholesky factor and its transpose member by member; a dependent member is refused, nothing written', () => {
  const r = rng(19);
  const n = 7, stride = 9;
  const a = spd(n, r);
  const factor = new Float64Array(stride * stride);
  const transposed = new Float64Array(stride * stride);
  // L·x = l by rows of the factor (the kernels do it from the transpose)
  const solveLower = (l: Float64Array, m: number) => {
    for (let i = 0; i < m; i++) {
      let s = l[i];
      for (let p = 0; p < i; p++) s -= factor[i * stride + p] * l[p];
      l[i] = s / factor[i * stride + i];
    }
  };
  const column = (j: number) => Float64Array.from({ length: n }, (_, p) => a[p * n + j]);
  for (let j = 0; j < n; j++) assert.ok(appendBesideTranspose(factor, transposed, stride, j, column(j), a[j * n + j], 1e-12, solveLower));
  const expected = textbookCholesky(a, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      assert.ok(Math.abs(factor[i * stride + j] - expected[i * n + j]) < 1e-12, `L[${i},${j}]`);
      assert.equal(transposed[j * stride + i], factor[i * stride + j], `Lᵀ[${j},${i}]`);
    }
  }
  // a member equal to member 0 (same column, same diagonal) after member 0 alone adds nothing
  const before = Float64Array.from(factor), beforeT = Float64Array.from(transposed);
  assert.equal(appendBesideTranspose(factor, transposed, stride, 1, column(0).subarray(0, 1).slice(), a[0], 1e-9 * a[0], solveLower), false);
  assert.deepEqual(factor, before);
  assert.deepEqual(transposed, beforeT);
});

test('dense kernels match plain loops: dot, transpose, X·Xᵀ, M·X', () => {
  const r = rng(17);
  const rows = 5, cols = 11, k = 3;
  const x = Float64Array.from({ length: rows * cols }, r);
  const m = Float64Array.from({ length: k * rows }, r);
  m[1] = 0;
  const g = rowGram(x, rows, cols);
  const t = transpose(x, rows, cols);
  const mx = multiply(m, k, x, rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < rows; j++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += x[i * cols + c] * x[j * cols + c];
    assert.ok(Math.abs(g[i * rows + j] - s) < 1e-14);
    assert.ok(Math.abs(dot(x, i * cols, x, j * cols, cols) - s) < 1e-14);
  }
  for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) assert.equal(t[c * rows + i], x[i * cols + c]);
  for (let i = 0; i < k; i++) for (let c = 0; c < cols; c++) {
    let s = 0;
    for (let j = 0; j < rows; j++) s += m[i * rows + j] * x[j * cols + c];
    assert.ok(Math.abs(mx[i * cols + c] - s) < 1e-14);
  }
});
