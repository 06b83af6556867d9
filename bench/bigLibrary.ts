/**
 * A large synthetic library built once and reused by the 1M benches (bench/libraryIndex.ts,
 * bench/lsp.ts --rows, bench/coldStart.ts): rows go straight into the library's LanceDB table in Arrow
 * batches of 10k (JS records through Library.add would dominate the run), with both prototype columns
 * (float32 for the index, float64 as given), so the table is what the product writes. While the rows
 * are generated, the exact (float64, brute-force) 10 nearest rows of 100 fixed queries are computed,
 * over all rows and over the rows of the bench base, and kept beside the library as truth.json.
 * Every row points at one small real PEFT adapter (rank 8; its hash and facts recorded as `library
 * add` would), so plans through the library pass the integrity checks.
 *
 * Prototypes: unit vectors near one of 200 random directions (isotropic gaussian noise of 0.5 the
 * centre's norm). Nearest neighbours within a cluster are nearly equidistant, a hard case for IVF.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import '../server/src/engine/library/quietLanceLogs';
import type * as arrow from 'apache-arrow';
import * as lancedb from '@lancedb/lancedb';
import { initLibrary } from '../server/src/engine/library/library';
import { ADAPTERS_TABLE } from '../server/src/engine/library/schema';
import { seededRandom } from '../server/src/engine/random';
import { describeAdapter } from '../server/src/engine/lora/describe';
import { detailsOf } from '../server/src/engine/addToLibrary';
import { writePeft } from '../test/lsp/fixture';
import { createMatMulEngine } from '../server/src/engine/onnx/matmul';
import { adapterRows } from './syntheticAdapters';

export const BENCH_BASE = 'bench/base';
export const OTHER_BASE = 'other/base';
const CLUSTERS = 200;
const BATCH = 10_000;
export const TRUTH_K = 10;

export interface BigLibrary {
  root: string;
  library: string;
  rows: number;
  dim: number;
  /** queries × dim, float64 */
  queries: Float64Array;
  /** Exact nearest names per query, over all rows / over the rows of BENCH_BASE. */
  truth: string[][];
  truthBase: string[][];
}

export function benchName(i: number): string {
  return `adapter-${String(i).padStart(7, '0')}`;
}

/** Row i's base: two thirds the bench base, so a base prefilter keeps most rows. */
export function benchBase(i: number): string {
  return i % 3 === 2 ? OTHER_BASE : BENCH_BASE;
}

class Generator {
  private rnd = seededRandom(20240601);
  private centres: Float64Array;
  constructor(readonly dim: number) {
    this.centres = new Float64Array(CLUSTERS * dim);
    for (let i = 0; i < this.centres.length; i++) this.centres[i] = this.gaussian();
    for (let c = 0; c < CLUSTERS; c++) normalise(this.centres, c * dim, dim);
  }
  private gaussian(): number {
    const u = 1 - this.rnd();
    const v = this.rnd();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  points(n: number): Float64Array {
    const { dim } = this;
    const out = new Float64Array(n * dim);
    const noise = 0.5 / Math.sqrt(dim);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(this.rnd() * CLUSTERS);
      for (let j = 0; j < dim; j++) out[i * dim + j] = this.centres[c * dim + j] + noise * this.gaussian();
      normalise(out, i * dim, dim);
    }
    return out;
  }
}

function normalise(v: Float64Array, offset: number, dim: number): void {
  let s = 0;
  for (let j = 0; j < dim; j++) s += v[offset + j] ** 2;
  const inv = 1 / Math.sqrt(s);
  for (let j = 0; j < dim; j++) v[offset + j] *= inv;
}

/** Keeps the k smallest (distance, index) pairs. */
class TopK {
  d: number[] = [];
  i: number[] = [];
  constructor(private k: number) {}
  push(dist: number, index: number): void {
    if (this.d.length === this.k && dist >= this.d[this.k - 1]) return;
    let p = this.d.length === this.k ? this.k - 1 : this.d.length;
    while (p > 0 && this.d[p - 1] > dist) {
      if (p < this.k) { this.d[p] = this.d[p - 1]; this.i[p] = this.i[p - 1]; }
      p--;
    }
    this.d[p] = dist;
    this.i[p] = index;
    if (this.d.length > this.k) { this.d.length = this.k; this.i.length = this.k; }
  }
}

/** The one real adapter every row points at (the planner checks each retrieved adapter's file). */
interface SharedAdapter { path: string; sha256: string; details: string }

