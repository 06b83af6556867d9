/**
 * Merge benchmark: LLaMA-3-8B-shaped LoRA adapters (32 layers × q,k,v,o,gate,up,down; hidden 4096,
 * kv 1024, intermediate 14336; r = 16; bf16) × 3, merged to rank 16 with svd and with cat (and, with
 * --methods, the entry-wise ties, dare_linear, dare_ties, magnitude_prune at --density, default 0.2; run
 * one method per process to read its own peak RSS).
 * Prints time, peak RSS, the output's sha256 (to compare thread counts and machines) and the ratio to
 * the I/O floor measured in the same run (reading the input files + writing an output of the same size
 * as the merge's).
 *
 * Each method runs --repeat times (default 3), each run followed by a floor measurement; medians are
 * printed (wall and process CPU time: the box may be shared), and the fastest run against the fastest floor.
 * --baseline D runs another checkout's engine too, alternating with this one run by run.
 *
 *   node --import tsx bench/merge.ts [--layers N] [--adapters K] [--rank R] [--out-rank R] [--shape 8b|70b] [--dir D]
 *                                    [--products auto|js] [--repeat N] [--keep]
 *                                    [--methods svd,cat,ties,dare_linear,dare_ties,magnitude_prune] [--density D]
 *                                    [--fixtures D] [--profile] [--baseline D [--baseline-only]] [--ort-threads N] [--mix-threads N]
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mergeAdapters, type MergeMethod, type MergeResult } from '../server/src/engine/lora/merge';
import { writeSafetensors, type TensorToWrite } from '../server/src/engine/lora/safetensors';
import { createMatMulEngine, type MatMulEngine } from '../server/src/engine/onnx/matmul';
import { ortProducts, type PanelProducts } from '../server/src/engine/lora/panelProducts';
import { svdThreads } from '../server/src/engine/lora/mergeThreads';
import { arg } from './args';


const layers = Number(arg('layers', '32'));
const adapterCount = Number(arg('adapters', '3'));
const rank = Number(arg('rank', '16'));
const products = arg('products', 'auto') as 'auto' | 'js';
const keep = process.argv.includes('--keep');
const repeat = Math.max(1, Number(arg('repeat', '3')));
const methods = arg('methods', 'svd,cat').split(',') as MergeMethod[];
const density = Number(arg('density', '0.2'));

const outRank = Number(arg('out-rank', String(rank)));
const workDir = arg('dir', os.tmpdir());
/** --fixtures D: keep the generated adapters in D and reuse them on later runs with the same shape flags. */
const fixtures = arg('fixtures', '');
/** --profile: time the products (Grams, output factors) inside the merge, and measure the float64 GEMM throughput. */
const profile = process.argv.includes('--profile');
/** --baseline D: also run each method with the merge engine of the checkout D (e.g. an export of main), in the same process and run. */
const baseline = arg('baseline', '');
/** --ort-threads N (with --profile): ONNX Runtime's intra-op threads for the panel products; --mix-threads N: the svd mixing workers (0: inline). */
const ortThreads = arg('ort-threads', '') ? Number(arg('ort-threads', '')) : undefined;
const mixThreads = arg('mix-threads', '') ? Number(arg('mix-threads', '')) : undefined;
/** --shape 70b: LLaMA-70B-shaped modules (hidden 8192, kv 1024, intermediate 28672; 80 layers in the model). */
const [HIDDEN, KV, INTERMEDIATE] = arg('shape', '8b') === '70b' ? [8192, 1024, 28672] : [4096, 1024, 14336];
const MODULES: [string, number, number][] = [
  ['self_attn.q_proj', HIDDEN, HIDDEN],
  ['self_attn.k_proj', KV, HIDDEN],
  ['self_attn.v_proj', KV, HIDDEN],
  ['self_attn.o_proj', HIDDEN, HIDDEN],
  ['mlp.gate_proj', INTERMEDIATE, HIDDEN],
  ['mlp.up_proj', INTERMEDIATE, HIDDEN],
  ['mlp.down_proj', HIDDEN, INTERMEDIATE],
];

