/**
 * Does TIES / DARE change task accuracy against the linear (cat) merge? On the real-data workspace
 * (`adapter-composer demo --real`): for each held-out domain, the adapters and weights of the
 * `sparse` composite (out/<domain>/sparse/composition.json) are merged again with every entry-wise
 * method (rank = min(m, n) of each module, so no truncation: the method's own effect) and the model
 * with the composite merged in is scored on the domain's test split in ONNX Runtime.
 *
 *   node --import tsx bench/entrywiseRealDemo.ts DEMO_DIR [--strategy sparse] [--densities 0.2,0.5] [--seeds 0,1,2]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mergeAdapters, type MergeMethod } from '../server/src/engine/lora/merge';
import { evaluateClassification } from '../server/src/engine/eval/classification';
import { arg } from './args';

const root = path.resolve(process.argv[2] ?? 'demo-real');
const strategy = arg('strategy', 'sparse');
const densities = arg('densities', '0.2,0.5').split(',').map(Number);
const seeds = arg('seeds', '0,1,2').split(',').map(Number);
const METHODS: MergeMethod[] = ['ties', 'dare_linear', 'dare_ties', 'magnitude_prune'];

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrywise-real-'));
  const domains = fs.readdirSync(path.join(root, 'out')).filter((d) => fs.existsSync(path.join(root, 'out', d, strategy, 'composition.json'))).sort();
  const rows: Record<string, number[]> = {};
  const add = (key: string, v: number) => (rows[key] ??= []).push(v);
  try {
    for (const domain of domains) {
      const compDir = path.join(root, 'out', domain, strategy);
      const comp = JSON.parse(fs.readFileSync(path.join(compDir, 'composition.json'), 'utf8')) as { inputs: { name: string; path: string; weight: number }[] };
      const inputs = comp.inputs.map((i) => ({ name: i.name, weight: i.weight, path: path.resolve(compDir, i.path) }));
      const data = { model: path.join(root, 'model'), data: path.join(root, 'data', domain, 'test_x.npy'), labels: path.join(root, 'data', domain, 'test_y.npy') };
      const line: string[] = [];
      const linear = await evaluateClassification({ ...data, adapter: compDir });
      add('cat (linear)', linear.accuracy);
      line.push(`cat ${linear.accuracy.toFixed(3)}`);
      for (const method of METHODS) {
        for (const density of densities) {
          const accs: number[] = [];
          for (const seed of method.startsWith('dare') ? seeds : [0]) {
            const out = path.join(tmp, `${domain}-${method}-${density}-${seed}`);
            await mergeAdapters(inputs, { method, density, seed, rank: 1 << 20 }, out);
            accs.push((await evaluateClassification({ ...data, adapter: out })).accuracy);
          }
          const mean = accs.reduce((s, x) => s + x, 0) / accs.length;
          add(`${method} d=${density}`, mean);
          line.push(`${method}@${density} ${mean.toFixed(3)}`);
        }
      }
      console.log(`${domain} (${inputs.length} adapters): ${line.join(', ')}`);
    }
    console.log(`\nmean test accuracy over ${domains.length} held-out domains (${strategy} weights; DARE: mean over seeds ${seeds.join(',')}):`);
    const base = rows['cat (linear)'];
    for (const [key, v] of Object.entries(rows)) {
      const mean = v.reduce((s, x) => s + x, 0) / v.length;
      const diff = v.map((x, i) => x - base[i]);
      const better = diff.filter((d) => d > 1e-9).length, worse = diff.filter((d) => d < -1e-9).length;
      console.log(`| ${key} | ${mean.toFixed(4)} | ${(mean - base.reduce((s, x) => s + x, 0) / base.length >= 0 ? '+' : '') + (mean - base.reduce((s, x) => s + x, 0) / base.length).toFixed(4)} | ${better} better, ${worse} worse |`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
