/**
 * Language-server latency at scale: a 100k-adapter, 768-d library; the real server over stdio; the
 * time from a didChange (λ edited) to fresh code lenses, for k = 8 and 32; and the server's RSS.
 * Goal: p95 ≤ 50 ms, RSS ≤ 250 MB.
 *
 *   node --import tsx bench/lsp.ts [--adapters 100000] [--dim 768] [--edits 60] [--no-index]
 *
 * The library is built once (library.add in batches of 10k rows) and kept in .bench/lsp-<n>x<dim>/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initLibrary, openLibrary } from '../server/src/engine/library/library';
import { writeNpy } from '../server/src/engine/prototype/npy';
import type { AdapterRecord } from '../server/src/engine/types';
import { ServerClient, REPO_ROOT } from '../test/lsp/lspClient';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ADAPTERS = arg('adapters', 100_000);
const DIM = arg('dim', 768);
const EDITS = arg('edits', 60);
const BATCH = 10_000;
const BASE = 'bench/base';

/** Deterministic vectors: clustered around 64 centres so k-NN has structure. */
function vector(seed: number, dim: number): number[] {
  let s = (seed * 2654435761) >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const centre = seed % 64;
  const out = new Array<number>(dim);
  for (let i = 0; i < dim; i++) out[i] = Math.sin(centre * 0.37 + i * 0.11) + (rand() - 0.5) * 0.3;
  return out;
}

async function buildWorkspace(root: string): Promise<void> {
  const libraryDir = path.join(root, 'library');
  const marker = path.join(root, '.complete');
  if (fs.existsSync(marker)) return;
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'recipes'), { recursive: true });
  fs.mkdirSync(path.join(root, 'adapters', 'shared'), { recursive: true });
  fs.writeFileSync(path.join(root, 'adapters', 'shared', 'adapter_config.json'), JSON.stringify({ base_model_name_or_path: BASE, peft_type: 'LORA', r: 8, lora_alpha: 8, target_modules: ['q_proj'] }));
  const started = Date.now();
  const library = await initLibrary(libraryDir, { dim: DIM });
  try {
    for (let start = 0; start < ADAPTERS; start += BATCH) {
      const records: AdapterRecord[] = [];
      for (let i = start; i < Math.min(ADAPTERS, start + BATCH); i++) {
        records.push({
          name: `adapter-${String(i).padStart(6, '0')}`,
          base: BASE,
          rank: 8,
          alpha: 8,
          target_modules: ['q_proj', 'v_proj'],
          format: 'peft',
          path: path.join(root, 'adapters', 'shared'),
          sha256: '0'.repeat(64),
          prototype: vector(i, DIM),
          description: `bench adapter ${i}`,
          tags: [`cluster-${i % 64}`],
          created_at: '2026-01-01T00:00:00.000Z',
        });
      }
      await library.add(records);
      process.stderr.write(`  library: ${Math.min(ADAPTERS, start + BATCH)}/${ADAPTERS} rows (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    }
    if (!process.argv.includes('--no-index')) {
      const report = await library.ensureIndex();
      process.stderr.write(`  index: ${report.message}\n`);
    }
  } finally {
    library.close();
  }
  writeNpy(path.join(root, 'target.proto.npy'), Float64Array.from(vector(123_457, DIM)));
  fs.writeFileSync(marker, `${ADAPTERS}x${DIM} built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
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
  const root = path.join(REPO_ROOT, '.bench', `lsp-${ADAPTERS}x${DIM}`);
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
        if (!lenses[0]?.command?.title.includes(`λ=${lambda}`)) throw new Error(`stale lens for λ=${lambda}: ${lenses[0]?.command?.title}`);
      }
      latencies.sort((a, b) => a - b);
      const row = `k=${k}: first plan ${cold.toFixed(0)} ms; didChange → fresh code lenses over ${EDITS} edits: p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`;
      rows.push(row);
      process.stdout.write(row + '\n');
      client.close(uri);
    }
    const rss = rssMb(client.child.pid);
    rows.push(`server RSS: ${rss.toFixed(0)} MB (goal ≤ 250 MB)`);
    process.stdout.write(rows[rows.length - 1] + '\n');
  } finally {
    await client.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