/** A file's sha256 read in 8 MiB pieces (not whole: the 70B outputs would raise the peak RSS this bench reports). */
function sha256Streamed(file: string): string {
  const hash = crypto.createHash('sha256');
  const piece = Buffer.alloc(8 << 20);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, piece, 0, piece.length, null)) > 0; ) hash.update(piece.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** Random bf16 values of a trained-LoRA-like size (|x| ≈ 1e-3…1e-1), straight as bits. */
function randomBf16(count: number, seed: number): Uint8Array {
  const out = new Uint16Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const u = s >>> 0;
    // sign | exponent 117..123 (≈ 2^-10 … 2^-4) | 7 random mantissa bits
    out[i] = ((u >>> 31) << 15) | ((117 + (u % 7)) << 7) | ((u >>> 8) & 0x7f);
  }
  return new Uint8Array(out.buffer);
}

function generateAdapter(dir: string, seed: number): number {
  fs.mkdirSync(dir, { recursive: true });
  const tensors: TensorToWrite[] = [];
  for (let l = 0; l < layers; l++) {
    for (const [name, out, inF] of MODULES) {
      const prefix = `base_model.model.model.layers.${l}.${name}`;
      tensors.push({ name: `${prefix}.lora_A.weight`, dtype: 'BF16', shape: [rank, inF] });
      tensors.push({ name: `${prefix}.lora_B.weight`, dtype: 'BF16', shape: [out, rank] });
    }
  }
  let k = 0;
  const { bytes } = writeSafetensors(path.join(dir, 'adapter_model.safetensors'), tensors, (t) => randomBf16(t.shape[0] * t.shape[1], seed * 7919 + ++k));
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({
    peft_type: 'LORA', base_model_name_or_path: 'meta-llama/Meta-Llama-3-8B', r: rank, lora_alpha: 2 * rank,
    target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], task_type: 'CAUSAL_LM',
  }));
  return bytes;
}

/** The I/O floor: read every input file once and write (and fsync) a file of the output's size. */
function ioFloor(inputs: string[], outputBytes: number, dir: string): number {
  const t0 = performance.now();
  const buf = Buffer.alloc(1 << 22);
  for (const file of inputs) {
    const fd = fs.openSync(file, 'r');
    let pos = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      pos += n;
    }
    fs.closeSync(fd);
  }
  const target = path.join(dir, 'floor.bin');
  const fd = fs.openSync(target, 'w');
  for (let written = 0; written < outputBytes; written += buf.length) fs.writeSync(fd, buf, 0, Math.min(buf.length, outputBytes - written));
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const ms = performance.now() - t0;
  fs.rmSync(target);
  return ms;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * The machine's float64 / float32 GEMM rate through ONNX Runtime (MatMul of one module's Gram shape,
 * [R, n]·[n, R] with R = adapters × rank and n = the hidden size), multiply-adds per second.
 */
async function gemmThroughput(engine: MatMulEngine): Promise<{ f64: number; f32: number }> {
  const R = adapterCount * rank, n = HIDDEN;
  const x64 = new Float64Array(R * n).map((_, i) => Math.sin(i));
  const x32 = Float32Array.from(x64);
  const rate = async (run: () => Promise<unknown>) => {
    await run();
    const t = performance.now();
    let reps = 0;
    while (performance.now() - t < 2000 || reps < 3) {
      await run();
      reps++;
    }
    return (reps * R * R * n) / ((performance.now() - t) / 1000);
  };
  return {
    f64: await rate(() => engine.matmul64(x64, [R, n], x64, [R, n], { transB: true })),
    f32: await rate(() => engine.matmul(x32, [R, n], x32, [R, n], { transB: true })),
  };
}

