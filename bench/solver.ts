/**
 * Weights-step timing at encoder size (D = 768): building the matrices (C, the unavoidable O(k²D)
 * baseline, plus the lasso's Gram, derived from C in O(k²) after one O(kD) pass) vs solveAll (the
 * matrices + every strategy + both λ-paths, constrained and lasso), which the editor reruns on every
 * keystroke. "solve" is solveAll minus the matrices, measured in the same run.
 * Run: node --import tsx bench/solver.ts
 */
import { performance } from 'node:perf_hooks';
import { costMatrix, lassoData, solveAll } from '../server/src/engine/weights';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Medians of several timed functions, run round-robin so a busy machine slows each alike. */
function mediansMs(runs: (() => void)[], repeats: number): number[] {
  for (let i = 0; i < Math.max(50, repeats >> 2); i++) for (const run of runs) run(); // warm up the JIT
  const times = runs.map(() => [] as number[]);
  for (let i = 0; i < repeats; i++) {
    runs.forEach((run, r) => {
      const start = performance.now();
      run();
      times[r].push(performance.now() - start);
    });
  }
  return times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]);
}

const dim = 768;
const random = seeded(7);
const gaussian = () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-300))) * Math.cos(2 * Math.PI * random());
console.log(`D = ${dim}; median of repeated runs`);
console.log('k    C (ms)   C + lasso Gram (ms)   solveAll (ms)   solve = solveAll − matrices (ms)   solveAll / C   breakpoints (constrained, lasso)');
for (const k of [8, 32, 64]) {
  // A target near an affine mix of the prototypes (some coefficients negative), as a task related to
  // the library looks: lin then has negative weights and the λ-path has many breakpoints.
  const prototypes = Array.from({ length: k }, () => Float64Array.from({ length: dim }, gaussian));
  const mix = Array.from({ length: k }, gaussian);
  const total = mix.reduce((a, b) => a + b, 0);
  const target = Float64Array.from({ length: dim }, (_, d) => prototypes.reduce((s, p, i) => s + (mix[i] / total) * p[d], 0) + 0.3 * gaussian());
  const names = prototypes.map((_, i) => `adapter-${i}`);
  const repeats = k <= 8 ? 400 : k <= 32 ? 200 : 100;
  let breakpoints = '';
  const [c, matrices, all] = mediansMs([
    () => costMatrix(target, prototypes),
    () => lassoData(target, prototypes, costMatrix(target, prototypes)),
    () => {
      const paths = solveAll({ target, prototypes, names }, { strategy: 'sparse' }).lambdaPaths;
      breakpoints = `${paths.constrained?.breakpoints.length}, ${paths.lasso?.breakpoints.length}`;
    },
  ], repeats);
  console.log(`${String(k).padEnd(4)} ${c.toFixed(3).padStart(6)}   ${matrices.toFixed(3).padStart(19)}   ${all.toFixed(3).padStart(13)}   ${(all - matrices).toFixed(3).padStart(32)}   ${(all / c).toFixed(1).padStart(12)}   ${breakpoints}`);
}
