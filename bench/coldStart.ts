/**
 * Cold start of the language server and the CLI, this build against a baseline build in the same run
 * (runs interleaved, medians): `lsp --stdio` spawn → initialize answered → status ready (what the
 * VS Code status bar waits for) → first code lens of a recipe on a 100k-adapter library (IVF index);
 * `--version` end to end; the extension bundle's load (require with a stub `vscode`); and the RSS.
 *
 *   node --import tsx bench/coldStart.ts [--baseline /work/bench-data/baseline-main/dist/cli.js] [--runs 7]
 *        [--rows 100000] [--data /work/bench-data/library-100000x768]
 *
 * The baseline is a build of another commit: `git archive <commit> | tar -x -C DIR`, link node_modules,
 * `node scripts/build.mjs` there. The library is bench/bigLibrary.ts's (built once, then reused).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openLibrary } from '../server/src/engine/library/library';
import { writeNpy } from '../server/src/engine/prototype/npy';
import { ServerClient, REPO_ROOT } from '../test/lsp/lspClient';
import { arg } from './args';
import { bigLibrary, BENCH_BASE } from './bigLibrary';

const ROWS = Number(arg('rows', '100000'));
const DIM = 768;
const DATA = arg('data', `/work/bench-data/library-${ROWS}x${DIM}`);
const RUNS = Number(arg('runs', '7'));
const BASELINE = arg('baseline', '/work/bench-data/baseline-main/dist/cli.js');
const CURRENT = path.join(REPO_ROOT, 'dist/cli.js');

const recipe = `compose: 1\nbase: ${BENCH_BASE}\nlibrary: ../library\ntarget:\n  prototype: ../target.proto.npy\nretrieve:\n  k: 8\nweights:\n  strategy: sparse\n  lambda: 0.05\nmerge:\n  method: cat\noutput: ../out/cold\n`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Sample { init: number; ready: number; lens: number; rss: number }

async function lspOnce(cli: string, root: string): Promise<Sample> {
  const t0 = performance.now();
  const client = new ServerClient({ workspace: root, cli, env: { MALLOC_ARENA_MAX: '2' }, initializationOptions: { settings: { adapterCompose: { debounceMs: 0 } } } });
  try {
    await client.initialize();
    const init = performance.now() - t0;
    await client.waitFor<{ state?: string }>('adapterCompose/status', (p) => p.state === 'idle', 60_000);
    const ready = performance.now() - t0;
    const uri = client.open(path.join(root, 'recipes', 'cold.compose.yaml'), recipe);
    const published = await client.diagnosticsFor(uri, 1, 120_000);
    if (published.diagnostics.some((d) => d.severity === 1)) throw new Error(`recipe has errors: ${JSON.stringify(published.diagnostics)}`);
    const lenses = await client.request<{ command?: { title: string } }[]>('textDocument/codeLens', { textDocument: { uri } });
    if (!lenses.some((l) => l.command?.title.includes('λ=0.05'))) throw new Error(`no plan lens: ${JSON.stringify(lenses)}`);
    const lens = performance.now() - t0;
    const status = fs.readFileSync(`/proc/${client.child.pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
    return { init, ready, lens, rss };
  } finally {
    await client.stop();
  }
}

function versionOnce(cli: string): number {
  const t = performance.now();
  execFileSync(process.execPath, [cli, '--version']);
  return performance.now() - t;
}

/** The extension bundle's load: require dist/extension.js with every `vscode` access answered by a stub. */
function extensionLoadOnce(bundle: string): number {
  const script = `
const Module = require('module');
const stub = new Proxy(function () {}, { get: (t, k) => (k === 'then' ? undefined : stub), apply: () => stub, construct: () => stub });
const load = Module._load;
Module._load = function (request, ...rest) { return request === 'vscode' ? stub : load.call(this, request, ...rest); };
const t = process.hrtime.bigint();
require(${JSON.stringify(bundle)});
process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

async function main(): Promise<void> {
  const big = await bigLibrary(DATA, ROWS, DIM);
  const lib = await openLibrary(big.library);
  const info = await lib.info();
  if (!info.index) process.stderr.write(`  index: ${(await lib.ensureIndex()).message}\n`);
  lib.close();
  fs.mkdirSync(path.join(DATA, 'recipes'), { recursive: true });
  writeNpy(path.join(DATA, 'target.proto.npy'), Float64Array.from(big.queries.subarray(0, DIM)));
  const builds = [['baseline', BASELINE], ['this build', CURRENT]] as const;
  const samples = new Map<string, { lsp: Sample[]; version: number[]; ext: number[] }>(builds.map(([name]) => [name, { lsp: [], version: [], ext: [] }]));
  process.stdout.write(`cold start: ${ROWS}-adapter library (${info.index?.type ?? 'index built now'}), ${RUNS} runs each, interleaved; baseline ${BASELINE}\n`);
  for (let run = 0; run < RUNS; run++) {
    for (const [name, cli] of run % 2 === 0 ? builds : [...builds].reverse()) {
      const s = samples.get(name)!;
      s.lsp.push(await lspOnce(cli, DATA));
      s.version.push(versionOnce(cli));
      s.ext.push(extensionLoadOnce(path.join(path.dirname(cli), 'extension.js')));
    }
  }
  const rows: Record<string, Record<string, number>> = {};
  for (const [name] of builds) {
    const s = samples.get(name)!;
    rows[name] = {
      'initialize answered': median(s.lsp.map((x) => x.init)),
      'status ready': median(s.lsp.map((x) => x.ready)),
      'first code lens': median(s.lsp.map((x) => x.lens)),
      '--version': median(s.version),
      'extension bundle load': median(s.ext),
      'server RSS after the lens (MB)': median(s.lsp.map((x) => x.rss)),
    };
  }
  process.stdout.write('| medians, ms | baseline | this build | ratio |\n| --- | ---: | ---: | ---: |\n');
  for (const key of Object.keys(rows.baseline)) {
    const b = rows.baseline[key];
    const c = rows['this build'][key];
    process.stdout.write(`| ${key} | ${b.toFixed(0)} | ${c.toFixed(0)} | ${(c / b).toFixed(2)} |\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
