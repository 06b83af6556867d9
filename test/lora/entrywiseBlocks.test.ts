/**
 * entrywiseModule (engine/lora/entrywiseMerge.ts) on a module too wide for one row block (about 4 M
 * entries per block): the result must not depend on where the blocks fall — trims whose ties span
 * blocks, DARE's row-major draws, the sign election — checked against the dense reference of the
 * published algorithms. Also its own argument checks. Called directly (no
 * files): ~1 s, listed after entrywiseMerge in the mutation run (scripts/mutate.mjs).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ComposerError } from '../../server/src/engine/errors';
import { dareStreamKey, dareUniform, entrywiseModule, type EntrywiseMethod } from '../../server/src/engine/lora/entrywiseMerge';
import { jsProducts } from '../../server/src/engine/lora/panelProducts';

// 4 rows of 2²⁰ + 1 columns: 3 rows a block (⌊2²²/n⌋), so the blocks are rows [0, 3) and [3, 4)
const m = 4, n = (1 << 20) + 1;

/**
 * Rank-1 adapters with A = ±1 and B's rows of magnitudes `rows[t]` (distinct): every entry of row i has
 * magnitude |cₜ|·rows[t][i], so a trim keeps whole rows from the largest down and the first entries
 * (row-major) of the row where τ falls — ties at τ and entries above it, in both blocks.
 */
function panels(signs: number[][], rows: number[][], coefficients: number[]) {
  const R = signs.length;
  const a = new Float64Array(R * n);
  const b = new Float64Array(m * R);
  for (let t = 0; t < R; t++) {
    for (let j = 0; j < n; j++) a[t * n + j] = signs[t][j % signs[t].length];
    for (let i = 0; i < m; i++) b[i * R + t] = (i % 2 === t % 2 ? 1 : -1) * rows[t][i];
  }
  return { m, n, a, b, coefficients: Float64Array.from(coefficients) };
}

/** Entries a trim to k keeps in each row, for row magnitudes `rows` (distinct). */
function keptPerRow(rows: number[], k: number): number[] {
  const kept = rows.map(() => 0);
  let left = k;
  for (const i of rows.map((_, i) => i).sort((x, y) => rows[y] - rows[x])) {
    kept[i] = Math.min(n, left);
    left -= kept[i];
  }
  return kept;
}

/** cᵢ·Bᵢ·Aᵢ of group t, dense (two adapters here: the reference below is written for two). */
function dense(p: ReturnType<typeof panels>, t: number): Float64Array {
  const R = p.coefficients.length;
  const d = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) d[i * n + j] = p.coefficients[t] * p.b[i * R + t] * p.a[t * n + j];
  return d;
}

/**
 * The published algorithms on these deltas, written for their special shape: every entry of adapter i
 * has magnitude |cᵢ|, so a trim to k keeps the first k entries in row-major order; DARE's draws are
 * dareUniform of the row-major index (the stream itself is pinned against a BigInt reference in
 * entrywiseMerge.test.ts).
 */
function reference(deltas: Float64Array[], rows: number[][], names: string[], weights: number[], method: EntrywiseMethod, density: number, normalize: boolean, seed: number): { out: Float64Array; kept: number[]; disagreements: number } {
  const N = m * n;
  const trims = method === 'ties' || method === 'magnitude_prune';
  const perRow = rows.map((r) => keptPerRow(r, Math.floor(density * N)));
  const keys = names.map((name) => dareStreamKey(seed, 'wide', name));
  const kept = (i: number, j: number) => (trims ? (j % n < perRow[i][Math.floor(j / n)] ? deltas[i][j] : 0) : dareUniform(keys[i], j) < density ? deltas[i][j] / density : 0);
  const elect = method === 'ties' || method === 'dare_ties';
  const wsumAll = weights[0] + weights[1];
  const out = new Float64Array(N);
  const count = [0, 0];
  let disagreements = 0;
  for (let j = 0; j < N; j++) {
    const x = kept(0, j), y = kept(1, j);
    if (x !== 0) count[0]++;
    if (y !== 0) count[1]++;
    if (!elect) {
      out[j] = normalize ? (x + y) / wsumAll : x + y;
      continue;
    }
    const positive = x + y >= 0;
    let sum = 0, wsum = 0;
    if (x !== 0 && x > 0 === positive) {
      sum += x;
      wsum += weights[0];
    }
    if (y !== 0 && y > 0 === positive) {
      sum += y;
      wsum += weights[1];
    }
    // an entry where some kept value has the other sign than the elected one
    if ((x !== 0 && x > 0 !== positive) || (y !== 0 && y > 0 !== positive)) disagreements++;
    out[j] = normalize ? sum / (wsum === 0 ? 1 : wsum) : sum;
  }
  return { out, kept: count, disagreements };
}

