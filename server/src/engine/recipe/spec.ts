/**
 * The recipe as typed data (format 1), with the defaults the schema declares filled in.
 * `applyDefaults` is tolerant: it never throws on ill-typed input, but the result is only
 * trustworthy when `checkRecipe` reported no errors.
 */
import type { SparseForm, Strategy, TargetSource } from '../types';
import { DEFAULT_RHO } from '../weights/sparse';
import { DEFAULT_SPARSE_FORM } from '../weights/forms';

export const RECIPE_FORMAT = 1;

export const MERGE_METHODS = ['cat', 'svd', 'ties', 'dare_linear', 'dare_ties', 'magnitude_prune'] as const;
/** The entry-wise methods (on the dense wᵢ·ΔWᵢ), which take density, seed and normalize. */
export const ENTRYWISE_MERGE_METHODS: readonly MergeMethod[] = ['ties', 'dare_linear', 'dare_ties', 'magnitude_prune'];
/** The methods that draw random masks (and so record their seed). */
export const SEEDED_MERGE_METHODS: readonly MergeMethod[] = ['dare_linear', 'dare_ties'];
export type MergeMethod = (typeof MERGE_METHODS)[number];
export const MERGE_DTYPES = ['auto', 'f32', 'f16', 'bf16'] as const;
export type MergeDtype = (typeof MERGE_DTYPES)[number];
export const MODULES_TO_SAVE_POLICIES = ['refuse', 'drop', 'average'] as const;
export type ModulesToSavePolicy = (typeof MODULES_TO_SAVE_POLICIES)[number];
export const TARGET_SOURCES: readonly TargetSource[] = ['samples', 'features', 'prototype', 'text'];

/** Placeholders `evaluate.command` may use. */
export const EVALUATE_PLACEHOLDERS = ['output', 'name', 'recipe', 'lock'] as const;

export const RECIPE_DEFAULTS = {
  k: 5,
  strategy: 'sparse' as Strategy,
  /** sparse: λ = ρ·λ* (scale-free); the same default as `--strategy sparse`. */
  rho: DEFAULT_RHO,
  form: DEFAULT_SPARSE_FORM,
  /** Exact (Σ wᵢ ΔWᵢ, rank Σrᵢ); svd truncates when its rank is below Σrᵢ. */
  method: 'cat' as MergeMethod,
  rank: 16,
  density: 0.2,
  seed: 0,
  normalize: false,
  dtype: 'auto' as MergeDtype,
  modulesToSave: 'refuse' as ModulesToSavePolicy,
  evaluateTimeout: 600,
};

/** Exactly one source, as written (samples always a list of globs). */
export interface TargetSpec {
  samples?: string[];
  features?: string;
  prototype?: string;
  text?: string;
}

export interface RetrieveSpec {
  k: number;
  exclude: string[];
  /** LanceDB SQL filter. */
  where?: string;
  /** Pinned candidates: used instead of the k nearest. */
  adapters?: string[];
}

export interface WeightsSpec {
  strategy: Strategy;
  /** sparse only: the absolute penalty, or 'auto' (ρ chosen by leave-one-out). Exclusive with rho. */
  lambda?: number | 'auto';
  /** sparse only: λ = ρ·λ*. When neither lambda nor rho is given the weights step uses DEFAULT_RHO. */
  rho?: number;
  /** sparse only: constrained | lasso (default DEFAULT_SPARSE_FORM). */
  form?: SparseForm;
  /** sim only; default: the median of the k squared distances. */
  temperature?: number;
  /** manual only: adapter name → weight. */
  manual?: Record<string, number>;
}

export interface MergeSpec {
  method: MergeMethod;
  /** svd and the entry-wise methods. */
  rank: number;
  /** Entry-wise methods only: fraction of entries kept (default 0.2). */
  density?: number;
  /** dare_linear / dare_ties only: the mask seed (default 0). */
  seed?: number;
  /** Entry-wise methods only: mergekit's normalize (default false: the surviving entries are summed). */
  normalize?: boolean;
  dtype: MergeDtype;
  modules_to_save: ModulesToSavePolicy;
}

export interface EvaluateSpec {
  /** argv; placeholders like {output} still unsubstituted. Empty for a built-in evaluator. */
  command: string[];
  /** Seconds. */
  timeout: number;
  /** A built-in evaluator (runs no program); paths as written, relative to the recipe. */
  builtin?: BuiltinEvaluateSpec;
}

export interface BuiltinEvaluateSpec {
  kind: 'classification';
  model: string;
  data: string;
  labels: string;
}

