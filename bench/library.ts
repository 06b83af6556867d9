/**
 * Library search at scale: a 100k × 768 library of embedding-like prototypes (clustered gaussians,
 * normalised), searched brute force vs through IVF_FLAT, HNSW_SQ and IVF_PQ indexes.
 * Reports p50/p95 latency over 100 queries and recall@10 against the brute-force result.
 *
 *   node --import tsx bench/library.ts [--rows 100000] [--dim 768] [--queries 100] [--kinds ivf_flat,hnsw_sq,ivf_pq]
 *
 * Rows are written straight into the library's LanceDB table in Arrow batches of 10k (building 100k
 * JS records would dominate the run); searches go through Library.search like the CLI's.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '../server/src/engine/library/quietLanceLogs';
import * as lancedb from '@lancedb/lancedb';
import { initLibrary, openLibrary } from '../server/src/engine/library/library';
import { ADAPTERS_TABLE } from '../server/src/engine/library/schema';
import { syntheticAdapters } from './syntheticAdapters';
import { AnnIndexKind } from '../server/src/engine/library/annIndex';
import { seededRandom } from '../server/src/engine/random';
import { arg } from './args';

const ROWS = Number(arg('rows', '100000'));
const DIM = Number(arg('dim', '768'));
const QUERIES = Number(arg('queries', '100'));
const KINDS = arg('kinds', 'ivf_flat,hnsw_sq,ivf_pq').split(',').filter(Boolean) as AnnIndexKind[];
const K = 10;
const CLUSTERS = 200;
const BATCH = 10_000;

const rnd = seededRandom(20240601);
function gaussian(): number {
  // Box–Muller
  const u = 1 - rnd();
  const v = rnd();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function normalise(v: Float32Array, offset: number, dim: number): void {
  let s = 0;
  for (let j = 0; j < dim; j++) s += v[offset + j] ** 2;
  const inv = 1 / Math.sqrt(s);
  for (let j = 0; j < dim; j++) v[offset + j] *= inv;
}

const centres = new Float32Array(CLUSTERS * DIM);
for (let i = 0; i < centres.length; i++) centres[i] = gaussian();
for (let c = 0; c < CLUSTERS; c++) normalise(centres, c * DIM, DIM);

/** n points: a random centre + isotropic noise (spread 0.5 of the centre's norm), normalised. */
function points(n: number): Float32Array {
  const out = new Float32Array(n * DIM);
  const noise = 0.5 / Math.sqrt(DIM);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rnd() * CLUSTERS);
    for (let j = 0; j < DIM; j++) out[i * DIM + j] = centres[c * DIM + j] + noise * gaussian();
    normalise(out, i * DIM, DIM);
  }
  return out;
}


function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-bench-library-'));
  try {
    console.log(`library bench: ${ROWS} × ${DIM}, ${CLUSTERS} clusters, ${QUERIES} queries, k=${K}, ${os.cpus().length} cores`);
    (await initLibrary(dir, { dim: DIM })).close();
    let t = performance.now();
    const db = await lancedb.connect(dir);
    const table = await db.openTable(ADAPTERS_TABLE);
    for (let start = 0; start < ROWS; start += BATCH) {
      const n = Math.min(BATCH, ROWS - start);
      await table.add(syntheticAdapters(DIM, start, n, points(n), 6));
    }
    table.close();
    db.close();
    console.log(`write: ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const library = await openLibrary(dir);
    const queries = points(QUERIES);
    const query = (i: number) => queries.subarray(i * DIM, (i + 1) * DIM);

    async function measure(label: string): Promise<{ names: string[][]; p50: number; p95: number }> {
      const times: number[] = [];
      const names: string[][] = [];
      await library.search(query(0), { k: K }); // warm caches
      for (let i = 0; i < QUERIES; i++) {
        const t0 = performance.now();
        const hits = await library.search(query(i), { k: K });
        times.push(performance.now() - t0);
        names.push(hits.map((h) => h.name));
      }
      times.sort((a, b) => a - b);
      const p50 = percentile(times, 0.5);
      const p95 = percentile(times, 0.95);
      console.log(`${label.padEnd(12)} p50 ${p50.toFixed(1).padStart(7)} ms   p95 ${p95.toFixed(1).padStart(7)} ms`);
      return { names, p50, p95 };
    }

    const brute = await measure('brute force');
    // Exactness of the brute-force path itself: LanceDB's l2 is squared L2 (checked against float64 JS).
    const check = await library.search(query(0), { k: K });
    const maxRel = Math.max(...check.map((h) => Math.abs(h.indexDistance - h.distance) / Math.max(h.distance, 1e-12)));
    console.log(`brute force: LanceDB _distance vs float64 squared L2, max relative difference ${maxRel.toExponential(2)}`);

    for (const kind of KINDS) {
      t = performance.now();
      const report = await library.ensureIndex({ kind, force: true });
      const build = (performance.now() - t) / 1000;
      const r = await measure(kind);
      let hit = 0;
      for (let i = 0; i < QUERIES; i++) {
        const truth = new Set(brute.names[i]);
        hit += r.names[i].filter((n) => truth.has(n)).length;
      }
      const recall = hit / (QUERIES * K);
      console.log(`${kind.padEnd(12)} build ${build.toFixed(1)} s, recall@${K} ${recall.toFixed(3)}, p50 speed-up ×${(brute.p50 / r.p50).toFixed(1)}, p95 speed-up ×${(brute.p95 / r.p95).toFixed(1)}  (${report.message})`);
    }
    library.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
