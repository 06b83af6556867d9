/**
 * The svd merge's R×R steps alone (lora/truncatedProduct.ts truncationMix: balancing, two pivoted
 * Cholesky factorisations, the core product, its Gram, topEigen, the singular rows, two triangular
 * solves), on the Grams of random bf16-valued factors shaped like 70B modules' stacked adapters
 * (K × r64: R = 256 for 4 adapters, 512 for 8), timed as a whole and step by step (the linalg/ steps
 * both checkouts export, and this checkout's WebAssembly kernels, linalg/mixKernels.ts). `--baseline DIR` times another checkout's code on the same Grams, alternating
 * run by run (ratios from one run, one machine load), and checks that every output bit is the same.
 *
 *   node --import tsx bench/truncationMix.ts [--baseline DIR] [--sizes 256,512] [--out-ranks 64,128] [--repeats N] [--dim N]
 */
import { performance } from 'node:perf_hooks';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as currentMix from '../server/src/engine/lora/truncatedProduct';
import * as currentCholesky from '../server/src/engine/linalg/cholesky';
import * as currentDense from '../server/src/engine/linalg/dense';
import * as currentEigen from '../server/src/engine/linalg/eigen';
import { mixKernels } from '../server/src/engine/linalg/mixKernels';
import { arg, numberArg } from './args';
import { seededRandom } from '../server/src/engine/random';

interface Code {
  mix: Pick<typeof currentMix, 'truncationMix'>;
  /** This checkout's kernels when it has them (linalg/mixKernels.ts), timed beside the JavaScript steps. */
  kernels?: ReturnType<typeof mixKernels>;
  cholesky: Pick<typeof currentCholesky, 'pivotedCholesky' | 'solveCholeskyTranspose'>;
  dense: Pick<typeof currentDense, 'rowGram' | 'transpose'>;
  eigen: Pick<typeof currentEigen, 'topEigen'>;
}

const bf16 = new Float32Array(1);
const bf16Bits = new Uint32Array(bf16.buffer);
/** x rounded to bfloat16 (truncated mantissa), as the adapters store it. */
function toBf16(x: number): number {
  bf16[0] = x;
  bf16Bits[0] &= 0xffff0000;
  return bf16[0];
}

/** Rows [R, dim] of K adapters' factors, each adapter at its own scale, and their Gram (float64). */
function gramOfFactors(random: () => number, R: number, dim: number, adapters: number): Float64Array {
  const gaussian = () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-300))) * Math.cos(2 * Math.PI * random());
  const rows = new Float64Array(R * dim);
  const per = R / adapters;
  for (let t = 0; t < R; t++) {
    const scale = 0.01 * (1 + Math.floor(t / per));
    for (let i = 0; i < dim; i++) rows[t * dim + i] = toBf16(scale * gaussian());
  }
  const g = new Float64Array(R * R);
  for (let x = 0; x < R; x++) {
    for (let y = x; y < R; y++) {
      let s = 0;
      for (let i = 0; i < dim; i++) s += rows[x * dim + i] * rows[y * dim + i];
      g[x * R + y] = s;
      g[y * R + x] = s;
    }
  }
  return g;
}

async function load(dir: string): Promise<Code> {
  const at = (file: string) => import(pathToFileURL(path.resolve(dir, 'server/src/engine', file)).href);
  return {
    mix: (await at('lora/truncatedProduct.ts')) as Code['mix'],
    cholesky: (await at('linalg/cholesky.ts')) as Code['cholesky'],
    dense: (await at('linalg/dense.ts')) as Code['dense'],
    eigen: (await at('linalg/eigen.ts')) as Code['eigen'],
  };
}

