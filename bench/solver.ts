/**
 * Weights-step timing at encoder size (D = 768), what the editor pays per keystroke:
 * - C: the cost matrix (the unavoidable O(k²D) pass every strategy shares);
 * - solveAll: C + every strategy + both λ-paths (constrained and lasso), a new problem from nothing;
 * - solve = solveAll − C;
 * - re-solve: the planner's kept session (planner/weightsSessions.ts) answering a re-plan that changed
 *   only ρ (a new sparse point, the other strategies read off the cached matrices and paths).
 * `--baseline DIR` imports the engine of another checkout (e.g. a worktree of main before a change) and
 * times it round-robin with this one on the same problems: ratios from one run, one machine load.
 * `--problems N` (default 1) times N problems of the same family per k (the first is always the one
 * timed alone; the others from their own seeds): each problem's row, then the median and the slowest,
 * so one lucky problem does not stand for the family.
 * Run: node --import tsx bench/solver.ts [--baseline DIR] [--problems N] [--repeats N] [--quantile Q]
 */
import { performance } from 'node:perf_hooks';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as current from '../server/src/engine/weights';
import { arg, numberArg } from './args';
import { seededRandom } from '../server/src/engine/random';

type Engine = Pick<typeof current, 'costMatrix' | 'solveAll'> & { WeightsSession?: typeof current.WeightsSession };

/**
 * Medians (or another quantile: `--quantile 0.1` reads past a busy machine's preemptions) of several
 * timed functions, run round-robin so a busy machine slows each alike.
 */
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
  const quantile = numberArg('quantile', 0.5);
  return times.map((t) => t.sort((a, b) => a - b)[Math.min(t.length - 1, Math.floor(t.length * quantile))]);
}


interface Problem { target: Float64Array; prototypes: Float64Array[]; names: string[] }

/**
 * A target near an affine mix of k Gaussian prototypes (some coefficients negative), as a task related
 * to the library looks: lin then has negative weights and the λ-paths have many breakpoints.
 */
function problemOf(k: number, dim: number, random: () => number): Problem {
  const gaussian = () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-300))) * Math.cos(2 * Math.PI * random());
  const prototypes = Array.from({ length: k }, () => Float64Array.from({ length: dim }, gaussian));
  const mix = Array.from({ length: k }, gaussian);
  const total = mix.reduce((a, b) => a + b, 0);
  const target = Float64Array.from({ length: dim }, (_, d) => prototypes.reduce((s, p, i) => s + (mix[i] / total) * p[d], 0) + 0.3 * gaussian());
  return { target, prototypes, names: prototypes.map((_, i) => `adapter-${i}`) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function main(): Promise<void> {
  const baselineDir = arg('baseline', '') || undefined;
  const baseline: Engine | undefined = baselineDir
    ? ((await import(pathToFileURL(path.resolve(baselineDir, 'server/src/engine/weights/index.ts')).href)) as Engine)
    : undefined;
  const dim = 768;
  const problemCount = Math.max(1, Math.floor(numberArg('problems', 1)));
  // The first problem of each k from one stream (k = 8, 32, 64 in turn: the problems timed before
  // --problems existed), the others each from a seed of its own.
  const random = seededRandom(7);
  const ks = [8, 32, 64];
  const families = ks.map((k) => [problemOf(k, dim, random), ...Array.from({ length: problemCount - 1 }, (_, p) => problemOf(k, dim, seededRandom(1000 * k + p + 1)))]);
  console.log(`D = ${dim}; quantile ${numberArg('quantile', 0.5)} of repeated runs (ms)${problemCount > 1 ? `; ${problemCount} problems per k` : ''}${baseline ? `; baseline: ${baselineDir}` : ''}`);
  console.log(['k', ...(problemCount > 1 ? ['problem'] : []), 'C', 'solveAll', 'solve', 're-solve (ρ)', 'breakpoints (constrained, lasso)', ...(baseline ? ['baseline solveAll', 'baseline solve', 'solveAll speed-up'] : [])].join(' | '));
  ks.forEach((k, ki) => {
    const repeats = numberArg('repeats', k <= 8 ? 400 : k <= 32 ? 200 : 100);
    const rows: number[][] = [];
    const runs: (() => void)[] = [];
    const breakpoints: string[] = [];
    families[ki].forEach((problem, p) => {
      const session = new current.WeightsSession(problem);
      session.solveAll({ strategy: 'sparse' });
      let rho = 0;
      runs.push(
        () => current.costMatrix(problem.target, problem.prototypes),
        () => {
          const paths = current.solveAll(problem, { strategy: 'sparse' }).lambdaPaths;
          breakpoints[p] = `${paths.constrained?.breakpoints.length}, ${paths.lasso?.breakpoints.length}`;
        },
        () => { rho = (rho + 0.37) % 1; session.solveAll({ strategy: 'sparse', rho }); },
      );
      if (baseline) runs.push(() => baseline.costMatrix(problem.target, problem.prototypes), () => baseline.solveAll(problem, { strategy: 'sparse' }));
    });
    const times = mediansMs(runs, repeats);
    const per = runs.length / families[ki].length;
    families[ki].forEach((_, p) => rows.push(times.slice(p * per, (p + 1) * per)));
    const line = (label: string[], [c, all, resolve, baseC, baseAll]: number[], bp: string) => {
      const row = [String(k), ...label, c.toFixed(3), all.toFixed(3), (all - c).toFixed(3), resolve.toFixed(3), bp];
      if (baseline) row.push(baseAll.toFixed(3), (baseAll - baseC).toFixed(3), `${(baseAll / all).toFixed(2)}×`);
      console.log(row.join(' | '));
    };
    if (problemCount === 1) { line([], rows[0], breakpoints[0]); return; }
    rows.forEach((r, p) => line([String(p + 1)], r, breakpoints[p]));
    // Each column's median over the problems, then the slowest problem's row (by solveAll).
    line(['median'], rows[0].map((_, i) => median(rows.map((r) => r[i]))), '');
    const slowest = rows.reduce((worst, r, p) => (r[1] > rows[worst][1] ? p : worst), 0);
    line([`slowest (${slowest + 1})`], rows[slowest], breakpoints[slowest]);
  });
}

void main();
