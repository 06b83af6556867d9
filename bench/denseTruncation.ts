/**
 * The dense truncation's two routes on modules that allow both: the exact Gram eigen-decomposition
 * and the randomized range finder (several power-iteration counts), on the TIES merge of a real
 * adapter pair (gpt2: 768×2304 c_attn, 768×768 c_proj). Prints time and relative error per route.
 *
 *   node --import tsx bench/denseTruncation.ts [--modules N] [--rank R] [--density D]
 */
import { createMatMulEngine } from '../server/src/engine/onnx/matmul';
import { entrywiseModule } from '../server/src/engine/lora/entrywiseMerge';
import { truncateDense } from '../server/src/engine/lora/denseTruncation';
import { openAdapter } from '../server/src/engine/lora/formats';
import { deltaOf } from '../server/src/engine/lora/adapter';
import { ortProducts } from '../server/src/engine/lora/panelProducts';
import * as path from 'node:path';
import { REAL_LORAS } from '../test/sharedData';
import { arg } from './args';

const REAL = path.join(REAL_LORAS, 'peft-gpt2');
const count = Number(arg('modules', '2'));
const rank = Number(arg('rank', '16'));
const density = Number(arg('density', '0.2'));

async function main() {
  const inputs = [
    { name: 'tigrinya', a: openAdapter(`${REAL}/tigrinya-causal-lm`), weight: 0.6 },
    { name: 'gradience', a: openAdapter(`${REAL}/dialogpt-small-synthetic-gradience`), weight: 0.4 },
  ];
  const engine = await createMatMulEngine();
  const products = ortProducts(engine);
  const shared = [...inputs[0].a.modules.keys()].filter((k) => inputs[1].a.modules.has(k)).sort();
  const picks = [...shared.filter((k) => k.endsWith('c_attn')).slice(0, Math.ceil(count / 2)), ...shared.filter((k) => k.endsWith('c_proj')).slice(0, Math.floor(count / 2))];
  for (const module of picks) {
    // the dense factors of each adapter as rank-n panels: A = ΔWᵢ, B = I would be m×m; use the exact
    // low-rank factors instead through a panel of the dense updates (rows = adapters' ΔW)
    const mods = inputs.map((i) => i.a.modules.get(module)!);
    const m = mods[0].outFeatures, n = mods[0].inFeatures;
    // panels: A [m·2, n] = ΔW rows, B [m, 2m] = [I I]: ΔW = Σ B·diag(c)·A with c = wᵢ
    const a = new Float64Array(2 * m * n);
    inputs.forEach((inp, gi) => a.set(deltaOf(inp.a, module), gi * m * n));
    const b = new Float64Array(m * 2 * m);
    for (let i = 0; i < m; i++) for (let g = 0; g < 2; g++) b[i * 2 * m + g * m + i] = 1;
    const coefficients = new Float64Array(2 * m);
    coefficients.fill(inputs[0].weight, 0, m);
    coefficients.fill(inputs[1].weight, m);
    const dense = new Float64Array(m * n);
    await entrywiseModule({ m, n, a, b, coefficients }, inputs.map((inp, gi) => ({ key: inp.name, row: gi * m, rank: m, weight: inp.weight })), module, { method: 'ties', density, seed: 0, normalize: false }, products, dense);
    const t0 = performance.now();
    const exact = await truncateDense(dense, m, n, rank, products, { route: 'exact' });
    const te = performance.now() - t0;
    console.log(`${module} [${m}, ${n}] ties density ${density} rank ${rank}: exact ${(te / 1000).toFixed(2)} s, relative error ${exact.relativeError.toFixed(6)}`);
    for (const q of [1, 2, 4, 8]) {
      const t1 = performance.now();
      const rand = await truncateDense(dense, m, n, rank, products, { route: 'randomized', powerIterations: q });
      const tr = performance.now() - t1;
      console.log(`   randomized q=${q}: ${(tr / 1000).toFixed(2)} s, relative error ${rand.relativeError.toFixed(6)} (${((rand.relativeError / exact.relativeError - 1) * 100).toFixed(3)}% above exact; kept energy ${rand.energyKept.toFixed(6)} vs ${exact.energyKept.toFixed(6)})`);
    }
  }
  await engine.dispose();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