function batchTable(shared: SharedAdapter, start: number, n: number, dim: number, vectors: Float64Array): arrow.Table {
  return adapterRows(dim, start, n, {
    name: benchName,
    base: benchBase,
    rank: () => 8,
    alpha: () => 8,
    path: () => shared.path,
    sha256: () => shared.sha256,
    description: (i) => `bench adapter ${i}`,
    details: () => shared.details,
    createdAt: '2026-01-01T00:00:00.000Z',
  }, Float32Array.from(vectors), vectors);
}

/**
 * Builds (once: a `.complete` marker) or opens the library of `rows` × `dim` under `root`.
 * The folder also holds adapters/shared (one adapter config every row points at) and truth.json.
 */
export async function bigLibrary(root: string, rows: number, dim: number, queryCount = 100, log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<BigLibrary> {
  const library = path.join(root, 'library');
  const marker = path.join(root, '.complete');
  const truthFile = path.join(root, 'truth.json');
  if (!fs.existsSync(marker)) {
    fs.rmSync(root, { recursive: true, force: true });
    const adapterPath = path.join(root, 'adapters', 'shared');
    writePeft(adapterPath, BENCH_BASE, 8, 1);
    const facts = describeAdapter(adapterPath);
    const shared: SharedAdapter = { path: adapterPath, sha256: facts.sha256, details: JSON.stringify(detailsOf(facts)) };
    const gen = new Generator(dim);
    const queries = gen.points(queryCount);
    const all = Array.from({ length: queryCount }, () => new TopK(TRUTH_K));
    const ofBase = Array.from({ length: queryCount }, () => new TopK(TRUTH_K));
    (await initLibrary(library, { dim })).close();
    const engine = await createMatMulEngine();
    const db = await lancedb.connect(library);
    const table = await db.openTable(ADAPTERS_TABLE);
    const t0 = performance.now();
    let writeMs = 0;
    for (let start = 0; start < rows; start += BATCH) {
      const n = Math.min(BATCH, rows - start);
      const v = gen.points(n);
      const tw = performance.now();
      await table.add(batchTable(shared, start, n, dim, v));
      writeMs += performance.now() - tw;
      // Candidates by v·q (float64 Gemm in ONNX Runtime; rows and queries are unit vectors, so
      // |v − q|² = 2 − 2 v·q), then the exact sum of squared differences on the 4k best of each query.
      const dots = await engine.matmul64(v, [n, dim], queries, [queryCount, dim], { transB: true });
      for (let q = 0; q < queryCount; q++) {
        const qo = q * dim;
        const cand = new TopK(4 * TRUTH_K);
        const candBase = new TopK(4 * TRUTH_K);
        for (let r = 0; r < n; r++) {
          const approx = -dots[r * queryCount + q];
          cand.push(approx, r);
          if (benchBase(start + r) === BENCH_BASE) candBase.push(approx, r);
        }
        const exact = (r: number) => {
          const ro = r * dim;
          let s = 0;
          for (let j = 0; j < dim; j++) {
            const d = v[ro + j] - queries[qo + j];
            s += d * d;
          }
          return s;
        };
        for (const r of cand.i) all[q].push(exact(r), start + r);
        for (const r of candBase.i) ofBase[q].push(exact(r), start + r);
      }
      if ((start / BATCH) % 10 === 9) log(`  ${start + n}/${rows} rows (${((performance.now() - t0) / 1000).toFixed(0)} s, of which LanceDB add ${(writeMs / 1000).toFixed(0)} s)`);
    }
    table.close();
    db.close();
    await engine.dispose();
    fs.writeFileSync(truthFile, JSON.stringify({
      rows, dim, queries: Array.from(queries),
      truth: all.map((t) => t.i.map(benchName)), truthBase: ofBase.map((t) => t.i.map(benchName)),
    }));
    fs.writeFileSync(marker, `${rows}x${dim}: generated + brute-force truth in ${((performance.now() - t0) / 1000).toFixed(0)} s, LanceDB add ${(writeMs / 1000).toFixed(0)} s\n`);
    log(fs.readFileSync(marker, 'utf8').trim());
  }
  const t = JSON.parse(fs.readFileSync(truthFile, 'utf8')) as { rows: number; dim: number; queries: number[]; truth: string[][]; truthBase: string[][] };
  if (t.rows !== rows || t.dim !== dim) throw new Error(`${root} holds ${t.rows}x${t.dim}, not ${rows}x${dim}`);
  return { root, library, rows, dim, queries: Float64Array.from(t.queries), truth: t.truth, truthBase: t.truthBase };
}
