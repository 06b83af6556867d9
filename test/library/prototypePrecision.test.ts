import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import * as lancedb from '@lancedb/lancedb';
import { initLibrary, openLibrary } from '../../server/src/engine/library/library';
import { adaptersSchema, ADAPTERS_TABLE, LIBRARY_FORMAT_VERSION, META_TABLE, metaSchema } from '../../server/src/engine/library/schema';
import { solveWeights } from '../../server/src/engine/weights';
import type { AdapterRecord } from '../../server/src/engine/types';
import { gaussian, referenceConvex, referenceCost, referenceLin, referenceSparse, seededRandom } from '../weights/reference';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-precision-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => path.join(root, `lib-${++counter}`);

function record(name: string, prototype: ArrayLike<number>): AdapterRecord {
  return {
    name, base: 'b', rank: 4, alpha: 8, target_modules: ['q_proj'], format: 'peft', path: `/a/${name}`, sha256: 'ab'.repeat(32),
    prototype: Array.from(prototype), description: '', tags: [], created_at: '2024-06-01T00:00:00.000Z',
  };
}

/** Translated (offset 1e6) and near-collinear problems, the cases float32 storage gets wrong. */
function hardProblems(): { kind: string; target: Float64Array; prototypes: Float64Array[] }[] {
  const random = seededRandom(1230);
  const out = [];
  for (let trial = 0; trial < 12; trial++) {
    const dim = 8;
    const k = 5;
    const kind = trial % 2 ? 'offset 1e6' : 'near-collinear';
    const offset = kind === 'offset 1e6' ? 1e6 : 0;
    const base = Float64Array.from({ length: dim }, () => gaussian(random));
    const prototypes = Array.from({ length: k }, () => Float64Array.from({ length: dim }, (_, d) => offset + (kind === 'near-collinear' ? base[d] * (1 + 1e-4 * gaussian(random)) : gaussian(random))));
    const target = Float64Array.from({ length: dim }, (_, d) => offset + (kind === 'near-collinear' ? base[d] * (1 + 1e-4 * gaussian(random)) : gaussian(random)));
    out.push({ kind, target, prototypes });
  }
  return out;
}

test('prototypes round-trip bit for bit through the library (float64 column) and the solve is exact on hard cases', async () => {
  const library = await initLibrary(freshDir(), { dim: 8 });
  assert.equal((await library.info()).prototypePrecision, 'float64');
  const problems = hardProblems();
  await library.add(problems.flatMap((p, t) => p.prototypes.map((q, i) => record(`p${t}-${i}`, q))));
  const byName = new Map((await library.list()).map((r) => [r.name, r]));
  let worst = 0;
  let worst32 = 0;
  for (const [t, p] of problems.entries()) {
    const names = p.prototypes.map((_, i) => `p${t}-${i}`);
    const stored = names.map((n) => Float64Array.from(byName.get(n)!.prototype));
    stored.forEach((q, i) => assert.deepEqual(q, p.prototypes[i], `${names[i]} is bit-for-bit what was added`));
    // The search path reads the same float64 prototypes.
    const hits = await library.search(p.target, { k: 5, where: `name IN (${names.map((n) => `'${n}'`).join(', ')})` });
    for (const h of hits) assert.deepEqual(Float64Array.from(h.record.prototype), p.prototypes[names.indexOf(h.name)]);
    const c = referenceCost(p.target, p.prototypes);
    const problem = { target: p.target, prototypes: stored, names };
    const cases: [string, () => { objective: number }, number][] = [
      ['lin', () => solveWeights(problem, { strategy: 'lin' }), referenceLin(c).objective],
      ['convex', () => solveWeights(problem, { strategy: 'convex' }), referenceConvex(c).objective],
    ];
    const sparse = solveWeights(problem, { strategy: 'sparse', rho: 0.5 });
    cases.push(['sparse', () => sparse, referenceSparse(c, sparse.lambda!).objective]);
    // For the record: what float32 storage (the former library) gives on the same problem.
    const rounded = { target: p.target, prototypes: p.prototypes.map((q) => Float64Array.from(Float32Array.from(q))), names };
    const lin32 = solveWeights(rounded, { strategy: 'lin' }).weights;
    let objective32 = 0;
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) objective32 += lin32[names[i]] * c[i][j] * lin32[names[j]];
    worst32 = Math.max(worst32, Math.abs(objective32 - referenceLin(c).objective) / referenceLin(c).objective);
    for (const [name, solve, expected] of cases) {
      const got = solve().objective;
      const relative = Math.abs(got - expected) / Math.abs(expected);
      worst = Math.max(worst, relative);
      assert.ok(relative <= 1e-9, `${p.kind} #${t} ${name}: objective ${got} vs exact ${expected} (relative ${relative})`);
    }
  }
  console.log(`# library float64 prototypes: worst relative objective vs the exact float64 solver ${worst.toExponential(2)} (float32-stored lin weights: ${worst32.toExponential(2)})`);
});

test('an older library without the float64 column opens, reads and writes float32 prototypes', async () => {
  const dir = freshDir();
  fs.mkdirSync(dir, { recursive: true });
  const db = await lancedb.connect(dir);
  const old = adaptersSchema(3);
  const oldSchema = new arrow.Schema(old.fields.filter((f) => f.name !== 'prototype64'));
  (await db.createEmptyTable(ADAPTERS_TABLE, oldSchema)).close();
  const meta = await db.createEmptyTable(META_TABLE, metaSchema());
  await meta.add([{ format_version: LIBRARY_FORMAT_VERSION, dim: 3, encoder_sha256: null, encoder_path: null, encoder_name: null, created_at: '2024-01-01T00:00:00.000Z' }]);
  meta.close();
  db.close();
  const library = await openLibrary(dir);
  assert.equal((await library.info()).prototypePrecision, 'float32');
  const given = [0.1, 1e6 + 0.3, -2.7];
  await library.add(record('old', given));
  const [read] = await library.list();
  assert.deepEqual(read.prototype, Array.from(Float32Array.from(given)));
  const hits = await library.search(Float64Array.from(given), { k: 1 });
  assert.equal(hits[0].name, 'old');
});

test('search re-ranks by the float64 prototypes: float32 rounding far from the origin does not change the k nearest', async () => {
  const library = await initLibrary(freshDir(), { dim: 1 });
  // float32 spacing at 1e6 is 0.0625: t and b round to 1e6, a to 1e6 + 0.0625, so float32 says b is nearest.
  await library.add([record('a', [1e6 + 0.05]), record('b', [1e6]), ...Array.from({ length: 5 }, (_, i) => record(`far-${i}`, [1e6 + 10 + i]))]);
  const hits = await library.search(Float64Array.of(1e6 + 0.03), { k: 1 });
  assert.deepEqual(hits.map((h) => h.name), ['a']);
  assert.ok(Math.abs(hits[0].distance - 0.02 ** 2) < 1e-12);
  assert.equal((await library.search(Float64Array.of(1e6 + 0.03), { k: 3 })).length, 3);
});
