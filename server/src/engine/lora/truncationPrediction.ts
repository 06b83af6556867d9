/**
 * What an svd merge to rank r would lose, known before composing (plan's `merge.predicted`, the
 * code lens' ⚠): the same panels and Grams the merge reads, no dense ΔW and no output written.
 */
import { openAdapter } from './formats';
import { planMerge, readPanels, validateInputs } from './mergePlanning';
import type { MergeInput } from './mergeTypes';
import { factorGramsJs } from './panelProducts';
import { Scratch } from './scratch';
import { truncationMix } from './truncatedProduct';

/** What an svd merge to `rank` would lose, known before composing. */
export interface TruncationPrediction {
  rank: number;
  /** Modules whose summed rank exceeds `rank` (only those are truncated). */
  truncatedModules: number;
  modules: number;
  /** Fraction of ‖ΔW‖²_F kept: the smallest over modules, and over all modules together. */
  energyKept: { min: number; overall: number };
  /** ‖ΔW − ΔW_r‖_F / ‖ΔW‖_F: the largest over modules, and over all modules together. */
  relativeError: { max: number; overall: number };
}

/**
 * The truncation an svd merge would make, from the factors alone: per module the Grams A·Aᵀ and Bᵀ·B
 * of the concatenated factors (R×R, R = Σ rᵢ) and the eigenvalues of the small core give the
 * singular values of Σ wᵢ ΔWᵢ; what falls beyond `rank` is the loss. No dense ΔW, no output written.
 */
export async function predictTruncation(inputs: MergeInput[], rank: number): Promise<TruncationPrediction> {
  validateInputs(inputs, { method: 'svd', rank });
  const adapters = inputs.map((i) => openAdapter(i.path));
  const { plans } = planMerge(inputs, adapters, { method: 'svd', rank }, []);
  const scratch = new Scratch();
  let truncated = 0;
  let minKept = 1;
  let maxError = 0;
  let total = 0;
  let kept = 0;
  for (const plan of plans) {
    const panels = readPanels(adapters, plan, scratch);
    const grams = factorGramsJs(panels);
    // ‖B·diag(c)·A‖²_F = Σ_st c_s·c_t·(AAᵀ)_st·(BᵀB)_st
    const R = plan.innerRank;
    const c = panels.coefficients;
    let energy = 0;
    for (let x = 0; x < R; x++) for (let y = 0; y < R; y++) energy += c[x] * c[y] * grams.a[x * R + y] * grams.b[x * R + y];
    energy = Math.max(0, energy);
    total += energy;
    if (R <= rank) { kept += energy; continue; }
    truncated++;
    const mix = truncationMix(grams.a, grams.b, c, rank);
    minKept = Math.min(minKept, mix.energyKept);
    maxError = Math.max(maxError, Math.sqrt(Math.max(0, 1 - mix.energyKept)));
    kept += energy * mix.energyKept;
  }
  const overall = total > 0 ? kept / total : 1;
  return {
    rank,
    truncatedModules: truncated,
    modules: plans.length,
    energyKept: { min: minKept, overall },
    relativeError: { max: maxError, overall: Math.sqrt(Math.max(0, 1 - overall)) },
  };
}
