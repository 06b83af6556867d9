/**
 * The ANN index of a large library, chosen from measurements: for each index configuration, build
 * time, peak RSS of the build and the index size; then, for each query setting (nprobes, refine
 * factor), p50/p95 of Library.search (k = 10, 100 queries, the product's path: float32 index, float64
 * re-rank) and recall@10 against the exact brute-force top 10 (float64, computed over every row while
 * the library was generated: bench/bigLibrary.ts). The library is built once under --data and reused.
 *
 *   node --import tsx bench/libraryIndex.ts [--rows 1000000] [--dim 768] [--data /work/bench-data/library-1000000x768]
 *        [--index ivf_flat:1000,ivf_rq:1000] [--nprobes 5,10,20,40] [--refine 1,5,10] [--keep]
 *
 * `--index auto` builds what Library.ensureIndex chooses and queries with the automatic parameters.
 * `--index nobase,base` queries the index present without, then with, the BITMAP index on base.
 * `--index existing` skips building (and queries with the automatic parameters unless --nprobes/--refine are given). Peak RSS per phase: VmHWM after resetting it (/proc/self/clear_refs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openLibrary } from '../server/src/engine/library/library';
import { BASE_INDEX_NAME, type AnnIndexKind, type SearchTuning } from '../server/src/engine/library/annIndex';
import { ADAPTERS_TABLE } from '../server/src/engine/library/schema';
import { loadLancedb } from '../server/src/engine/nativeModules';
import { bigLibrary, BENCH_BASE, TRUTH_K } from './bigLibrary';
import { arg } from './args';

const list = (s: string) => s.split(',').filter(Boolean).map(Number);

const ROWS = Number(arg('rows', '1000000'));
const DIM = Number(arg('dim', '768'));
const DATA = arg('data', `/work/bench-data/library-${ROWS}x${DIM}`);
const INDEXES = arg('index', 'ivf_flat:1000').split(',').filter(Boolean);
const NPROBES = list(arg('nprobes', '5,10,20,40'));
const REFINE = list(arg('refine', '1'));
const K = TRUTH_K;

function resetPeak(): void {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    /* not Linux: the peak is the process's */
  }
}
function memMb(field: 'VmHWM' | 'VmRSS'): number {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
}
function duMb(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return total / 2 ** 20;
}
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const big = await bigLibrary(DATA, ROWS, DIM);
  const Q = big.truth.length;
  const query = (i: number) => big.queries.subarray(i * DIM, (i + 1) * DIM);
  process.stdout.write(`library ${big.library}: ${ROWS} × ${DIM}, ${Q} queries, k = ${K}; ${fs.readFileSync(path.join(DATA, '.complete'), 'utf8').trim()}\n`);
  const indexDir = path.join(big.library, 'adapters.lance', '_indices');

  for (const spec of INDEXES) {
    const library = await openLibrary(big.library);
    try {
      const [kind, partitionsText] = spec.split(':');
      if (kind === 'nobase' || kind === 'base') {
        // The base prefilter with and without the BITMAP index on base (same vector index).
        const lancedb = loadLancedb();
        const db = await lancedb.connect(big.library);
        const table = await db.openTable(ADAPTERS_TABLE);
        const present = (await table.listIndices()).find((i) => i.name === BASE_INDEX_NAME);
        if (kind === 'nobase' && present) await table.dropIndex(BASE_INDEX_NAME);
        if (kind === 'base' && !present) await table.createIndex('base', { config: lancedb.Index.bitmap(), name: BASE_INDEX_NAME });
        table.close();
        db.close();
      }
      if (!['existing', 'nobase', 'base'].includes(kind)) {
        resetPeak();
        const rssBefore = memMb('VmRSS');
        const diskBefore = duMb(indexDir); // dropped indexes keep their files until a cleanup
        const t = performance.now();
        const report = kind === 'auto'
          ? await library.ensureIndex({ force: true })
          : await library.ensureIndex({ kind: kind as AnnIndexKind, force: true, numPartitions: partitionsText ? Number(partitionsText) : undefined });
        const build = (performance.now() - t) / 1000;
        process.stdout.write(`${spec}: build ${build.toFixed(0)} s, peak RSS ${memMb('VmHWM').toFixed(0)} MB (${rssBefore.toFixed(0)} MB before), index on disk +${(duMb(indexDir) - diskBefore).toFixed(0)} MB — ${report.message}\n`);
      }
      const explicit = process.argv.includes('--nprobes') || process.argv.includes('--refine');
      const settings: (SearchTuning | undefined)[] = kind === 'auto' || (['existing', 'nobase', 'base'].includes(kind) && !explicit)
        ? [undefined]
        : NPROBES.flatMap((nprobes) => (kind === 'ivf_flat' ? [1] : REFINE).map((refine) => ({ nprobes, refineFactor: refine > 1 ? refine : undefined })));
      for (const tuning of settings) {
        for (const filtered of [false, true]) {
          if (filtered && tuning !== settings[settings.length - 1]) continue; // the base prefilter at the last setting only
          resetPeak();
          const truth = filtered ? big.truthBase : big.truth;
          const opts = { k: K, tuning, base: filtered ? BENCH_BASE : undefined };
          await library.search(query(0), opts); // warm
          const times: number[] = [];
          let hit = 0;
          for (let i = 0; i < Q; i++) {
            const t0 = performance.now();
            const hits = await library.search(query(i), opts);
            times.push(performance.now() - t0);
            const want = new Set(truth[i]);
            hit += hits.filter((h) => want.has(h.name)).length;
          }
          times.sort((a, b) => a - b);
          const label = tuning ? `nprobes ${tuning.nprobes}${tuning.refineFactor ? `, refine ×${tuning.refineFactor}` : ''}` : 'automatic parameters';
          process.stdout.write(`  ${spec} ${label}${filtered ? `, base prefilter` : ''}: p50 ${percentile(times, 0.5).toFixed(1)} ms, p95 ${percentile(times, 0.95).toFixed(1)} ms, recall@${K} ${(hit / (Q * K)).toFixed(3)}, peak RSS ${memMb('VmHWM').toFixed(0)} MB\n`);
        }
      }
    } finally {
      library.close();
    }
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
