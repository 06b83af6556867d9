/**
 * GPU benchmark: the prototype encoder and the merge's matrix products on the CUDA execution
 * provider against the CPU, with the speed-up and the largest difference between the two.
 *
 *   node --import tsx bench/gpu.ts [--batch 64] [--size 224] [--repeat 5] [--dim 4096] [--rank 48]
 *   bash bench/gpu.sh [same flags]          (finds or carries a Node binary; see gpu.sh)
 *   --check-on-cpu   run every step with the CPU standing in for CUDA (checks this script where
 *                    there is no GPU; the "speed-up" is then CPU vs CPU and means nothing)
 *
 * Where CUDA cannot run it prints "CUDA not available: <why>" and exits 0, so the same command is
 * safe to run anywhere. Nothing here is compared against a stored figure: both sides run now.
 *
 * Encoder: a ViT-style image encoder built in code — Conv 16×16/16 patch embedding (3 → 256),
 * GELU-free ReLU, a 256×256 MatMul over the patches, mean over patches, projection to 512 — fed
 * [batch, 3, size, size] float32.
 * Merge products: ΔW = (B·diag(w·s))·A for concatenated factors of total rank R (B [m, R], A [R, n])
 * and the Gram products BᵀB, AAᵀ the exact SVD merge computes, through createMatMulEngine.
 */
import * as ort from 'onnxruntime-node';
import { attr, buildModel, float32Tensor, int64Tensor } from '../server/src/engine/onnx/model';
import { createMatMulEngine, type MatMulEngine } from '../server/src/engine/onnx/matmul';
import { createSession, probeProviders } from '../server/src/engine/onnx/session';
import { numberArg } from './args';

