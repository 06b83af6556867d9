/**
 * The shapes that cross module boundaries: the plan (what `plan --json` prints, what the language
 * service shows, what the webview draws) and a library row. Plain data, JSON-serialisable.
 */

export const STRATEGIES = ['avg', 'sim', 'lin', 'sparse', 'convex', 'nearest', 'manual'] as const;
export type Strategy = (typeof STRATEGIES)[number];
/**
 * The two forms of `sparse`: `constrained` (min wᵀCw + λ‖w‖₁ s.t. Σw = 1, Eq. 5) and `lasso` (the
 * non-negative Lasso min ½‖t − Σwᵢpᵢ‖² + λ‖w‖₁, w ≥ 0, then normalised to Σw = 1).
 */
export const SPARSE_FORMS = ['constrained', 'lasso'] as const;
export type SparseForm = (typeof SPARSE_FORMS)[number];

/** Parameters of the weights step, as the recipe gives them. */
export interface WeightsParams {
  strategy: Strategy;
  /** sparse: the absolute L1 penalty λ ≥ 0 (exclusive with rho). */
  lambda?: number;
  /** sparse: the scale-free penalty ρ ≥ 0, λ = ρ·λ* (0 is lin, ≥ 1 is the form's λ* end). */
  rho?: number;
  /** sparse: which problem the penalty applies to (default DEFAULT_SPARSE_FORM). */
  form?: SparseForm;
  /** sim: the softmax temperature τ > 0; default: the median of the k squared distances. */
  temperature?: number;
  /** manual: adapter name → weight. */
  manual?: Record<string, number>;
}

export interface StrategyResult {
  /** Adapter name → weight, in candidate order (nearest first). */
  weights: Record<string, number>;
  /** ‖t − Σwᵢpᵢ‖² (+ λ‖w‖₁ for sparse). */
  objective: number;
  /** ‖t − Σwᵢpᵢ‖₂ */
  residual: number;
  /** Number of weights with |w| > 1e-12. */
  nonzero: number;
  /** sparse: the λ it was computed with, λ* of its form, ρ = λ/λ* and the form. */
  lambda?: number;
  lambda_star?: number;
  rho?: number;
  form?: SparseForm;
  temperature?: number;
}

/** One breakpoint of the sparse λ-path: between breakpoints every weight is linear in λ. */
export interface LambdaBreakpoint {
  lambda: number;
  weights: number[];
}

export interface LambdaPath {
  /** Candidate names, the order of each breakpoint's `weights`. */
  names: string[];
  /** λ = 0 (the `lin` solution) first, λ* (the `convex` solution) last. */
  breakpoints: LambdaBreakpoint[];
  lambda_star: number;
  /** The sparse form this path solves (absent: constrained). */
  form?: SparseForm;
}

export interface Candidate {
  name: string;
  /** Squared L2 distance between the target prototype and this adapter's prototype. */
  distance: number;
}

export type TargetSource = 'samples' | 'features' | 'prototype' | 'text';

export interface PlanJson {
  recipe: string;
  /** norm: ‖t‖₂ of the target prototype (float64). */
  target: { dim: number; source: TargetSource; count: number; sha256?: string; norm?: number };
  candidates: Candidate[];
  /** ‖pᵢ − pⱼ‖² between the candidates' prototypes, in candidate order (float64). */
  candidate_distances?: number[][];
  strategies: Partial<Record<Strategy, StrategyResult>>;
  strategy: Strategy;
  /** The λ-path of the recipe's sparse form (what the chart draws). */
  lambda_path?: LambdaPath;
  /** The merge the recipe asks for, and whether it is exact (Σ wᵢ ΔWᵢ) or truncates. */
  merge?: MergePlan;
  /** Both forms' λ-paths. */
  lambda_paths?: Partial<Record<SparseForm, LambdaPath>>;
  library?: { uri: string; version: number; size: number; encoder?: EncoderInfo };
  provider?: string;
  warnings: string[];
}

export interface MergePlan {
  /** cat, svd, or an entry-wise method (ties, dare_linear, dare_ties, magnitude_prune). */
  method: 'cat' | 'svd' | 'ties' | 'dare_linear' | 'dare_ties' | 'magnitude_prune';
  /** svd and the entry-wise methods. */
  rank?: number;
  /** Entry-wise methods only. */
  density?: number;
  /** Σ rᵢ of the adapters with a nonzero weight under the selected strategy. */
  total_rank: number;
  /** False when svd's rank is below total_rank: the composite is then not Σ wᵢ ΔWᵢ. */
  exact: boolean;
  /** `plan` (CLI) only, when it truncates: computed from the factors before composing. */
  predicted?: { energy_kept: { min: number; overall: number }; relative_error: { max: number; overall: number }; truncated_modules: number; modules: number };
}

export interface EncoderInfo {
  /** sha256 of the ONNX file that made the library's prototypes (absent for a `--dim` library). */
  sha256?: string;
  dim: number;
  /** Where the encoder file lives, relative to the library folder when it was copied into it. */
  path?: string;
}

/** One adapter of the library (one LanceDB row). */
export interface AdapterRecord {
  name: string;
  base: string;
  /** The most common rank over modules; `ranks` holds per-module exceptions. */
  rank: number;
  alpha: number;
  target_modules: string[];
  format: string;
  /** Absolute path or URI of the adapter folder/file. */
  path: string;
  sha256: string;
  prototype: number[];
  description: string;
  tags: string[];
  created_at: string;
  /** Extra facts from the adapter (dtype, rslora, per-module ranks/alphas, modules_to_save), as JSON. */
  details?: string;
}

/** How a recipe's external evaluator went (absent when the recipe has none or it was skipped). */
export interface EvaluationOutcome {
  status: 'ok' | 'failed' | 'timeout' | 'invalid-output' | 'cancelled';
  /** The argv that ran, placeholders substituted. */
  command: string[];
  /** Numeric metrics the evaluator printed (nested objects flattened as `a.b`). */
  metrics: Record<string, number>;
  exit_code: number | null;
  duration_ms: number;
  /** What went wrong, for any status but ok. */
  message?: string;
}

/** One compose of a recipe, as the run history (LanceDB table `runs`) keeps it. */
export interface RunHistoryEntry {
  id: string;
  /** ISO time the run finished. */
  time: string;
  /** The recipe, relative to where the history lives (the library folder, or the workspace). */
  recipe: string;
  name: string;
  recipe_sha256: string;
  /** sha256 of the lock file the compose wrote. */
  lock_sha256: string;
  library_version: number;
  strategy: string;
  /** k, λ, temperature, … as in the lock. */
  parameters: Record<string, unknown>;
  weights: Record<string, number>;
  /** The evaluator's numeric metrics; empty when no evaluator ran. */
  metrics: Record<string, number>;
  evaluation?: EvaluationOutcome;
  /** Output folder of the composite, relative like `recipe`. */
  output: string;
  tool_version: string;
}
