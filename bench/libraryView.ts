/**
 * The library view and map at scale, through the real language server over stdio: the libraries list,
 * the base/tag groups, a page at the start and one at the end of a large library, and the map of a
 * recipe (first: PCA of the sample; again: cached basis), with the server's RSS.
 *
 *   node --import tsx bench/libraryView.ts [--adapters 100000] [--dim 64] [--sample 1000]
 *
 * The library is built once (library.add in batches of 10k rows, no ANN index unless it is needed
 * for the recipe's k-NN) and kept in .bench/libview-<n>x<dim>/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { initLibrary } from '../server/src/engine/library/library';
import { writeNpy } from '../server/src/engine/prototype/npy';
import type { AdapterRecord } from '../server/src/engine/types';
import { LibraryRequests, type LibraryMap, type LibraryPage } from '../server/src/protocol';
import { ServerClient, REPO_ROOT } from '../test/lsp/lspClient';
import { numberArg } from './args';

const ADAPTERS = numberArg('adapters', 100_000);
const DIM = numberArg('dim', 64);
const SAMPLE = numberArg('sample', 1000);
const BATCH = 10_000;
const BASE = 'bench/base';

function vector(seed: number, dim: number): number[] {
  let s = (seed * 2654435761) >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const centre = seed % 64;
  return Array.from({ length: dim }, (_, i) => Math.sin(centre * 0.37 + i * 0.11) + (rand() - 0.5) * 0.3);
}

async function build(root: string): Promise<void> {
  if (fs.existsSync(path.join(root, '.complete'))) return;
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'adapters', 'shared'), { recursive: true });
  fs.writeFileSync(path.join(root, 'adapters', 'shared', 'adapter_config.json'), JSON.stringify({ base_model_name_or_path: BASE, peft_type: 'LORA', r: 8, lora_alpha: 8, target_modules: ['q_proj'] }));
  const library = await initLibrary(path.join(root, 'library'), { dim: DIM });
  try {
    for (let start = 0; start < ADAPTERS; start += BATCH) {
      const records: AdapterRecord[] = [];
      for (let i = start; i < Math.min(ADAPTERS, start + BATCH); i++) {
        records.push({
          name: `adapter-${String(i).padStart(6, '0')}`, base: i % 10 === 9 ? 'bench/other' : BASE, rank: 8, alpha: 8,
          target_modules: ['q_proj', 'v_proj'], format: 'peft', path: path.join(root, 'adapters', 'shared'), sha256: '0'.repeat(64),
          prototype: vector(i, DIM), description: `bench adapter ${i}`, tags: [`cluster-${i % 64}`], created_at: '2026-01-01T00:00:00.000Z',
        });
      }
      await library.add(records);
      process.stderr.write(`  library: ${Math.min(ADAPTERS, start + BATCH)}/${ADAPTERS}\n`);
    }
    if (ADAPTERS >= 50_000) process.stderr.write(`  index: ${(await library.ensureIndex()).message}\n`);
  } finally {
    library.close();
  }
  writeNpy(path.join(root, 'target.proto.npy'), Float64Array.from(vector(123_457, DIM)));
  fs.writeFileSync(path.join(root, 'bench.compose.yaml'), `compose: 1\nname: bench\nbase: ${BASE}\nlibrary: ./library\ntarget:\n  prototype: ./target.proto.npy\nretrieve:\n  k: 8\nweights:\n  strategy: sparse\nmerge:\n  method: svd\n  rank: 8\noutput: ./out/bench\n`);
  fs.writeFileSync(path.join(root, '.complete'), 'ok\n');
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const r = await run();
  return [r, Number(process.hrtime.bigint() - t) / 1e6];
}

async function main(): Promise<void> {
  const root = path.join(REPO_ROOT, '.bench', `libview-${ADAPTERS}x${DIM}`);
  await build(root);
  const client = new ServerClient({ workspace: root, initializationOptions: { settings: { adapterCompose: { libraryPollMs: 0 } } } });
  try {
    await client.initialize();
    const uri = client.open(path.join(root, 'bench.compose.yaml'), fs.readFileSync(path.join(root, 'bench.compose.yaml'), 'utf8'));
    await client.diagnosticsFor(uri, 1, 300_000);
    const library = path.join(root, 'library');
    const rows: [string, number][] = [];
    const [list, tList] = await timed(() => client.request<{ size: number }[]>(LibraryRequests.list, {}));
    rows.push([`libraries (${list[0]?.size} rows)`, tList]);
    const [, tGroups] = await timed(() => client.request(LibraryRequests.groups, { library }));
    rows.push(['groups by base and tag (first)', tGroups]);
    const [, tGroups2] = await timed(() => client.request(LibraryRequests.groups, { library }));
    rows.push(['groups (cached per version)', tGroups2]);
    const [first, tFirst] = await timed(() => client.request<LibraryPage>(LibraryRequests.page, { library, base: BASE, offset: 0, limit: 100 }));
    rows.push([`page 100 rows at offset 0 (of ${first.total})`, tFirst]);
    const [, tLast] = await timed(() => client.request<LibraryPage>(LibraryRequests.page, { library, base: BASE, offset: first.total - 100, limit: 100 }));
    rows.push([`page 100 rows at offset ${first.total - 100}`, tLast]);
    const [, tTag] = await timed(() => client.request<LibraryPage>(LibraryRequests.page, { library, base: BASE, tag: 'cluster-7', offset: 0, limit: 100 }));
    rows.push(['page 100 rows of one tag', tTag]);
    const [map, tMap] = await timed(() => client.request<LibraryMap>(LibraryRequests.map, { uri, sample: SAMPLE }));
    rows.push([`map (PCA of ${map.basisRows} × ${DIM}-d, sampled=${map.sampled}, ${map.points.length} points)`, tMap]);
    const [, tMap2] = await timed(() => client.request<LibraryMap>(LibraryRequests.map, { uri, sample: SAMPLE }));
    rows.push(['map again (cached basis)', tMap2]);
    const rss = Number(fs.readFileSync(`/proc/${client.child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) / 1024;
    console.log(`library view, ${ADAPTERS} adapters × ${DIM}-d (explained ${map.explained.map((x) => (x * 100).toFixed(1) + '%').join(' + ')})`);
    for (const [what, ms] of rows) console.log(`  ${what.padEnd(64)} ${ms.toFixed(1).padStart(8)} ms`);
    console.log(`  server RSS ${rss.toFixed(0)} MB`);
    void pathToFileURL;
  } finally {
    await client.stop();
  }
}

void main();
