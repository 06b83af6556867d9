// The library map's PCA against an independent computation: the covariance formed here, its
// eigenvectors by a cyclic Jacobi written in this file (not the engine's), the same sign rule
// (largest |loading| positive), and the projections compared coordinate by coordinate. Covers
// both routes of the engine (covariance when d ≤ n, Gram matrix when n < d) and the subspace
// iteration used for larger matrices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pca2, project } from '../../server/src/engine/library/pca';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** Rows with a clear 2-d structure plus noise (so the top two eigenvalues are separated). */
function rowsOf(n: number, d: number, seed: number): number[][] {
  const r = rng(seed);
  const u = Array.from({ length: d }, () => r());
  const v = Array.from({ length: d }, () => r());
  return Array.from({ length: n }, () => {
    const a = 5 * r();
    const b = 2 * r();
    return Array.from({ length: d }, (_, j) => 3 + a * u[j] + b * v[j] + 0.05 * r());
  });
}

/** Independent: full covariance, Jacobi eigenvectors, top two, sign fixed. */
function referencePca(rows: number[][]): { mean: number[]; axes: number[][]; values: number[]; total: number } {
  const n = rows.length;
  const d = rows[0].length;
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / n);
  const a = Array.from({ length: d }, (_, p) => Array.from({ length: d }, (_, q) => rows.reduce((s, r) => s + (r[p] - mean[p]) * (r[q] - mean[q]), 0) / n));
  const total = a.reduce((s, row, i) => s + row[i], 0);
  const v: number[][] = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p][q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((x, y) => a[y][y] - a[x][x]);
  const axes = order.slice(0, 2).map((col) => {
    const axis = v.map((row) => row[col]);
    let big = 0;
    for (let j = 1; j < d; j++) if (Math.abs(axis[j]) > Math.abs(axis[big])) big = j;
    return axis[big] < 0 ? axis.map((x) => -x) : axis;
  });
  return { mean, axes, values: order.slice(0, 2).map((i) => a[i][i]), total };
}

function check(n: number, d: number, seed: number): void {
  const rows = rowsOf(n, d, seed);
  const basis = pca2(rows, d);
  const ref = referencePca(rows);
  assert.equal(basis.axes.length, 2);
  assert.ok(Math.abs(basis.totalVariance - ref.total) <= 1e-10 * ref.total);
  for (let k = 0; k < 2; k++) {
    assert.ok(Math.abs(basis.variances[k] - ref.values[k]) <= 1e-9 * ref.values[0], `λ${k}: ${basis.variances[k]} vs ${ref.values[k]}`);
    assert.ok(Math.abs(basis.explained[k] - ref.values[k] / ref.total) <= 1e-9);
  }
  const scale = Math.sqrt(ref.values[0]);
  for (const r of [...rows, rows[0].map((x) => x + 1)]) {
    const [x, y] = project(basis, r);
    const rx = r.reduce((s, xj, j) => s + (xj - ref.mean[j]) * ref.axes[0][j], 0);
    const ry = r.reduce((s, xj, j) => s + (xj - ref.mean[j]) * ref.axes[1][j], 0);
    assert.ok(Math.abs(x - rx) <= 1e-7 * scale, `x ${x} vs ${rx}`);
    assert.ok(Math.abs(y - ry) <= 1e-7 * scale, `y ${y} vs ${ry}`);
  }
}

test('PCA (covariance route, exact Jacobi) matches the independent eigendecomposition', () => check(40, 6, 1));
test('PCA (Gram route, n < d) matches the independent eigendecomposition', () => check(5, 12, 2));
test('PCA (subspace iteration, d = 64) matches the independent eigendecomposition', () => check(200, 64, 3));
test('PCA (Gram route with subspace iteration, 60 rows of 90-d) matches', () => check(60, 90, 4));

test('PCA is deterministic and the sign rule holds', () => {
  const rows = rowsOf(100, 64, 5);
  const a = pca2(rows, 64);
  const b = pca2(rows.map((r) => [...r]), 64);
  assert.deepEqual(a.axes.map((x) => Array.from(x)), b.axes.map((x) => Array.from(x)));
  for (const axis of a.axes) {
    const big = Array.from(axis).reduce((best, x) => (Math.abs(x) > Math.abs(best) ? x : best), 0);
    assert.ok(big > 0);
  }
});

test('PCA of identical rows has no axes (nothing to explain) and refuses no rows', () => {
  const basis = pca2([[1, 2, 3], [1, 2, 3]], 3);
  assert.equal(basis.axes.length, 0);
  assert.deepEqual(project(basis, [4, 5, 6]), [0, 0]);
  assert.throws(() => pca2([], 3), /no prototypes/);
  assert.throws(() => pca2([[1, 2]], 3), /dimension/);
});
