/**
 * The real-data workspace's costs: building it (data, base model, 16 LoRAs, library, every strategy's
 * composite scored), per-adapter training time, evaluation throughput through ONNX Runtime with a
 * composite merged into the weights, and one `eval --leave-one-out --with-evaluator` over all domains.
 * Wall time and this process's CPU time are both printed: on a shared machine the CPU time is the
 * steadier figure.
 * Run: node --import tsx bench/realDemo.ts [--seeds N]   (default 1 seed)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildRealDemoWorkspace } from '../server/src/engine/demo/real/buildRealDemo';
import { mergeIntoClassifier, readClassifier, readLabels, scoreLayers } from '../server/src/engine/eval/classification';
import { evaluateRecipes } from '../server/src/engine/eval/recipeLeaveOneOut';
import { readNpy } from '../server/src/engine/prototype/npy';

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await run();
  const c = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

async function main(): Promise<void> {
  const seedsArg = process.argv.indexOf('--seeds');
  const seeds = seedsArg > 0 ? Number(process.argv[seedsArg + 1]) : 1;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-bench-real-'));
  try {
    console.log(`machine: ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const build = await timed(() => buildRealDemoWorkspace(path.join(dir, 'ws'), { seeds }));
    const t = build.value.timings;
    console.log(`build (${seeds} seed${seeds > 1 ? 's' : ''}, ${build.value.domains.length} domains): wall ${build.wall.toFixed(1)} s, CPU ${build.cpu.toFixed(1)} s`);
    console.log(`  base model training: wall ${t.base_training_s.map((s) => s.toFixed(2)).join(', ')} s, CPU ${t.base_training_cpu_s.map((s) => s.toFixed(2)).join(', ')} s; per adapter (LoRA r=4, 400 samples × 20 epochs): wall ${t.adapter_training_s_mean.toFixed(2)} s, CPU ${t.adapter_training_cpu_s_mean.toFixed(2)} s`);
    console.log(`  ${t.evaluations} evaluations in the build, ${Math.round(t.eval_samples_per_s)} samples/s (600-sample test sets, incl. session creation)`);

    const ws = path.join(dir, 'ws');
    const base = readClassifier(path.join(ws, 'model'));
    const layers = mergeIntoClassifier(base, path.join(ws, 'out', 'rot30', 'convex'));
    const x = readNpy(path.join(ws, 'data', 'rot30', 'test_x.npy'));
    const y = readLabels(path.join(ws, 'data', 'rot30', 'test_y.npy'));
    const copies = 100;
    const big = new Float32Array(x.data.length * copies);
    for (let i = 0; i < copies; i++) big.set(x.data, i * x.data.length);
    const labels = new Int32Array(y.length * copies);
    for (let i = 0; i < copies; i++) labels.set(y, i * y.length);
    await scoreLayers(layers, big.subarray(0, 196 * 1000), [1000, 196], labels.subarray(0, 1000)); // warm-up
    const rows = y.length * copies;
    const merge = await timed(async () => mergeIntoClassifier(base, path.join(ws, 'out', 'rot30', 'convex')));
    const throughput = await timed(() => scoreLayers(layers, big, [rows, 196], labels));
    console.log(`evaluation throughput, composite merged (merge ${(merge.wall * 1000).toFixed(1)} ms), ONNX Runtime CPU (1 intra-op thread): ${rows} samples in ${throughput.wall.toFixed(2)} s (CPU ${throughput.cpu.toFixed(2)} s) = ${Math.round(rows / throughput.wall)} samples/s`);

    const recipes = fs.readdirSync(path.join(ws, 'recipes')).map((f) => path.join(ws, 'recipes', f)).sort();
    const loo = await timed(() => evaluateRecipes(recipes));
    const strategies = Object.keys(loo.value.targets[0].strategies).length;
    console.log(`eval --leave-one-out --with-evaluator: ${recipes.length} targets × (${strategies} strategies + base + held-out) in wall ${loo.wall.toFixed(1)} s, CPU ${loo.cpu.toFixed(1)} s (${(loo.wall / recipes.length).toFixed(2)} s per target)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