/** The step-by-step functions of one checkout on one problem (each returns nothing; inputs prepared once). */
function steps(code: Code, gramA: Float64Array, gramB: Float64Array, coefficients: Float64Array, outRank: number): [string, () => void][] {
  const R = coefficients.length;
  const cb = code.cholesky.pivotedCholesky(gramB, R);
  const ca = code.cholesky.pivotedCholesky(gramA, R);
  const core = new Float64Array(cb.k * ca.k);
  for (let i = 0; i < core.length; i++) core[i] = gramA[i % gramA.length];
  const sym = code.dense.rowGram(core, cb.k, ca.k);
  const x = new Float64Array(cb.k * outRank).fill(0.5);
  const k = code.kernels;
  const kernelSteps: [string, () => void][] = k ? [
    ['kernels: pivotedCholesky ×2', () => { k.pivotedCholesky(gramB, R); k.pivotedCholesky(gramA, R); }],
    ['kernels: coreProduct', () => { k.coreProduct(cb, ca, coefficients, R); }],
    ['kernels: rowGram', () => { k.rowGram(core, cb.k, ca.k); }],
    ['kernels: topEigen', () => { k.topEigen(sym, cb.k, outRank); }],
    ['kernels: solveCholeskyTranspose ×2', () => { k.solveCholeskyTranspose(cb, R, x, outRank); k.solveCholeskyTranspose(ca, R, x, outRank); }],
  ] : [];
  return [
    ...kernelSteps,
    ['pivotedCholesky ×2', () => { code.cholesky.pivotedCholesky(gramB, R); code.cholesky.pivotedCholesky(gramA, R); }],
    ['rowGram', () => { code.dense.rowGram(core, cb.k, ca.k); }],
    ['topEigen', () => { code.eigen.topEigen(sym, cb.k, outRank); }],
    ['solveCholeskyTranspose ×2', () => { code.cholesky.solveCholeskyTranspose(cb, R, x, outRank); code.cholesky.solveCholeskyTranspose(ca, R, x, outRank); }],
  ];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length * 2), y = new Uint32Array(b.buffer, b.byteOffset, b.length * 2);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

async function main(): Promise<void> {
  const baselineDir = arg('baseline', '');
  const current: Code = { mix: currentMix, kernels: mixKernels(), cholesky: currentCholesky, dense: currentDense, eigen: currentEigen };
  const baseline = baselineDir ? await load(baselineDir) : undefined;
  const sizes = arg('sizes', '256,512').split(',').map(Number);
  const outRanks = arg('out-ranks', '64,128').split(',').map(Number);
  const repeats = numberArg('repeats', 5);
  const dim = numberArg('dim', 1024);
  console.log(`R×R steps of truncationMix; medians of ${repeats} alternating runs (ms), CPU of this process per run${baseline ? `; baseline ${baselineDir}` : ''}`);
  for (let s = 0; s < sizes.length; s++) {
    const R = sizes[s];
    const outRank = outRanks[Math.min(s, outRanks.length - 1)];
    const adapters = R / 64;
    const random = seededRandom(R);
    const gramA = gramOfFactors(random, R, dim, adapters);
    const gramB = gramOfFactors(random, R, dim, adapters);
    const coefficients = Float64Array.from({ length: R }, (_, t) => (Math.floor(t / 64) % 3 === 1 ? -0.5 : 1) * 2 / adapters);
    const engines: [string, Code][] = [['this', current], ...(baseline ? [['baseline', baseline] as [string, Code]] : [])];
    // same bits
    const outs = engines.map(([, code]) => code.mix.truncationMix(gramA, gramB, coefficients, outRank));
    if (baseline) {
      const same = sameBits(outs[0].mixA, outs[1].mixA) && sameBits(outs[0].mixB, outs[1].mixB) && sameBits(outs[0].sigma, outs[1].sigma) && outs[0].energyKept === outs[1].energyKept;
      console.log(`R = ${R}, out rank ${outRank}: outputs ${same ? 'bit-identical' : 'DIFFER'} to the baseline's`);
      if (!same) process.exitCode = 1;
    }
    const runs: [string, () => void][] = [];
    for (const [name, code] of engines) {
      runs.push([`${name} truncationMix`, () => { code.mix.truncationMix(gramA, gramB, coefficients, outRank); }]);
      for (const [step, run] of steps(code, gramA, gramB, coefficients, outRank)) runs.push([`${name} ${step}`, run]);
    }
    for (const [, run] of runs) run(); // warm up
    const wall = runs.map(() => [] as number[]);
    const cpu = runs.map(() => [] as number[]);
    for (let i = 0; i < repeats; i++) {
      runs.forEach(([, run], r) => {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        run();
        wall[r].push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu[r].push((c.user + c.system) / 1000);
      });
    }
    console.log(`R = ${R} (${adapters} × r64 → r${outRank}):`);
    runs.forEach(([name], r) => console.log(`  ${name.padEnd(40)} wall ${median(wall[r]).toFixed(1).padStart(8)}  cpu ${median(cpu[r]).toFixed(1).padStart(8)}`));
    if (baseline) {
      const base = runs.findIndex(([name]) => name === 'baseline truncationMix');
      const ratios = wall[0].map((w, i) => wall[base][i] / w);
      console.log(`  speed-up truncationMix: ${median(ratios).toFixed(2)}× wall (median of same-round ratios), ${(median(cpu[base]) / median(cpu[0])).toFixed(2)}× CPU (ratio of medians)`);
    }
  }
}

void main();