/** The compute floor of an exact svd merge: the symmetric Grams in float64 and the output products (float32 for bf16 output), at the measured rates. */
function gemmFloor(rate: { f64: number; f32: number }): string {
  const R = adapterCount * rank;
  const side = MODULES.reduce((s, [, out, inF]) => s + out + inF, 0) * layers;
  const gramMacs = (side * R * (R + 1)) / 2;
  const outMacs = side * R * outRank;
  const floor = gramMacs / rate.f64 + outMacs / rate.f32;
  return `GEMM rate (ORT MatMul [${R}, ${HIDDEN}]·[${HIDDEN}, ${R}]): float64 ${(rate.f64 / 1e9).toFixed(1)} G multiply-adds/s, float32 ${(rate.f32 / 1e9).toFixed(1)} G/s; ` +
    `svd compute floor (symmetric Grams ${(gramMacs / 1e9).toFixed(1)} G in f64 + output products ${(outMacs / 1e9).toFixed(1)} G in f32): ${floor.toFixed(2)} s`;
}

async function main() {
  fs.mkdirSync(workDir, { recursive: true });
  const root = fs.mkdtempSync(path.join(workDir, 'merge-bench-'));
  try {
    const t0 = performance.now();
    const shapeKey = `${arg('shape', '8b')}-l${layers}-r${rank}`;
    const fixtureRoot = fixtures ? path.join(fixtures, shapeKey) : root;
    const inputs = Array.from({ length: adapterCount }, (_, i) => ({ name: `adapter${i}`, path: path.join(fixtureRoot, `adapter${i}`), weight: [0.5, 0.3, 0.2, 0.1][i % 4] }));
    let inputBytes = 0;
    let generated = 0;
    inputs.forEach((inp, i) => {
      const done = path.join(inp.path, 'complete');
      if (fixtures && fs.existsSync(done)) {
        inputBytes += fs.statSync(path.join(inp.path, 'adapter_model.safetensors')).size;
        return;
      }
      inputBytes += generateAdapter(inp.path, i + 1);
      generated++;
      if (fixtures) fs.writeFileSync(done, '');
    });
    console.log(`${generated} of ${adapterCount} adapters generated (${adapterCount - generated} reused from --fixtures) × ${layers} layers × ${MODULES.length} modules, r=${rank}, bf16: ${mb(inputBytes)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const files = inputs.map((i) => path.join(i.path, 'adapter_model.safetensors'));
    let engine: MatMulEngine | undefined;
    let timed: PanelProducts | undefined;
    const spent = { grams: 0, factors: 0 };
    if (profile) {
      engine = await createMatMulEngine({ provider: 'cpu' });
      // the threads the merge itself would give ONNX Runtime beside its mixing workers, unless --ort-threads
      const widest = Math.max(...MODULES.map(([, out, inF]) => out + inF));
      const inner = ortProducts(engine, { intraOpThreads: ortThreads ?? svdThreads({ modules: layers * MODULES.length, innerRank: adapterCount * rank, panelBytes: adapterCount * rank * widest * 4, requested: mixThreads }).ort });
      timed = {
        ...inner,
        name: inner.name,
        grams: async (p) => {
          const t = performance.now();
          const g = await inner.grams(p);
          spent.grams += performance.now() - t;
          return g;
        },
        factors: async (p, ma, mb2, k, precision) => {
          const t = performance.now();
          const f = await inner.factors(p, ma, mb2, k, precision);
          spent.factors += performance.now() - t;
          return f;
        },
      };
      console.log(gemmFloor(await gemmThroughput(engine)));
    }

    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const engines: { label: string; merge: typeof mergeAdapters }[] = [{ label: '', merge: mergeAdapters }];
    if (baseline) {
      const mod = (await import(path.resolve(baseline, 'server/src/engine/lora/merge.ts'))) as { mergeAdapters: typeof mergeAdapters };
      engines.unshift({ label: ' (baseline)', merge: mod.mergeAdapters });
      // --baseline-only: that engine alone (its own peak RSS, a long run not doubled)
      if (process.argv.includes('--baseline-only')) engines.pop();
    }
    for (const method of methods) {
      // with --baseline, the engines alternate run by run, so that both see the same load
      const stats = engines.map(() => ({ walls: [] as number[], cpus: [] as number[], floors: [] as number[], result: undefined as MergeResult | undefined, outBytes: 0, digest: '', grams: 0, factors: 0 }));
      for (let run = 0; run < repeat; run++) {
        for (const [e, { merge }] of engines.entries()) {
          const st = stats[e];
          const out = path.join(root, `out-${method}`);
          const cpu0 = process.cpuUsage();
          const t = performance.now();
          spent.grams = spent.factors = 0;
          st.result = await merge(inputs, { method, rank: outRank, products: timed && method === 'svd' ? timed : products, density, mixThreads }, out);
          st.walls.push(performance.now() - t);
          const cpu = process.cpuUsage(cpu0);
          st.cpus.push((cpu.user + cpu.system) / 1000);
          st.grams = spent.grams;
          st.factors = spent.factors;
          st.outBytes = fs.statSync(path.join(out, 'adapter_model.safetensors')).size;
          // after the clock: the output's digest, to compare runs across thread counts and machines
          st.digest = sha256Streamed(path.join(out, 'adapter_model.safetensors'));
          fs.rmSync(out, { recursive: true, force: true });
          // the floor right after each run, under the same load
          st.floors.push(ioFloor(files, st.outBytes, root));
        }
      }
      for (const [e, { label }] of engines.entries()) {
        const { walls, cpus, floors, result, outBytes, digest } = stats[e];
        const ms = median(walls), floor = median(floors);
        console.log(
          `${method.padEnd(3)}${label}: ${(ms / 1000).toFixed(2)} s (cpu ${(median(cpus) / 1000).toFixed(2)} s), ${result!.modules} modules → rank ${result!.rank}, output ${mb(outBytes)} (sha256 ${digest.slice(0, 16)}…), ` +
            `products ${result!.products}, energy kept min ${result!.energyKept.min.toFixed(4)} mean ${result!.energyKept.mean.toFixed(4)}; ` +
            `I/O floor ${(floor / 1000).toFixed(2)} s → ${(ms / floor).toFixed(2)}× floor; fastest run ${(Math.min(...walls) / 1000).toFixed(2)} s → ${(Math.min(...walls) / Math.min(...floors)).toFixed(2)}× the fastest floor; peak RSS so far ${mb(process.resourceUsage().maxRSS * 1024)}`,
        );
        if (timed && method === 'svd') {
          console.log(`     last run: Grams ${(stats[e].grams / 1000).toFixed(2)} s, output products ${(stats[e].factors / 1000).toFixed(2)} s, the rest (decode, R×R factorisations, encode, writes) ${((walls[walls.length - 1] - stats[e].grams - stats[e].factors) / 1000).toFixed(2)} s`);
        }
        if (result!.entrywise) {
          const errors = Object.values(result!.entrywise.relativeError);
          const routes = Object.values(result!.entrywise.route);
          console.log(`     density ${density}: truncation relative error max ${Math.max(...errors).toFixed(4)} mean ${(errors.reduce((x, y) => x + y, 0) / errors.length).toFixed(4)}; routes: ${routes.filter((r) => r === 'exact').length} exact, ${routes.filter((r) => r === 'randomized').length} randomized`);
        }
        if (repeat > 1) {
          console.log(`     runs: wall ${walls.map((x) => (x / 1000).toFixed(2)).join(', ')} s; cpu ${cpus.map((x) => (x / 1000).toFixed(2)).join(', ')} s; floor ${floors.map((x) => (x / 1000).toFixed(2)).join(', ')} s (medians above)`);
        }
      }
    }
    if (profile) console.log(gemmFloor(await gemmThroughput(engine!)));
    await engine?.dispose();
    console.log(`reference: PyTorch MKL QR route, 32 layers: 28 s`);
  } finally {
    if (keep) console.log(`kept ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
