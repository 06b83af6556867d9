/**
 * How many threads an svd merge uses, in one place for the merge and for bench/merge.ts (which times
 * the products itself and must give ONNX Runtime the threads the merge would).
 */
import * as os from 'node:os';

/**
 * svd mixing workers (mixPool.ts) for a merge of `modules` modules of inner rank up to `innerRank`:
 * none for a small merge (the R×R steps are cheap, a worker's start is not); for a large one, one
 * on up to 6 cores, then one per 3 cores, at most 4. Each worker means one more module prepared
 * ahead, its panels in memory (≈ 75 MB at 70B shapes, 4 × r64). On 16 cores one worker was the
 * merge's bottleneck (docs/benchmarks.md).
 */
export function defaultMixThreads(modules: number, innerRank: number, cores = os.availableParallelism()): number {
  if (modules < 8 || innerRank < 32) return 0;
  return Math.min(4, Math.max(1, Math.floor((cores - 1) / 3)));
}

/** Panels of modules prepared ahead may take this much memory (beside the module being written). */
export const PANELS_AHEAD_BUDGET = 256 * 1024 * 1024;

/**
 * How many modules the merge may prepare ahead when the largest module's panels take `panelBytes`:
 * at least one (the overlap of 2 cores), at most what fits PANELS_AHEAD_BUDGET. 70B shapes, bf16:
 * 4 × r64 (38 MB a module) → 5, 8 × r64 (75 MB) → 2, so 8 × r64 → r128 stays under 1 GB on 16 cores.
 */
export function modulesAhead(panelBytes: number, budget = PANELS_AHEAD_BUDGET): number {
  return Math.max(1, Math.floor(budget / Math.max(1, panelBytes)) - 1);
}

/**
 * ONNX Runtime's threads for the panel products beside `mixThreads` mixing workers: the other cores
 * (1 on 2 cores). Measured at 70B shapes on the shared 2-core box: 2 ORT threads beside the worker
 * cost 4.9–5.5 s of CPU for 2 layers, 1 thread 3.4 s; undefined (no workers): ORT's default, one per core.
 */
export function productThreads(mixThreads: number, cores = os.availableParallelism()): number | undefined {
  return mixThreads > 0 ? Math.max(1, cores - mixThreads) : undefined;
}

/**
 * The svd merge's split, as the merge makes it: `requested` mixing workers (default: defaultMixThreads),
 * capped by the modules that fit ahead in memory, and ORT's threads beside them.
 */
export function svdThreads(merge: { modules: number; innerRank: number; panelBytes: number; requested?: number }, cores = os.availableParallelism()): { mix: number; ort: number | undefined } {
  const mix = Math.min(merge.requested ?? defaultMixThreads(merge.modules, merge.innerRank, cores), modulesAhead(merge.panelBytes));
  return { mix, ort: productThreads(mix, cores) };
}

