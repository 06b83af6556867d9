/**
 * A team-scale library: add throughput, index build time, query latency and memory at 100k (default)
 * or 1M adapters of 768-d prototypes.
 *
 *   node --import tsx bench/libraryScale.ts [--rows 100000] [--dim 768] [--queries 50] [--kind ivf_flat] [--validated 2000]
 *
 * Bulk rows go straight into the LanceDB table in Arrow batches of 10k (what an import would do);
 * `--validated N` more go through Library.add (validation, name check under the write lock, one
 * commit each batch of 100) to measure the per-row cost of the checked path at that size. Vectors
 * are generated per batch, so the bench itself never holds the whole 3 GB of a 1M × 768 table.
 */
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '../server/src/engine/library/quietLanceLogs';
import * as lancedb from '@lancedb/lancedb';
import { initLibrary, openLibrary } from '../server/src/engine/library/library';
import { ADAPTERS_TABLE } from '../server/src/engine/library/schema';
import { syntheticAdapters } from './syntheticAdapters';
import type { AnnIndexKind } from '../server/src/engine/library/annIndex';
import type { AdapterRecord } from '../server/src/engine/types';
import { seededRandom } from '../server/src/engine/random';
import { arg } from './args';

const ROWS = Number(arg('rows', '100000'));
const DIM = Number(arg('dim', '768'));
const QUERIES = Number(arg('queries', '50'));
const KIND = arg('kind', 'ivf_flat') as AnnIndexKind;
const VALIDATED = Number(arg('validated', '2000'));
const BATCH = 10_000;
const K = 10;

const random = seededRandom(20240601);

/** Unit vectors near one of 256 directions (embedding-like clusters). */
const CENTRES = Float32Array.from({ length: 256 * DIM }, () => random() - 0.5);
function vectors(n: number): Float32Array {
  const out = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(random() * 256) * DIM;
    let s = 0;
    for (let j = 0; j < DIM; j++) {
      const v = CENTRES[c + j] + 0.05 * (random() - 0.5);
      out[i * DIM + j] = v;
      s += v * v;
    }
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < DIM; j++) out[i * DIM + j] *= inv;
  }
  return out;
}


const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const seconds = (t0: number) => (performance.now() - t0) / 1000;
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

async function latency(library: Awaited<ReturnType<typeof openLibrary>>, queries: Float32Array): Promise<{ p50: number; p95: number }> {
  await library.search(queries.subarray(0, DIM), { k: K });
  const times: number[] = [];
  for (let q = 0; q < QUERIES; q++) {
    const t0 = performance.now();
    await library.search(queries.subarray(q * DIM, (q + 1) * DIM), { k: K, base: 'mistral-7b' });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: pct(times, 0.5), p95: pct(times, 0.95) };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(arg('dir', os.tmpdir()), 'ac-bench-scale-'));
  const lines: string[] = [];
  const say = (s: string) => {
    lines.push(s);
    console.log(s);
  };
  try {
    say(`library scale: ${ROWS} × ${DIM}-d, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM; RSS at start ${rssMb()} MB`);
    (await initLibrary(dir, { dim: DIM })).close();
    const db = await lancedb.connect(dir);
    const table = await db.openTable(ADAPTERS_TABLE);
    let t0 = performance.now();
    let peak = rssMb();
    for (let start = 0; start < ROWS; start += BATCH) {
      const n = Math.min(BATCH, ROWS - start);
      await table.add(syntheticAdapters(DIM, start, n, vectors(n), 7));
      peak = Math.max(peak, rssMb());
    }
    const bulk = seconds(t0);
    table.close();
    db.close();
    say(`bulk add: ${ROWS} rows in ${bulk.toFixed(1)} s = ${Math.round(ROWS / bulk)} rows/s (Arrow batches of ${BATCH}); peak RSS ${peak} MB`);

    const library = await openLibrary(dir);
    if (VALIDATED > 0) {
      t0 = performance.now();
      const per = 100;
      for (let done = 0; done < VALIDATED; done += per) {
        const v = vectors(per);
        const records: AdapterRecord[] = Array.from({ length: per }, (_, i) => ({
          name: `checked-${done + i}`, base: 'mistral-7b', rank: 8, alpha: 16, target_modules: ['q_proj'], format: 'peft', path: `/checked/${done + i}`,
          sha256: 'a'.repeat(64), prototype: Array.from(v.subarray(i * DIM, (i + 1) * DIM)), description: '', tags: [], created_at: '2024-06-01T00:00:00.000Z', details: '{}',
        }));
        await library.add(records);
      }
      const s = seconds(t0);
      say(`validated add (Library.add, batches of 100, name check + write lock) on a ${ROWS}-row library: ${VALIDATED} rows in ${s.toFixed(1)} s = ${Math.round(VALIDATED / s)} rows/s; RSS ${rssMb()} MB`);
    }
    const queries = vectors(QUERIES);
    if (ROWS <= 200_000) {
      const brute = await latency(library, queries);
      say(`query (k=${K}, base filter), brute force: p50 ${brute.p50.toFixed(1)} ms, p95 ${brute.p95.toFixed(1)} ms; RSS ${rssMb()} MB`);
    }
    t0 = performance.now();
    const report = await library.ensureIndex({ kind: KIND, force: true });
    say(`index ${KIND}: built in ${seconds(t0).toFixed(1)} s (${report.message}); RSS ${rssMb()} MB`);
    const indexed = await latency(library, queries);
    say(`query (k=${K}, base filter), ${KIND}: p50 ${indexed.p50.toFixed(1)} ms, p95 ${indexed.p95.toFixed(1)} ms; RSS ${rssMb()} MB`);
    library.close();
    const onDisk = Number(execSync(`du -sk ${JSON.stringify(dir)}`).toString().split('\t')[0]);
    say(`on disk: ${Math.round(onDisk / 1024)} MB`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