test('a module in two row blocks: every method equals the reference; trims keep exactly k, rows above τ and ties at τ in row-major order, in either block', async () => {
  // adapter x: rows 2 and 3 (one in each block) above τ, τ in row 0; adapter y: τ in row 3, the second block
  const rows = [[2, 1, 4, 3], [1, 3, 2, 4]];
  const p = panels([[1, -1, 1], [-1, 1]], rows, [0.5, 0.75]);
  const groups = [{ key: 'x', row: 0, rank: 1, weight: 0.5 }, { key: 'y', row: 1, rank: 1, weight: 0.75 }];
  const deltas = [dense(p, 0), dense(p, 1)];
  const out = new Float64Array(m * n);
  // densities putting τ inside a row (0.6: 2.4 rows; 0.2: 0.8 rows; 0.9: 3.6 rows)
  const cases: [EntrywiseMethod, number, boolean][] = [['magnitude_prune', 0.6, false], ['magnitude_prune', 0.2, false], ['ties', 0.9, true], ['dare_linear', 0.5, true], ['dare_ties', 0.3, false]];
  for (const [method, density, normalize] of cases) {
    const res = await entrywiseModule(p, groups, 'wide', { method, density, seed: 4, normalize }, jsProducts, out);
    const { out: ref, kept, disagreements } = reference(deltas, rows, ['x', 'y'], [0.5, 0.75], method, density, normalize, 4);
    assert.deepEqual(res.kept, kept, `${method}: entries kept per adapter`);
    assert.equal(res.disagreements, method === 'ties' || method === 'dare_ties' ? disagreements : 0, `${method}: entries with a discarded sign`);
    let bad = -1;
    for (let e = 0; e < m * n && bad < 0; e++) if (Math.abs(out[e] - ref[e]) > 1e-15) bad = e;
    assert.equal(bad, -1, `${method}: entry ${bad} (row ${Math.floor(bad / n)}) is ${out[bad]}, the reference ${ref[bad]}`);
    if (method === 'magnitude_prune' || method === 'ties') {
      const k = Math.floor(density * m * n);
      assert.deepEqual(res.kept, [k, k]);
    }
  }
});

test('a sign election with a total of exactly 0 elects +: of x and −x the positive entries are kept, every entry a disagreement', async () => {
  const a = Float64Array.of(1, -2, 3, 0.5, -1, 0);
  const p = { m: 2, n: 3, a: Float64Array.of(...a.subarray(0, 3), ...a.subarray(0, 3)), b: Float64Array.of(1, 1, -1, -1), coefficients: Float64Array.of(2, -2) };
  const groups = [{ key: 'x', row: 0, rank: 1, weight: 1 }, { key: 'y', row: 1, rank: 1, weight: 1 }];
  const out = new Float64Array(6);
  const res = await entrywiseModule(p, groups, 'zero', { method: 'ties', density: 1, seed: 0, normalize: false }, jsProducts, out);
  // x = 2·B·A with B = [1, −1], y = −x
  const x = [1, -1].flatMap((b) => [...a.subarray(0, 3)].map((v) => 2 * b * v));
  assert.deepEqual([...out], x.map(Math.abs));
  assert.equal(res.disagreements, 6);
  assert.deepEqual(res.kept, [6, 6]);
});

test("entrywiseModule's own checks: density, the 2³² entry limit, the buffer size", async () => {
  // a 2×3 module
  const p = { m: 2, n: 3, a: Float64Array.of(1, 2, 3), b: Float64Array.of(1, -1), coefficients: Float64Array.of(1) };
  const groups = [{ key: 'x', row: 0, rank: 1, weight: 1 }];
  const refused = async (run: Promise<unknown>, code: string, message: RegExp) =>
    assert.rejects(run, (e: unknown) => e instanceof ComposerError && e.code === code && message.test(e.message));
  for (const density of [0, 1.5, NaN]) {
    await refused(entrywiseModule(p, groups, 'x', { method: 'ties', density, seed: 0, normalize: false }, jsProducts, new Float64Array(6)), 'usage', new RegExp(`density must be in \\(0, 1\\], found ${density}`));
  }
  await refused(entrywiseModule({ ...p, m: 1 << 16, n: 1 << 16 }, groups, 'huge', { method: 'ties', density: 0.5, seed: 0, normalize: false }, jsProducts, new Float64Array(1)), 'merge', /module "huge" has 4294967296 entries; the entry-wise methods handle fewer than 2³²/);
  await refused(entrywiseModule(p, groups, 'x', { method: 'ties', density: 0.5, seed: 0, normalize: false }, jsProducts, new Float64Array(5)), 'internal', /dense buffer too small/);
  // one exactly as large is enough
  await entrywiseModule(p, groups, 'x', { method: 'ties', density: 0.5, seed: 0, normalize: false }, jsProducts, new Float64Array(6));
});