function flag(name: string, fallback: number): number {
  const v = numberArg(name, fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} expects a positive number`);
  return v;
}

const batch = flag('batch', 64);
const size = flag('size', 224);
const repeat = flag('repeat', 5);
const dim = flag('dim', 4096);
const rank = flag('rank', 48);
const checkOnCpu = process.argv.includes('--check-on-cpu');
const GPU = checkOnCpu ? 'cpu' : 'cuda';
const PATCH = 16;
const [HIDDEN, OUT] = [256, 512];

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
}

function randomArray(length: number, seed: number, scale = 1): Float32Array {
  const rnd = seeded(seed);
  return Float32Array.from({ length }, () => rnd() * scale);
}

function encoderModel(): Uint8Array {
  if (size % PATCH !== 0) throw new Error(`--size must be a multiple of ${PATCH}`);
  return buildModel({
    inputs: [{ name: 'pixel_values', type: 'float32', shape: ['batch', 3, size, size] }],
    outputs: [{ name: 'image_embeds', type: 'float32', shape: ['batch', OUT] }],
    initializers: [
      float32Tensor('conv_w', [HIDDEN, 3, PATCH, PATCH], randomArray(HIDDEN * 3 * PATCH * PATCH, 1, 0.05)),
      float32Tensor('conv_b', [HIDDEN], randomArray(HIDDEN, 2, 0.1)),
      float32Tensor('mix', [HIDDEN, HIDDEN], randomArray(HIDDEN * HIDDEN, 3, 0.1)),
      float32Tensor('proj', [HIDDEN, OUT], randomArray(HIDDEN * OUT, 4, 0.1)),
      int64Tensor('patches_shape', [3], [0, HIDDEN, -1]),
      int64Tensor('patch_axis', [1], [1]),
    ],
    nodes: [
      { op: 'Conv', inputs: ['pixel_values', 'conv_w', 'conv_b'], outputs: ['patches'], attributes: { kernel_shape: attr.ints([PATCH, PATCH]), strides: attr.ints([PATCH, PATCH]) } },
      { op: 'Relu', inputs: ['patches'], outputs: ['act'] },
      { op: 'Reshape', inputs: ['act', 'patches_shape'], outputs: ['tokens_t'] },
      { op: 'Transpose', inputs: ['tokens_t'], outputs: ['tokens'], attributes: { perm: attr.ints([0, 2, 1]) } },
      { op: 'MatMul', inputs: ['tokens', 'mix'], outputs: ['mixed'] },
      { op: 'Relu', inputs: ['mixed'], outputs: ['mixed_act'] },
      { op: 'ReduceMean', inputs: ['mixed_act'], outputs: ['pooled'], attributes: { axes: attr.ints([1]), keepdims: attr.int(0) } },
      { op: 'MatMul', inputs: ['pooled', 'proj'], outputs: ['image_embeds'] },
    ],
    opset: 17,
  });
}

async function timeIt(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up: kernel selection, cuDNN autotuning, first allocations
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; rel: number } {
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    abs = Math.max(abs, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { abs, rel: scale > 0 ? abs / scale : abs };
}

function row(what: string, cpuMs: number, gpuMs: number, diff: { abs: number; rel: number }): string {
  return `${what.padEnd(44)} cpu ${cpuMs.toFixed(2).padStart(9)} ms   ${GPU.padEnd(4)} ${gpuMs.toFixed(2).padStart(8)} ms   ×${(cpuMs / gpuMs).toFixed(1).padStart(6)}   max|Δ| ${diff.abs.toExponential(2)} (rel ${diff.rel.toExponential(2)})`;
}

async function main(): Promise<void> {
  const probes = await probeProviders({ tryCreate: true });
  const cuda = probes.find((p) => p.provider === 'cuda')!;
  if (!cuda.available && !checkOnCpu) {
    console.log(`CUDA not available: ${cuda.reason ?? 'unknown reason'}`);
    console.log('Nothing to compare; run `adapter-composer doctor` for how to install the CUDA provider. (exit 0)');
    return;
  }
  if (checkOnCpu) console.log('--check-on-cpu: the CPU stands in for CUDA; the figures below compare the CPU with itself');
  console.log(`node ${process.version}, onnxruntime-node ${ort.env.versions?.common ?? ''}, batch ${batch}, image ${size}×${size}, merge ${dim}×${rank}·${rank}×${dim}, median of ${repeat}`);

  // Encoder on both providers.
  const model = encoderModel();
  const cpu = await createSession(model, { provider: 'cpu', label: 'bench encoder' });
  const gpu = await createSession(model, { provider: GPU, label: 'bench encoder' });
  if (gpu.provider !== GPU) {
    console.log(`CUDA not available: ${gpu.fallback ?? 'the session opened on ' + gpu.provider}`);
    return;
  }
  const pixels = randomArray(batch * 3 * size * size, 7, 4);
  const feeds = { pixel_values: new ort.Tensor('float32', pixels, [batch, 3, size, size]) };
  let cpuOut: Float32Array = new Float32Array(0);
  let gpuOut: Float32Array = new Float32Array(0);
  const cpuMs = await timeIt(repeat, async () => (cpuOut = Float32Array.from((await cpu.session.run(feeds)).image_embeds.data as Float32Array)));
  const gpuMs = await timeIt(repeat, async () => (gpuOut = Float32Array.from((await gpu.session.run(feeds)).image_embeds.data as Float32Array)));
  console.log(row(`encode ${batch} images (${(batch / (gpuMs / 1000)).toFixed(0)} img/s on ${GPU})`, cpuMs, gpuMs, maxAbsDiff(gpuOut, cpuOut)));
  await cpu.session.release();
  await gpu.session.release();

  // Merge products through the engine the merge uses.
  const cpuEngine = await createMatMulEngine({ provider: 'cpu' });
  const gpuEngine = await createMatMulEngine({ provider: GPU });
  if (gpuEngine.provider !== GPU) {
    console.log(`CUDA not available for the MatMul engine: ${gpuEngine.fallback ?? gpuEngine.provider}`);
    return;
  }
  const B = randomArray(dim * rank, 11, 0.02);
  const A = randomArray(rank * dim, 12, 0.02);
  const products: [string, (e: MatMulEngine) => Promise<Float32Array>][] = [
    [`ΔW = B·A  [${dim}×${rank}]·[${rank}×${dim}]`, (e) => e.matmul(B, [dim, rank], A, [rank, dim])],
    [`Gram BᵀB  [${rank}×${dim}]·[${dim}×${rank}]`, (e) => e.matmul(B, [dim, rank], B, [dim, rank], { transA: true })],
    [`Gram AAᵀ  [${rank}×${dim}]·[${dim}×${rank}]`, (e) => e.matmul(A, [rank, dim], A, [rank, dim], { transB: true })],
  ];
  for (const [what, run] of products) {
    let c: Float32Array = new Float32Array(0);
    let g: Float32Array = new Float32Array(0);
    const cMs = await timeIt(repeat, async () => (c = await run(cpuEngine)));
    const gMs = await timeIt(repeat, async () => (g = await run(gpuEngine)));
    console.log(row(what, cMs, gMs, maxAbsDiff(g, c)));
  }
  await cpuEngine.dispose();
  await gpuEngine.dispose();
  console.log('(times include host↔device copies of inputs and outputs, as the composer pays them)');
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
