/**
 * Weights-step timing at encoder size (D = 768): building C (the unavoidable O(k²D) baseline) vs
 * solveAll (C + every strategy + the λ-path), which the editor reruns on every keystroke.
 * Run: node --import tsx bench/solver.ts
 */
import { performance } from 'node:perf_hooks';
import { costMatrix, solveAll } from '../server/src/engine/weights';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function medianMs(run: () => void, repeats: number): number {
  for (let i = 0; i < Math.max(50, repeats >> 2); i++) run(); // warm up the JIT
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

const dim = 768;
const random = seeded(7);
const gaussian = () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-300))) * Math.cos(2 * Math.PI * random());
console.log(`D = ${dim}; median of repeated runs`);
console.log('k    C only (ms)   solveAll (ms)   ratio   path breakpoints');
for (const k of [8, 32, 64]) {
  // A target near an affine mix of the prototypes (some coefficients negative), as a task related to
  // the library looks: lin then has negative weights and the λ-path has many breakpoints.
  const prototypes = Array.from({ length: k }, () => Float64Array.from({ length: dim }, gaussian));
  const mix = Array.from({ length: k }, gaussian);
  const total = mix.reduce((a, b) => a + b, 0);
  const target = Float64Array.from({ length: dim }, (_, d) => prototypes.reduce((s, p, i) => s + (mix[i] / total) * p[d], 0) + 0.3 * gaussian());
  const names = prototypes.map((_, i) => `adapter-${i}`);
  const repeats = k <= 8 ? 400 : k <= 32 ? 100 : 40;
  let breakpoints = 0;
  const all = medianMs(() => { breakpoints = solveAll({ target, prototypes, names }, { strategy: 'sparse' }).lambdaPath.breakpoints.length; }, repeats);
  const c = medianMs(() => costMatrix(target, prototypes), repeats);
  console.log(`${String(k).padEnd(4)} ${c.toFixed(3).padStart(11)}   ${all.toFixed(3).padStart(13)}   ${(all / c).toFixed(1).padStart(5)}   ${breakpoints}`);
}
