/**
 * Language-server latency at scale: a 100k-adapter (or --rows 1000000) 768-d library; the real server
 * over stdio; the time from a didChange (λ edited) to fresh code lenses, for k = 8 and 32; the first
 * plan (open → diagnostics: library opened, k-NN through the index); and the server's RSS.
 * Goal: p95 ≤ 50 ms, RSS ≤ 300 MB.
 *
 *   node --import tsx bench/lsp.ts [--rows 100000] [--dim 768] [--edits 60] [--data /work/bench-data/library-<rows>x<dim>]
 *
 * The library is bench/bigLibrary.ts's (Arrow batches straight into LanceDB, built once under --data and
 * reused by bench/libraryIndex.ts and bench/coldStart.ts); the index is what Library.ensureIndex builds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openLibrary } from '../server/src/engine/library/library';
import { writeNpy } from '../server/src/engine/prototype/npy';
import { ServerClient } from '../test/lsp/lspClient';
import { bigLibrary, BENCH_BASE } from './bigLibrary';
import { arg, numberArg } from './args';

const ADAPTERS = numberArg('rows', numberArg('adapters', 100_000));
const DIM = numberArg('dim', 768);
const EDITS = numberArg('edits', 60);
const BASE = BENCH_BASE;
const DATA = arg('data', `/work/bench-data/library-${ADAPTERS}x${DIM}`);

async function buildWorkspace(root: string): Promise<void> {
  const big = await bigLibrary(root, ADAPTERS, DIM);
  const library = await openLibrary(big.library);
  try {
    const report = await library.ensureIndex();
    process.stderr.write(`  index: ${report.message}\n`);
  } finally {
    library.close();
  }
  fs.mkdirSync(path.join(root, 'recipes'), { recursive: true });
  // A target that is not one of the rows: the first of the truth queries.
  writeNpy(path.join(root, 'target.proto.npy'), Float64Array.from(big.queries.subarray(0, DIM)));
}

function recipe(k: number, lambda: number): string {
  return `compose: 1\nbase: ${BASE}\nlibrary: ../library\ntarget:\n  prototype: ../target.proto.npy\nretrieve:\n  k: ${k}\nweights:\n  strategy: sparse\n  lambda: ${lambda}\nmerge:\n  method: svd\n  rank: 8\noutput: ../out/bench\n`;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function main(): Promise<void> {
  const root = DATA;
  process.stderr.write(`workspace ${root}\n`);
  await buildWorkspace(root);
  const lib = await openLibrary(path.join(root, 'library'));
  const info = await lib.info();
  lib.close();
  process.stderr.write(`library: ${info.size} adapters, ${info.dim}-d, index ${info.index ? `${info.index.type} (${info.index.indexedRows} rows)` : 'none'}\n`);

  // The bundled server, with the allocator setting the VS Code client uses (fewer glibc arenas for
  // LanceDB's worker threads: ~30 MB less RSS).
  const client = new ServerClient({ workspace: root, bundled: true, env: { MALLOC_ARENA_MAX: '2' }, initializationOptions: { settings: { adapterCompose: { debounceMs: 150 } } } });
  await client.initialize();
  const rows: string[] = [];
  try {
    for (const k of [8, 32]) {
      const uri = client.open(path.join(root, 'recipes', `bench-k${k}.compose.yaml`), recipe(k, 0.05));
      const t0 = performance.now();
      const first = await client.diagnosticsFor(uri, 1, 600_000);
      const cold = performance.now() - t0;
      if (first.diagnostics.some((d) => d.severity === 1)) throw new Error(`recipe has errors: ${JSON.stringify(first.diagnostics)}`);
      const latencies: number[] = [];
      for (let i = 0; i < EDITS; i++) {
        const lambda = Number((0.01 + (i % 20) * 0.005).toFixed(3));
        const t = performance.now();
        client.change(uri, recipe(k, lambda));
        const lenses = await client.request<{ command?: { title: string } }[]>('textDocument/codeLens', { textDocument: { uri } });
        latencies.push(performance.now() - t);
        if (!lenses.some((l) => l.command?.title.includes(`λ=${lambda}`))) throw new Error(`stale lens for λ=${lambda}: ${lenses.map((l) => l.command?.title).join(' | ')}`);
      }
      latencies.sort((a, b) => a - b);
      const row = `k=${k}: first plan ${cold.toFixed(0)} ms; didChange → fresh code lenses over ${EDITS} edits: p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`;
      rows.push(row);
      process.stdout.write(row + '\n');
      client.close(uri);
    }
    const rss = rssMb(client.child.pid);
    const status = fs.readFileSync(`/proc/${client.child.pid}/status`, 'utf8');
    const field = (name: string) => (Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024).toFixed(0);
    rows.push(`server RSS: ${rss.toFixed(0)} MB (goal ≤ 300 MB; anonymous ${field('RssAnon')} MB, file-backed ${field('RssFile')} MB, peak ${field('VmHWM')} MB)`);
    process.stdout.write(rows[rows.length - 1] + '\n');
  } finally {
    await client.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