export interface RecipeSpec {
  compose: 1;
  /** Default: the recipe file name without `.compose.yaml`. */
  name: string;
  description?: string;
  base: string;
  /** As written: a folder relative to the recipe, or a URI. See resolveRecipePaths. */
  library: string;
  target: TargetSpec;
  retrieve: RetrieveSpec;
  weights: WeightsSpec;
  merge: MergeSpec;
  /** As written, relative to the recipe. */
  output: string;
  evaluate?: EvaluateSpec;
}

/** Which target field the recipe gives (the first, when it wrongly gives several). */
export function targetSource(target: TargetSpec): TargetSource | undefined {
  return TARGET_SOURCES.find((s) => target[s] !== undefined);
}

/** The recipe name a file implies: its base name without `.compose.yaml` (or `.yaml`/`.yml`). */
export function recipeNameFromFile(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/(\.compose)?\.ya?ml$/i, '') || base;
}

/** Typed spec with defaults filled in, from the raw YAML data. */
export function applyDefaults(data: Record<string, unknown>, file: string): RecipeSpec {
  const retrieve = asRecord(data.retrieve);
  const weights = asRecord(data.weights);
  const merge = asRecord(data.merge);
  const target = asRecord(data.target);
  const strategy = (typeof weights.strategy === 'string' ? weights.strategy : RECIPE_DEFAULTS.strategy) as Strategy;

  const targetSpec: TargetSpec = {};
  if (target.samples !== undefined) targetSpec.samples = Array.isArray(target.samples) ? (target.samples as string[]) : [target.samples as string];
  for (const key of ['features', 'prototype', 'text'] as const) if (target[key] !== undefined) targetSpec[key] = target[key] as string;

  const weightsSpec: WeightsSpec = { strategy };
  if (weights.lambda !== undefined && weights.lambda !== null) weightsSpec.lambda = weights.lambda as number | 'auto';
  if (typeof weights.rho === 'number') weightsSpec.rho = weights.rho;
  else if (strategy === 'sparse' && weightsSpec.lambda === undefined) weightsSpec.rho = RECIPE_DEFAULTS.rho;
  if (typeof weights.form === 'string') weightsSpec.form = weights.form as SparseForm;
  else if (strategy === 'sparse') weightsSpec.form = RECIPE_DEFAULTS.form;
  if (typeof weights.temperature === 'number') weightsSpec.temperature = weights.temperature;
  if (weights.manual !== undefined && weights.manual !== null) weightsSpec.manual = weights.manual as Record<string, number>;

  const spec: RecipeSpec = {
    compose: 1,
    name: typeof data.name === 'string' ? data.name : recipeNameFromFile(file),
    base: data.base as string,
    library: data.library as string,
    target: targetSpec,
    retrieve: {
      k: typeof retrieve.k === 'number' ? retrieve.k : RECIPE_DEFAULTS.k,
      exclude: Array.isArray(retrieve.exclude) ? (retrieve.exclude as string[]) : [],
    },
    weights: weightsSpec,
    merge: {
      method: (merge.method as MergeMethod) ?? RECIPE_DEFAULTS.method,
      rank: typeof merge.rank === 'number' ? merge.rank : RECIPE_DEFAULTS.rank,
      dtype: (merge.dtype as MergeDtype) ?? RECIPE_DEFAULTS.dtype,
      modules_to_save: (merge.modules_to_save as ModulesToSavePolicy) ?? RECIPE_DEFAULTS.modulesToSave,
    },
    output: data.output as string,
  };
  const method = spec.merge.method;
  if (ENTRYWISE_MERGE_METHODS.includes(method)) {
    spec.merge.density = typeof merge.density === 'number' ? merge.density : RECIPE_DEFAULTS.density;
    spec.merge.normalize = typeof merge.normalize === 'boolean' ? merge.normalize : RECIPE_DEFAULTS.normalize;
    if (SEEDED_MERGE_METHODS.includes(method)) spec.merge.seed = typeof merge.seed === 'number' ? merge.seed : RECIPE_DEFAULTS.seed;
  }
  if (typeof data.description === 'string') spec.description = data.description;
  if (typeof retrieve.where === 'string') spec.retrieve.where = retrieve.where;
  if (Array.isArray(retrieve.adapters)) spec.retrieve.adapters = retrieve.adapters as string[];
  const evaluate = asRecord(data.evaluate);
  if (data.evaluate !== undefined && data.evaluate !== null) {
    spec.evaluate = {
      command: Array.isArray(evaluate.command) ? (evaluate.command as string[]) : [],
      timeout: typeof evaluate.timeout === 'number' ? evaluate.timeout : RECIPE_DEFAULTS.evaluateTimeout,
    };
    if (evaluate.builtin === 'classification') {
      spec.evaluate.builtin = { kind: 'classification', model: text(evaluate.model), data: text(evaluate.data), labels: text(evaluate.labels) };
    }
  }
  return spec;
}

/** A path-like field as text ('' when absent; a non-string is the schema check's to report). */
function text(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
